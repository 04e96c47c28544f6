"""Hand-written voice scenarios, one per rule of MEASURES.md's technical descriptor table and the
after-call-work rule, with the expected values worked out by hand in each test.

All scenarios are landed together and transformed once (module fixture); each test reads its
own call. Times are milliseconds after BASE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import psycopg
import pytest

from infomart.settings import Settings
from ingest.archive_ingester import ArchiveIngester, find_archives
from pipeline.transform import transform
from tests.conftest import EventFactory

BASE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ts(ms: int) -> str:
    return (BASE + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Scenario:
    """Builds the events of one call (and its agents' states) at given millisecond offsets."""

    def __init__(
        self, factory: EventFactory, name: str, call_type: str = "Inbound", thread: str | None = None
    ):
        self.f = factory
        self.call = f"c-{name}"
        self.thread = thread or f"t-{name}"
        self.voice: list[dict] = []
        self.states: list[dict] = []
        self.add(
            "CallCreated",
            0,
            call_type=call_type,
            thread_id=self.thread,
            ani="+1555000",
            dnis="+1800000",
            user_data={},
        )

    def add(self, type_: str, at: int, **fields: object) -> Scenario:
        self.voice.append(self.f.make(type_, ts(at), call_id=self.call, **fields))
        return self

    def party(
        self,
        party: str,
        at: int,
        dn_type: str,
        agent: str | None = None,
        reason: str = "New",
        initiator: str | None = None,
        dn: str | None = None,
    ) -> Scenario:
        return self.add(
            "PartyAdded",
            at,
            party_id=party,
            dn=dn or party,
            dn_type=dn_type,
            agent_id=agent,
            reason=reason,
            initiator_party_id=initiator,
        )

    def on(self, type_: str, party: str, at: int, **fields: object) -> Scenario:
        return self.add(type_, at, party_id=party, **fields)

    def state(self, type_: str, agent: str, at: int, **fields: object) -> Scenario:
        self.states.append(self.f.make(type_, ts(at), agent_id=agent, **fields))
        return self


def inbound_to_agent(f: EventFactory, name: str, agent: str) -> Scenario:
    """Customer -> routing point (2 s) -> queue VQ_A (queued 5.25 s) -> agent party ringing."""
    s = Scenario(f, name)
    s.party("cust", 100, "External")
    s.party("rp", 200, "RoutingPoint", dn="8001")
    s.party("q", 2200, "Queue", reason="Route", initiator="rp", dn="VQ_A")
    s.on("Released", "rp", 2200, cause="Normal")
    s.on("Queued", "q", 2250, queue="VQ_A")
    s.on("Diverted", "q", 7500, target_party_id="ag")
    s.party("ag", 7500, "Extension", agent=agent, reason="Route", initiator="q", dn="7000")
    s.on("Released", "q", 7500, cause="Normal")
    return s


def build(f: EventFactory) -> list[Scenario]:
    out = []
    # 1. Received, Completed: ring 3.5 s, two holds 2.0 + 1.5 s, talk 20.0 - 3.5 = 16.5 s -> 17,
    #    ACW 12.4 s -> 12 (ends at AgentReady)
    s = inbound_to_agent(f, "completed", "a1")
    s.on("Ringing", "ag", 7600).on("Established", "ag", 11100)
    s.on("Held", "ag", 15000).on("Retrieved", "ag", 17000).on("Held", "ag", 20000).on(
        "Retrieved", "ag", 21500
    )
    s.on("Released", "cust", 31100, cause="Normal").on("Released", "ag", 31100, cause="Normal")
    s.add("CallEnded", 31200)
    s.state("AgentNotReady", "a1", 31101, workmode="AfterCallWork", reason_code=None)
    s.state("AgentReady", "a1", 43501)
    out.append(s)
    # 2. RONA: ringing 15 s, released NoAnswer
    s = inbound_to_agent(f, "rona", "a2")
    s.on("Ringing", "ag", 7600).on("Released", "ag", 22600, cause="NoAnswer")
    s.on("Released", "cust", 25000, cause="Normal").add("CallEnded", 25100)
    out.append(s)
    # 3. Redirected and 4. Rejected
    for name, cause in (("redirected", "Redirected"), ("rejected", "Rejected")):
        s = inbound_to_agent(f, name, "a3")
        s.on("Ringing", "ag", 7600).on("Released", "ag", 9600, cause=cause)
        s.on("Released", "cust", 12000, cause="Normal").add("CallEnded", 12100)
        out.append(s)
    # 5. Abandoned while ringing: customer releases 4 s into the ring
    s = inbound_to_agent(f, "ring_abandon", "a4")
    s.on("Ringing", "ag", 7600).on("Released", "cust", 11600, cause="Normal")
    s.on("Released", "ag", 11601, cause="Abandoned").add("CallEnded", 11700)
    out.append(s)
    # 6. Abandoned from hold: talk 10 s, held at 21.1 s, customer gone at 30 s (hold 8.9 s)
    s = inbound_to_agent(f, "hold_abandon", "a5")
    s.on("Ringing", "ag", 7600).on("Established", "ag", 11100).on("Held", "ag", 21100)
    s.on("Released", "cust", 30000, cause="Normal").on("Released", "ag", 30001, cause="Normal")
    s.add("CallEnded", 30100)
    out.append(s)
    # 7. Abandoned in queue after 4.5 s (short) and 8. after 14.5 s (not short)
    for name, wait in (("short_abandon", 4500), ("long_abandon", 14500)):
        s = Scenario(f, name)
        s.party("cust", 100, "External").party("q", 200, "Queue", reason="Route", dn="VQ_B")
        s.on("Queued", "q", 300, queue="VQ_B")
        s.on("Released", "cust", 300 + wait, cause="Normal").on(
            "Released", "q", 300 + wait, cause="Abandoned"
        )
        s.add("CallEnded", 400 + wait)
        out.append(s)
    # 9. Cleared: routing removes the call from the queue after 60 s, no target
    s = Scenario(f, "cleared")
    s.party("cust", 100, "External").party("q", 200, "Queue", reason="Route", dn="VQ_B")
    s.on("Queued", "q", 300, queue="VQ_B").on("Released", "q", 60300, cause="Normal")
    s.on("Released", "cust", 60400, cause="Normal").add("CallEnded", 60500)
    out.append(s)
    # 10. Blind transfer: a6 transfers to a7 (added reason Transfer, initiator a6's party)
    s = inbound_to_agent(f, "transfer", "a6")
    s.on("Ringing", "ag", 7600).on("Established", "ag", 9600)
    s.party("ag2", 20000, "Extension", agent="a7", reason="Transfer", initiator="ag", dn="7007")
    s.on("Released", "ag", 20000, cause="Transferred")
    s.on("Ringing", "ag2", 20001).on("Established", "ag2", 22001)
    s.on("Released", "cust", 40001, cause="Normal").on("Released", "ag2", 40001, cause="Normal")
    s.add("CallEnded", 40100)
    out.append(s)
    # 11. Consultation from a8 to a9 on a separate Consult call of the same thread, then back
    s = inbound_to_agent(f, "consulting", "a8")
    s.on("Ringing", "ag", 7600).on("Established", "ag", 9600).on("Held", "ag", 15000)
    c = Scenario(f, "consult", call_type="Consult", thread=s.thread)
    c.party("ca", 15001, "Extension", agent="a8", dn="7008").on("Dialing", "ca", 15002)
    c.party("cb", 15003, "Extension", agent="a9", reason="Consult", initiator="ca", dn="7009")
    c.on("Ringing", "cb", 15004).on("Established", "cb", 18004).on("Established", "ca", 18005)
    c.on("Released", "cb", 28005, cause="Normal").on("Released", "ca", 28006, cause="Normal")
    c.add("CallEnded", 28007)
    s.on("Retrieved", "ag", 28010)
    s.on("Released", "cust", 38010, cause="Normal").on("Released", "ag", 38010, cause="Normal")
    s.add("CallEnded", 38100)
    out += [s, c]
    # 12. Conference: a10 conferences a11 in; a10 leaves (Conferenced), a11 finishes
    s = inbound_to_agent(f, "conference", "a10")
    s.on("Ringing", "ag", 7600).on("Established", "ag", 9600)
    s.party("ag2", 20000, "Extension", agent="a11", reason="Conference", initiator="ag", dn="7011")
    s.on("Established", "ag2", 20001).on("Released", "ag", 25000, cause="Conferenced")
    s.on("Released", "cust", 45000, cause="Normal").on("Released", "ag2", 45000, cause="Normal")
    s.add("CallEnded", 45100)
    out.append(s)
    # 13. Initiated: agent a12 dials out, dial 6.3 s, talk 30 s
    s = Scenario(f, "dialed", call_type="Outbound")
    s.party("ag", 100, "Extension", agent="a12", dn="7012").on("Dialing", "ag", 200)
    s.party("cust", 300, "External", initiator="ag", dn="+1666")
    s.on("Established", "ag", 6500).on("Released", "ag", 36500, cause="Normal")
    s.on("Released", "cust", 36500, cause="Normal").add("CallEnded", 36600)
    out.append(s)
    # 14. After-call work ended by the agent's next Ringing (not by a state event): a13 releases
    #     call 1 at 20 s, ACW from 20.5 s, next call rings at 30 s -> ACW 9.5 s -> 10 (half up)
    s = inbound_to_agent(f, "acw_first", "a13")
    s.on("Ringing", "ag", 7600).on("Established", "ag", 8600)
    s.on("Released", "cust", 20000, cause="Normal").on("Released", "ag", 20000, cause="Normal")
    s.add("CallEnded", 20100)
    s.state("AgentNotReady", "a13", 20500, workmode="AfterCallWork", reason_code=None)
    out.append(s)
    s2 = Scenario(f, "acw_second")
    s2.party("ag", 29900, "Extension", agent="a13", dn="7013")
    s2.on("Ringing", "ag", 30000).on("Established", "ag", 31000).on("Released", "ag", 41000, cause="Normal")
    s2.add("CallEnded", 41100)
    out.append(s2)
    # 15. Contradictions: a Released for a party never added, a Retrieved without Held
    s = inbound_to_agent(f, "anomalies", "a14")
    s.on("Ringing", "ag", 7600).on("Established", "ag", 8600).on("Retrieved", "ag", 9000)
    s.on("Released", "ghost", 9500, cause="Normal")
    s.on("Released", "cust", 19000, cause="Normal").on("Released", "ag", 19000, cause="Normal")
    s.add("CallEnded", 19100)
    out.append(s)
    return out


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory, pg_server: str, kafka_bootstrap: str) -> str:
    """Land every scenario and transform once; returns the DSN."""
    import uuid

    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"scen_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    info = conninfo_to_dict(pg_server)
    info["dbname"] = name
    dsn = make_conninfo(**info)
    tmp = tmp_path_factory.mktemp("scenarios")
    settings = Settings(
        home=tmp / "home", pg_dsn=dsn, kafka_bootstrap_servers=kafka_bootstrap, metrics_port=0
    )
    scenarios = build(EventFactory())
    folder = tmp / "events"
    folder.mkdir()
    (folder / "voice-callthread.ndjson").write_bytes(
        b"".join(orjson.dumps(e) + b"\n" for s in scenarios for e in s.voice)
    )
    (folder / "voice-agentstate.ndjson").write_bytes(
        b"".join(orjson.dumps(e) + b"\n" for s in scenarios for e in s.states)
    )
    ing = ArchiveIngester(settings, dsn)
    ing.ingest(find_archives([folder], settings))
    ing.close()
    result = transform(settings, dsn)  # with every data test
    assert not result.failures()
    return dsn


