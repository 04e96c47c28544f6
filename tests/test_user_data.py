"""User data by hand (MEASURES.md "User data", the mapping of dbt_project.yml): a disposition set
during the talk and changed in after-call work once the call has ended (CALL keeps the first,
PARTY the second), a transfer whose two agents set it in their own after-call work, a note longer
than its column (cut and counted), the business attributes in USER_DATA_CUST_DIM_1 and ag2_id,
and the late after-call-work changes landing in a second cycle ending in the rows of a full
rebuild. Times are seconds after BASE; the expected values are worked out by hand in each test.

  c-acw (gold, en): a1's party p1 rings 1, established 3; disposition=pending at 20 (talk);
    released 60, CallEnded 61; a1 in after-call work 62-100, sets disposition=sale and a 60-char
    note at 80.  -> p1: CALL disposition pending, PARTY disposition sale, note cut to 40.
  c-xfer (silver): a2's party pa established 201, transfers to a3 (pb) at 250, released 251;
    a2 in after-call work 252-270 sets disposition=escalated at 260 (the call still up); pb
    established 253, released 300, CallEnded 301; a3 in after-call work 302-330 sets
    disposition=resolved at 320.  -> CALL escalated on both rows; PARTY escalated on pa,
    resolved on pb.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from infomart.settings import Settings
from tests.conftest import EventFactory
from tests.helpers import build_models, land_events

BASE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SELECT = [
    "--select",
    "+irf_user_data_gen_1 +irf_user_data_cust_1 +user_data_cust_dim_1"
    " +dq_user_data_truncations +ag2_id_subhr",
]
NOTE = "customer asked for a refund of the invoice of last month too"  # 60 characters, column of 40


def ts(seconds: float) -> str:
    return (BASE + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Voice:
    """voice-callthread events of one call."""

    def __init__(self, f: EventFactory, call_id: str, at: float, user_data: dict) -> None:
        self.f, self.call_id, self.events = f, call_id, []
        self.add(
            "CallCreated", at, thread_id=f"t-{call_id}", call_type="Inbound", ani="+15550001",
            dnis="+18005550100", user_data=user_data,
        )  # fmt: skip
        self.party("cust", at + 0.1, dn="+15550001", dn_type="External", agent_id=None, reason="New")

    def add(self, type_: str, at: float, **fields: object) -> Voice:
        self.events.append(self.f.make(type_, ts(at), call_id=self.call_id, **fields))
        return self

    def party(self, party_id: str, at: float, **fields: object) -> Voice:
        fields.setdefault("initiator_party_id", None)
        return self.add("PartyAdded", at, party_id=party_id, **fields)

    def agent(
        self, party_id: str, at: float, agent: str, reason: str = "New", initiator: str | None = None
    ) -> Voice:
        return self.party(
            party_id, at, dn=f"70{agent[-1]}", dn_type="Extension", agent_id=agent, reason=reason,
            initiator_party_id=initiator,
        )  # fmt: skip

    def step(self, type_: str, at: float, party_id: str, **fields: object) -> Voice:
        return self.add(type_, at, party_id=party_id, **fields)

    def user_data(self, at: float, **data: object) -> dict:
        return self.f.make("UserDataChanged", ts(at), call_id=self.call_id, user_data=data)


def states(f: EventFactory, agent: str, acw_from: float, acw_to: float) -> list[dict]:
    def state(type_: str, at: float, **fields: object) -> dict:
        return f.make(type_, ts(at), source="sip-a", agent_id=agent, **fields)

    return [
        state("AgentLogin", -10, dn=f"70{agent[-1]}", place=f"p-{agent}", queues=[]),
        state("AgentReady", -9),
        state("AgentNotReady", acw_from, workmode="AfterCallWork", reason_code=None),
        state("AgentReady", acw_to),
    ]


def scenario(f: EventFactory) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """Cycle 1: everything but the two changes made once the call had ended; cycle 2: those."""
    c1 = Voice(f, "c-acw", 0, {"segment": "gold", "lang": "en"})
    c1.agent("p1", 0.2, "a1").step("Ringing", 1, "p1").step("Established", 3, "p1")
    during_talk = c1.user_data(20, disposition="pending")
    c1.step("Released", 60, "p1", cause="Normal").step("Released", 60.5, "cust", cause="Normal")
    c1.add("CallEnded", 61)
    after_call_1 = c1.user_data(80, disposition="sale", note=NOTE)

    c2 = Voice(f, "c-xfer", 199, {"segment": "silver"})
    c2.agent("pa", 199.2, "a2").step("Ringing", 200, "pa").step("Established", 201, "pa")
    c2.agent("pb", 250, "a3", reason="Transfer", initiator="pa").step(
        "Released", 251, "pa", cause="Transferred"
    )
    c2.step("Ringing", 251.5, "pb").step("Established", 253, "pb")
    during_call = c2.user_data(260, disposition="escalated")
    c2.step("Released", 300, "pb", cause="Normal").step("Released", 300.5, "cust", cause="Normal")
    c2.add("CallEnded", 301)
    after_call_2 = c2.user_data(320, disposition="resolved")

    agent_states = states(f, "a1", 62, 100) + states(f, "a2", 252, 270) + states(f, "a3", 302, 330)
    cycle1 = {
        "voice-callthread": [*c1.events, during_talk, *c2.events, during_call],
        "voice-agentstate": agent_states,
    }
    cycle2 = {"voice-callthread": [after_call_1, after_call_2]}
    return cycle1, cycle2


def user_data_rows(dsn: str) -> dict[str, tuple]:
    """party -> (disposition PARTY, call_disposition CALL, agent_note, customer_segment, language)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select irf.party_id, gen.disposition, gen.call_disposition, cust.agent_note,"
            " dim.customer_segment, dim.language"
            " from infomart.interaction_resource_fact as irf"
            " join infomart.irf_user_data_gen_1 as gen using (interaction_resource_id)"
            " join infomart.irf_user_data_cust_1 as cust using (interaction_resource_id)"
            " join infomart.irf_user_data_keys as keys using (interaction_resource_id)"
            " join infomart.user_data_cust_dim_1 as dim using (user_data_cust_dim_1_key)"
        ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def all_rows(dsn: str) -> dict[str, list[tuple]]:
    tables = ("irf_user_data_gen_1", "irf_user_data_cust_1", "irf_user_data_keys", "user_data_cust_dim_1")
    with psycopg.connect(dsn) as conn:
        out = {t: conn.execute(f"select * from infomart.{t} order by 1").fetchall() for t in tables}
        out["ag2_id_subhr"] = conn.execute(
            "select date_time_key, user_data_cust_dim_1_key, entered, answered"
            " from infomart.ag2_id_subhr order by 1, 2"
        ).fetchall()
        out["dq"] = conn.execute(
            "select column_name, values_cut, longest_value_length"
            " from infomart.dq_user_data_truncations order by 1"
        ).fetchall()
    for t in ("irf_user_data_gen_1", "irf_user_data_cust_1", "irf_user_data_keys"):
        # leave the landing and audit bookkeeping out (the last three columns)
        out[t] = [r[:-3] for r in out[t]]
    return out


