"""After-call work under late events, cycle by cycle (int_voice__after_call_work is windowed per
agent from its last Ringing or Dialing before the earliest new event).

Agent a1, times in seconds after BASE (hand-computed expectations in each test):
  call A: ring 0, established 1, released 60           (party pA)
  call D: consult dialed by a1 at 30, released at 61   (party pD)
  ACW NotReady at 62, Ready at 100                     -> 38 s, on the LAST released party: pD
  call B: ring 200, established 201, released 300      (party pB)
  ACW NotReady at 305, Ready at 330                    -> 25 s on pB

Cycle 1 lands everything but call D and the Ready at 330; cycle 2 lands the Ready at 330; cycle 3
lands call D (hours late, say). The ACW of 62-100 moves from pA to pD, and pA's
INTERACTION_RESOURCE_FACT row must lose it, although nothing of call A arrived in cycle 3.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from infomart.settings import Settings
from pipeline.transform import transform
from tests.conftest import EventFactory
from tests.helpers import build_models, land_events

BASE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SELECT = ["--select", "+interaction_resource_fact"]


def ts(seconds: float) -> str:
    return (BASE + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def call(
    f: EventFactory, call_id: str, party: str, events: list[tuple[str, float]], call_type: str
) -> list[dict]:
    out = [
        f.make(
            "CallCreated",
            ts(events[0][1] - 1),
            call_id=call_id,
            thread_id=f"t-{call_id}",
            call_type=call_type,
            ani="+1555000",
            dnis="+1800000",
            user_data={},
        ),
        f.make(
            "PartyAdded",
            ts(events[0][1] - 0.5),
            call_id=call_id,
            party_id=party,
            dn="7001",
            dn_type="Extension",
            agent_id="a1",
            reason="New",
            initiator_party_id=None,
        ),
    ]
    for type_, at in events:
        extra = {"cause": "Normal"} if type_ == "Released" else {}
        out.append(f.make(type_, ts(at), call_id=call_id, party_id=party, **extra))
    out.append(f.make("CallEnded", ts(events[-1][1] + 0.1), call_id=call_id))
    return out


def state(f: EventFactory, type_: str, at: float, **fields: object) -> dict:
    return f.make(type_, ts(at), source="sip-a", agent_id="a1", **fields)


def scenario(f: EventFactory) -> tuple[dict[str, list[dict]], dict[str, list[dict]], dict[str, list[dict]]]:
    call_a = call(f, "c-A", "pA", [("Ringing", 0), ("Established", 1), ("Released", 60)], "Inbound")
    call_d = call(f, "c-D", "pD", [("Dialing", 30), ("Established", 31), ("Released", 61)], "Consult")
    call_b = call(f, "c-B", "pB", [("Ringing", 200), ("Established", 201), ("Released", 300)], "Inbound")
    login = state(f, "AgentLogin", -10, dn="7001", place="p1", queues=[])
    ready0 = state(f, "AgentReady", -9)
    acw1 = state(f, "AgentNotReady", 62, workmode="AfterCallWork", reason_code=None)
    ready1 = state(f, "AgentReady", 100)
    acw2 = state(f, "AgentNotReady", 305, workmode="AfterCallWork", reason_code=None)
    ready2 = state(f, "AgentReady", 330)
    cycle1 = {"voice-callthread": call_a + call_b, "voice-agentstate": [login, ready0, acw1, ready1, acw2]}
    cycle2 = {"voice-agentstate": [ready2]}
    cycle3 = {"voice-callthread": call_d}
    return cycle1, cycle2, cycle3


def land(settings: Settings, folder: Path, by_topic: dict[str, list[dict]]) -> None:
    land_events(settings, folder, by_topic)


def build(settings: Settings, full_refresh: bool = False) -> None:
    build_models(settings, SELECT, tests=False, full_refresh=full_refresh)


def acw_by_party(dsn: str) -> dict[str, tuple[int, int, int]]:
    """party -> (after_call_work_count, after_call_work_duration, after_call_work_ms) from IRF."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select party_id, after_call_work_count, after_call_work_duration, after_call_work_ms"
            " from infomart.interaction_resource_fact"
        ).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows if r[0] in ("pA", "pB", "pD")}