IRF_COLUMNS = (
    "resource_role, technical_result, result_reason, ring_count, ring_duration, dial_count, dial_duration,"
    " talk_count, talk_duration, hold_count, hold_duration, after_call_work_count, after_call_work_duration,"
    " queue_duration, routing_point_duration, cons_init_count, last_vqueue_name"
)


def irf(dsn: str, call: str, party: str) -> dict:
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(
            f"select {IRF_COLUMNS} from infomart.interaction_resource_fact"
            " where media_server_ixn_id = %s and party_id = %s",
            (call, party),
        )
        row = cur.fetchone()
        assert row is not None, f"no IRF row for {call}/{party}"
        return dict(zip([d.name for d in cur.description], row, strict=True))  # type: ignore[union-attr]


def expect(**values: object) -> dict:
    base = dict(
        ring_count=0,
        ring_duration=0,
        dial_count=0,
        dial_duration=0,
        talk_count=0,
        talk_duration=0,
        hold_count=0,
        hold_duration=0,
        after_call_work_count=0,
        after_call_work_duration=0,
        queue_duration=0,
        routing_point_duration=0,
        cons_init_count=0,
        last_vqueue_name=None,
    )
    base.update(values)
    return base


ROUTED = dict(queue_duration=5, routing_point_duration=2, last_vqueue_name="VQ_A")  # 5.25 s -> 5, 2.0 s -> 2