def test_call_and_party_rules_through_after_call_work_cycle_by_cycle(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"lookback_minutes": 0})
    dsn = settings.pg_dsn
    assert dsn
    cycle1, cycle2 = scenario(EventFactory())

    land_events(settings, tmp_path / "c1", cycle1)
    build_models(settings, SELECT, tests=False)
    # before the after-call-work changes land: p1 has only "pending" (set at 20, in force at the
    # call's end 61 and at the end of a1's after-call work 100); pb has "escalated" under both
    # rules (set at 260, before the call ended at 301 and before a3's after-call work ended)
    assert user_data_rows(dsn) == {
        "p1": ("pending", "pending", None, "gold", "en"),
        "pa": ("escalated", "escalated", None, "silver", None),
        "pb": ("escalated", "escalated", None, "silver", None),
    }

    land_events(settings, tmp_path / "c2", cycle2)
    build_models(settings, SELECT, tests=False)
    # sale (80) and resolved (320) came after their calls ended (61, 301) but inside the agents'
    # after-call work (62-100, 302-330): only the PARTY rule keeps them; pa's part ended at 270,
    # before resolved; the note is cut to its 40 characters
    assert user_data_rows(dsn) == {
        "p1": ("sale", "pending", NOTE[:40], "gold", "en"),
        "pa": ("escalated", "escalated", None, "silver", None),
        "pb": ("resolved", "escalated", None, "silver", None),
    }
    incremental = all_rows(dsn)
    assert ("agent_note", 1, 60) in incremental["dq"]
    assert ("disposition", 0, 9) in incremental["dq"] and ("customer_segment", 0, 6) in incremental["dq"]
    # ag2_id: both calls in the 09:00 slot, each under its own combination (gold/en; silver/no
    # language), answered; the dimension has those two and the all-null member
    assert [r[0] for r in incremental["ag2_id_subhr"]] == [r[0] for r in incremental["ag2_id_subhr"][:1]] * 2
    assert sorted(r[2:] for r in incremental["ag2_id_subhr"]) == [(1, 1), (1, 1)]
    with psycopg.connect(dsn) as conn:
        combinations = conn.execute(
            "select customer_segment, language, used_by_irf_rows from infomart.user_data_cust_dim_1"
            " order by 1 nulls last"
        ).fetchall()
        by_segment = conn.execute(
            "select dim.customer_segment, ag.entered from infomart.ag2_id_subhr as ag"
            " join infomart.user_data_cust_dim_1 as dim using (user_data_cust_dim_1_key) order by 1"
        ).fetchall()
    assert combinations == [("gold", "en", True), ("silver", None, True), (None, None, False)]
    assert by_segment == [("gold", 1), ("silver", 1)]

    build_models(settings, SELECT, tests=True, full_refresh=True)
    assert all_rows(dsn) == incremental