def irf_rows(dsn: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        cols = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns where table_schema = 'infomart'"
                " and table_name = 'interaction_resource_fact'"
                " and column_name not like '%%landed_at' and column_name not like '%%audit_key'"
                " order by ordinal_position"
            )
        ]
        return conn.execute(
            f"select {', '.join(cols)} from infomart.interaction_resource_fact order by 1"
        ).fetchall()


def test_after_call_work_follows_late_events_cycle_by_cycle(settings: Settings, tmp_path: Path):
    settings = settings.model_copy(update={"lookback_minutes": 0})
    cycle1, cycle2, cycle3 = scenario(EventFactory())
    dsn = settings.pg_dsn
    assert dsn

    land(settings, tmp_path / "c1", cycle1)
    build(settings)
    # pA released at 60, ACW 62-100 -> 38 s; pB's ACW from 305 is still open: counted, no duration
    assert acw_by_party(dsn) == {"pA": (1, 38, 38_000), "pB": (1, 0, 0)}

    land(settings, tmp_path / "c2", cycle2)
    build(settings)
    # the Ready at 330 ends pB's ACW: 25 s; pA untouched
    assert acw_by_party(dsn) == {"pA": (1, 38, 38_000), "pB": (1, 25, 25_000)}

    land(settings, tmp_path / "c3", cycle3)
    build(settings)
    # pD released at 61 is now the last release before the ACW at 62: the 38 s move to pD
    after_cycles = acw_by_party(dsn)
    assert after_cycles == {"pA": (0, 0, 0), "pD": (1, 38, 38_000), "pB": (1, 25, 25_000)}
    incremental = irf_rows(dsn)

    build(settings, full_refresh=True)
    assert acw_by_party(dsn) == after_cycles
    assert irf_rows(dsn) == incremental


def test_aggregates_follow_after_call_work_that_moves_to_a_late_party_in_another_interval(
    settings: Settings, tmp_path: Path
):
    """The chaos benchmark's finding, by hand: pA (offered 09:14, slot 09:00) has the 38 s of ACW
    until a late consult pD (dialed 09:15:10, slot 09:15) is released after it; pA's IRF row then
    changes without a newer landing of its own, and ag2_agent_subhr's 09:00 row must follow (before
    the fix it kept the 38 s: the interval was touched only by landings)."""
    settings = settings.model_copy(update={"lookback_minutes": 0})
    f = EventFactory()
    call_a = call(f, "c-A", "pA", [("Ringing", 840), ("Established", 841), ("Released", 900)], "Inbound")
    call_d = call(f, "c-D", "pD", [("Dialing", 910), ("Established", 911), ("Released", 920)], "Consult")
    states = [
        state(f, "AgentLogin", 800, dn="7001", place="p1", queues=[]),
        state(f, "AgentReady", 801),
        state(f, "AgentNotReady", 930, workmode="AfterCallWork", reason_code=None),
        state(f, "AgentReady", 968),
    ]
    dsn = settings.pg_dsn
    assert dsn
    select = ["+ag2_agent_subhr"]
    land(settings, tmp_path / "c1", {"voice-callthread": call_a, "voice-agentstate": states})
    transform(settings, dsn, tests=False, select=select)
    assert wrap_by_slot(dsn) == {"09:00": 38_000}

    land(settings, tmp_path / "c2", {"voice-callthread": call_d})
    transform(settings, dsn, tests=False, select=select)
    assert acw_by_party(dsn) == {"pA": (0, 0, 0), "pD": (1, 38, 38_000)}
    incremental = wrap_by_slot(dsn)
    transform(settings, dsn, tests=False, select=select, full_refresh=True)
    # pA's 09:00 row has no wrap left; pD, a consult it dialed, is no accepted offer: no wrap
    assert wrap_by_slot(dsn) == incremental == {"09:00": 0, "09:15": 0}


def wrap_by_slot(dsn: str) -> dict[str, int]:
    """ag2_agent_subhr: interval (HH:MM) -> wrap_time_ms, summed over the agent's rows."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select to_char(interval_start_ts at time zone 'UTC', 'HH24:MI'), sum(wrap_time_ms)::bigint"
            " from infomart.ag2_agent_subhr group by 1 order by 1"
        ).fetchall()
    return {slot: int(ms) for slot, ms in rows}