def test_received_completed_with_holds_and_after_call_work(marts: str):
    got = irf(marts, "c-completed", "ag")
    assert got == {
        "resource_role": "Received",
        "technical_result": "Completed",
        "result_reason": "Unspecified",
        **expect(
            ring_count=1,
            ring_duration=4,
            talk_count=1,
            talk_duration=17,
            hold_count=2,
            hold_duration=4,
            after_call_work_count=1,
            after_call_work_duration=12,
            **ROUTED,
        ),
    }
    # ring 7.6 -> 11.1 = 3.5 s -> 4 (half up); holds 2.0 + 1.5 = 3.5 -> 4; talk 20.0 - 3.5 = 16.5 -> 17


def test_ring_no_answer(marts: str):
    got = irf(marts, "c-rona", "ag")
    assert got == {
        "resource_role": "Received",
        "technical_result": "Redirected",
        "result_reason": "NoAnswer",
        **expect(ring_count=1, ring_duration=15, **ROUTED),
    }


@pytest.mark.parametrize(("call", "result"), [("c-redirected", "Redirected"), ("c-rejected", "Rejected")])
def test_redirected_and_rejected(marts: str, call: str, result: str):
    got = irf(marts, call, "ag")
    assert got == {
        "resource_role": "Received",
        "technical_result": result,
        "result_reason": "Unspecified",
        **expect(ring_count=1, ring_duration=2, **ROUTED),
    }


def test_abandoned_while_ringing(marts: str):
    got = irf(marts, "c-ring_abandon", "ag")
    # rings until its own Released at 11.601 s: 4.001 s -> 4
    assert got == {
        "resource_role": "Received",
        "technical_result": "Abandoned",
        "result_reason": "AbandonedWhileRinging",
        **expect(ring_count=1, ring_duration=4, **ROUTED),
    }


def test_abandoned_from_hold(marts: str):
    got = irf(marts, "c-hold_abandon", "ag")
    # talk 11.1 -> 30.001 = 18.901 minus hold 21.1 -> 30.001 = 8.901: 10.0 s; hold 8.901 -> 9
    assert got == {
        "resource_role": "Received",
        "technical_result": "Abandoned",
        "result_reason": "AbandonedFromHold",
        **expect(
            ring_count=1,
            ring_duration=4,
            talk_count=1,
            talk_duration=10,
            hold_count=1,
            hold_duration=9,
            **ROUTED,
        ),
    }


@pytest.mark.parametrize(("call", "seconds", "short"), [("c-short_abandon", 5, 1), ("c-long_abandon", 15, 0)])
def test_abandoned_in_queue_and_short_abandon(marts: str, call: str, seconds: int, short: int):
    got = irf(marts, call, "q")
    assert (got["resource_role"], got["technical_result"], got["result_reason"]) == (
        "Received",
        "Abandoned",
        "AbandonedWhileQueued",
    )
    with psycopg.connect(marts) as conn:
        msf = conn.execute(
            "select technical_result, mediation_duration, short_abandoned_flag, queue_name"
            " from infomart.mediation_segment_fact where media_server_ixn_id = %s",
            (call,),
        ).fetchall()
    # 4.5 s -> 5 (half up) and short; 14.5 s -> 15 and not short
    assert msf == [("Abandoned", seconds, short, "VQ_B")]


def test_cleared_from_queue(marts: str):
    got = irf(marts, "c-cleared", "q")
    assert (got["technical_result"], got["result_reason"]) == ("Cleared", "Unspecified")
    with psycopg.connect(marts) as conn:
        msf = conn.execute(
            "select technical_result, mediation_duration, short_abandoned_flag, target_ixn_resource_id"
            " from infomart.mediation_segment_fact where media_server_ixn_id = 'c-cleared'"
        ).fetchall()
    assert msf == [("Cleared", 60, 0, None)]


def test_diverted_segment_points_at_its_target(marts: str):
    with psycopg.connect(marts) as conn:
        row = conn.execute(
            "select m.technical_result, m.mediation_duration, i.party_id"
            " from infomart.mediation_segment_fact m"
            " join infomart.interaction_resource_fact i"
            " on i.interaction_resource_id = m.target_ixn_resource_id"
            " where m.media_server_ixn_id = 'c-completed'"
        ).fetchone()
    assert row == ("Diverted", 5, "ag")


def test_blind_transfer(marts: str):
    assert irf(marts, "c-transfer", "ag") == {
        "resource_role": "Received",
        "technical_result": "Transferred",
        "result_reason": "Unspecified",
        **expect(ring_count=1, ring_duration=2, talk_count=1, talk_duration=10, **ROUTED),
    }
    # the receiving party came straight from the agent: no queue or routing point on its way
    assert irf(marts, "c-transfer", "ag2") == {
        "resource_role": "ReceivedTransfer",
        "technical_result": "Completed",
        "result_reason": "Unspecified",
        **expect(ring_count=1, ring_duration=2, talk_count=1, talk_duration=18),
    }


def test_consultation(marts: str):
    # the consulting party on the original call: held 15.0 -> 28.01 = 13.01 s; talk 28.41 - 13.01 = 15.4
    assert irf(marts, "c-consulting", "ag") == {
        "resource_role": "Received",
        "technical_result": "Completed",
        "result_reason": "Unspecified",
        **expect(
            ring_count=1,
            ring_duration=2,
            talk_count=1,
            talk_duration=15,
            hold_count=1,
            hold_duration=13,
            cons_init_count=1,
            **ROUTED,
        ),
    }
    assert irf(marts, "c-consult", "ca") == {
        "resource_role": "InitiatedConsult",
        "technical_result": "Completed",
        "result_reason": "Unspecified",
        **expect(dial_count=1, dial_duration=3, talk_count=1, talk_duration=10),
    }
    assert irf(marts, "c-consult", "cb") == {
        "resource_role": "ReceivedConsult",
        "technical_result": "Completed",
        "result_reason": "Unspecified",
        **expect(ring_count=1, ring_duration=3, talk_count=1, talk_duration=10),
    }
    with psycopg.connect(marts) as conn:
        threads = conn.execute(
            "select count(distinct interaction_id) from infomart.interaction_resource_fact"
            " where media_server_ixn_id in ('c-consulting', 'c-consult')"
        ).fetchone()
    assert threads == (1,)  # the consultation belongs to the customer's interaction


def test_conference(marts: str):
    assert irf(marts, "c-conference", "ag")["technical_result"] == "Conferenced"
    got = irf(marts, "c-conference", "ag2")
    assert (got["resource_role"], got["technical_result"], got["talk_duration"]) == (
        "ReceivedConference",
        "Completed",
        25,
    )


def test_initiated_outbound(marts: str):
    assert irf(marts, "c-dialed", "ag") == {
        "resource_role": "Initiated",
        "technical_result": "Completed",
        "result_reason": "Unspecified",
        **expect(dial_count=1, dial_duration=6, talk_count=1, talk_duration=30),
    }


def test_after_call_work_ends_at_the_next_ringing(marts: str):
    first = irf(marts, "c-acw_first", "ag")
    assert (first["after_call_work_count"], first["after_call_work_duration"]) == (1, 10)  # 9.5 s -> 10
    second = irf(marts, "c-acw_second", "ag")
    assert (second["after_call_work_count"], second["ring_duration"], second["talk_duration"]) == (0, 1, 10)


def test_contradictions_are_reported_and_do_not_break_the_cycle(marts: str):
    with psycopg.connect(marts) as conn:
        rows = conn.execute(
            "select party_id, event_type, anomaly from infomart.dq_voice_event_anomalies"
            " where call_id = 'c-anomalies' order by party_id"
        ).fetchall()
    assert rows == [
        ("ag", "Retrieved", "Retrieved without a Held before it"),
        ("ghost", "Released", "party never added: no PartyAdded for this party"),
    ]
    got = irf(marts, "c-anomalies", "ag")  # the call itself is still measured
    assert (got["technical_result"], got["talk_duration"], got["hold_count"]) == ("Completed", 10, 0)


def test_interaction_fact_of_the_scenarios(marts: str):
    with psycopg.connect(marts) as conn:
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                "select media_server_root_ixn_id, status, extract(epoch from end_ts - start_ts)::float,"
                " source_address from infomart.interaction_fact"
            )
        }
    assert len(rows) == 16
    assert rows["t-completed"] == ("completed", 31.2, "+1555000")  # CallCreated -> CallEnded
    assert rows["t-consulting"] == ("completed", 38.1, "+1555000")  # the thread ends with its last call
