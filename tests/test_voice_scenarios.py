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


def land_and_transform(
    tmp_path_factory: pytest.TempPathFactory, pg_server: str, kafka_bootstrap: str, scenarios: list[Scenario]
) -> str:
    """Land the scenarios in a database of their own and transform once; returns the DSN."""
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


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory, pg_server: str, kafka_bootstrap: str) -> str:
    """Land every scenario and transform once; returns the DSN."""
    return land_and_transform(tmp_path_factory, pg_server, kafka_bootstrap, build(EventFactory()))


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


# ---------------------------------------------------------------------------------- delivered to
# MEASURES.md v2, "Delivered to": a Queue or RoutingPoint party delivered the call to the party
# its Diverted names; without a Diverted, to the party whose initiator_party_id names it. These
# calls are landed in a database of their own (fixture `routed`), one per way of linking.


def build_delivered_to(f: EventFactory) -> list[Scenario]:
    out = []
    # A. routing point -> queue -> agent linked only by Diverted (initiators null):
    #    RP 200 -> 1702 = 1.502 s -> 2; queue Queued 1800 -> Diverted 9300 = 7.5 s -> 8 (half up)
    s = Scenario(f, "divert_only")
    s.party("cust", 100, "External").party("rp", 200, "RoutingPoint", dn="8001")
    s.on("Diverted", "rp", 1700, target_party_id="q")
    s.party("q", 1701, "Queue", reason="Route", dn="VQ_C").on("Released", "rp", 1702, cause="Normal")
    s.on("Queued", "q", 1800, queue="VQ_C").on("Diverted", "q", 9300, target_party_id="ag")
    s.party("ag", 9300, "Extension", agent="a15", reason="Route", dn="7015")
    s.on("Released", "q", 9301, cause="Normal")
    s.on("Ringing", "ag", 9400).on("Established", "ag", 12400)
    s.on("Released", "cust", 30400, cause="Normal").on("Released", "ag", 30400, cause="Normal")
    s.add("CallEnded", 30500)
    out.append(s)
    # B. linked only by initiator (no Diverted at all):
    #    RP 200 -> 3100 = 2.9 s -> 3; queue Queued 3200 -> its Released 14700 = 11.5 s -> 12
    s = Scenario(f, "initiator_only")
    s.party("cust", 100, "External").party("rp", 200, "RoutingPoint", dn="8002")
    s.party("q", 3100, "Queue", reason="Route", initiator="rp", dn="VQ_D")
    s.on("Released", "rp", 3100, cause="Normal").on("Queued", "q", 3200, queue="VQ_D")
    s.party("ag", 14700, "Extension", agent="a16", reason="Route", initiator="q", dn="7016")
    s.on("Released", "q", 14700, cause="Normal")
    s.on("Ringing", "ag", 14800).on("Established", "ag", 16300)
    s.on("Released", "cust", 26300, cause="Normal").on("Released", "ag", 26300, cause="Normal")
    s.add("CallEnded", 26400)
    out.append(s)
    # C. both links on every step:
    #    RP 200 -> 1000 = 0.8 s -> 1; queue Queued 1100 -> Diverted 3599 = 2.499 s -> 2
    s = Scenario(f, "both_links")
    s.party("cust", 100, "External").party("rp", 200, "RoutingPoint", dn="8003")
    s.on("Diverted", "rp", 999, target_party_id="q")
    s.party("q", 1000, "Queue", reason="Route", initiator="rp", dn="VQ_E")
    s.on("Released", "rp", 1000, cause="Normal")
    s.on("Queued", "q", 1100, queue="VQ_E").on("Diverted", "q", 3599, target_party_id="ag")
    s.party("ag", 3600, "Extension", agent="a17", reason="Route", initiator="q", dn="7017")
    s.on("Released", "q", 3601, cause="Normal")
    s.on("Ringing", "ag", 3700).on("Established", "ag", 5700)
    s.on("Released", "cust", 15700, cause="Normal").on("Released", "ag", 15700, cause="Normal")
    s.add("CallEnded", 15800)
    out.append(s)
    # D. RONA, then a re-queue (a new queue party, initiator null, nothing diverts to it), links by
    #    Diverted only: RP 200 -> 1200 = 1.0 s; q1 1300 -> 4300 = 3.0 s; ag1 rings 15 s (RONA);
    #    q2 19500 -> 25750 = 6.25 s -> 6; ag2 is reached from q2 only
    s = Scenario(f, "rona_requeue")
    s.party("cust", 100, "External").party("rp", 200, "RoutingPoint", dn="8001")
    s.on("Diverted", "rp", 1199, target_party_id="q1")
    s.party("q1", 1200, "Queue", reason="Route", dn="VQ_F").on("Released", "rp", 1200, cause="Normal")
    s.on("Queued", "q1", 1300, queue="VQ_F").on("Diverted", "q1", 4300, target_party_id="ag1")
    s.party("ag1", 4300, "Extension", agent="a18", reason="Route", dn="7018")
    s.on("Released", "q1", 4300, cause="Normal")
    s.on("Ringing", "ag1", 4400).on("Released", "ag1", 19400, cause="NoAnswer")
    s.party("q2", 19401, "Queue", reason="Route", dn="VQ_F").on("Queued", "q2", 19500, queue="VQ_F")
    s.on("Diverted", "q2", 25750, target_party_id="ag2")
    s.party("ag2", 25750, "Extension", agent="a19", reason="Route", dn="7019")
    s.on("Released", "q2", 25751, cause="Normal")
    s.on("Ringing", "ag2", 25800).on("Established", "ag2", 27800)
    s.on("Released", "cust", 47800, cause="Normal").on("Released", "ag2", 47800, cause="Normal")
    s.add("CallEnded", 47900)
    out.append(s)
    # E. blind transfer to a queue: ag1 (reached RP -> q1) sends the call to q2 (reason Transfer,
    #    initiator ag1); q2 diverts to ag2. RP 200 -> 1500 = 1.3 s -> 1; q1 1600 -> 5100 = 3.5 s
    #    -> 4 (half up); q2 20300 -> 28800 = 8.5 s -> 9; the walk back from ag2 stops at ag1
    s = Scenario(f, "queue_transfer")
    s.party("cust", 100, "External").party("rp", 200, "RoutingPoint", dn="8002")
    s.party("q1", 1500, "Queue", reason="Route", initiator="rp", dn="VQ_A")
    s.on("Released", "rp", 1500, cause="Normal")
    s.on("Queued", "q1", 1600, queue="VQ_A").on("Diverted", "q1", 5100, target_party_id="ag1")
    s.party("ag1", 5100, "Extension", agent="a20", reason="Route", initiator="q1", dn="7020")
    s.on("Released", "q1", 5100, cause="Normal")
    s.on("Ringing", "ag1", 5200).on("Established", "ag1", 6200)
    s.party("q2", 20200, "Queue", reason="Transfer", initiator="ag1", dn="VQ_G")
    s.on("Released", "ag1", 20200, cause="Transferred")
    s.on("Queued", "q2", 20300, queue="VQ_G").on("Diverted", "q2", 28800, target_party_id="ag2")
    s.party("ag2", 28800, "Extension", agent="a21", reason="Route", dn="7021")
    s.on("Released", "q2", 28801, cause="Normal")
    s.on("Ringing", "ag2", 28900).on("Established", "ag2", 29900)
    s.on("Released", "cust", 39900, cause="Normal").on("Released", "ag2", 39900, cause="Normal")
    s.add("CallEnded", 40000)
    out.append(s)
    return out


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory, pg_server: str, kafka_bootstrap: str) -> str:
    return land_and_transform(
        tmp_path_factory, pg_server, kafka_bootstrap, build_delivered_to(EventFactory())
    )


def segments(dsn: str, call: str) -> dict[str, tuple]:
    """queue party -> (technical_result, mediation_duration, target party via its IRF row, queue key)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select m.party_id, m.technical_result, m.mediation_duration, i.party_id, m.resource_key"
            " from infomart.mediation_segment_fact m"
            " left join infomart.interaction_resource_fact i"
            " on i.interaction_resource_id = m.target_ixn_resource_id"
            " where m.media_server_ixn_id = %s",
            (call,),
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def mediation(dsn: str, call: str, party: str) -> tuple:
    """(queue_duration, routing_point_duration, last_vqueue_name, last_vqueue_resource_key) of a party."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "select queue_duration, routing_point_duration, last_vqueue_name, last_vqueue_resource_key"
            " from infomart.interaction_resource_fact where media_server_ixn_id = %s and party_id = %s",
            (call, party),
        ).fetchone()
    assert row is not None, f"no IRF row for {call}/{party}"
    return row


def irf_parties(dsn: str, call: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select party_id from infomart.interaction_resource_fact"
            " where media_server_ixn_id = %s order by 1",
            (call,),
        ).fetchall()
    return [r[0] for r in rows]


def test_delivered_by_diverted_only(routed: str):
    seg = segments(routed, "c-divert_only")
    assert seg["q"][:3] == ("Diverted", 8, "ag")  # 7.5 s -> 8
    # queue 7.5 s -> 8, routing point 1.502 s -> 2, the last virtual queue is the queue's key
    assert mediation(routed, "c-divert_only", "ag") == (8, 2, "VQ_C", seg["q"][3])
    assert irf_parties(routed, "c-divert_only") == ["ag"]


def test_delivered_by_initiator_only(routed: str):
    seg = segments(routed, "c-initiator_only")
    # no Diverted: the segment runs to the queue party's Released (11.5 s -> 12) and its target is
    # the party whose initiator names the queue; the queue party did not end the call (no IRF row)
    assert seg["q"][:3] == ("Diverted", 12, "ag")
    assert mediation(routed, "c-initiator_only", "ag") == (12, 3, "VQ_D", seg["q"][3])  # RP 2.9 s -> 3
    assert irf_parties(routed, "c-initiator_only") == ["ag"]


def test_delivered_by_both_links(routed: str):
    seg = segments(routed, "c-both_links")
    assert seg["q"][:3] == ("Diverted", 2, "ag")  # 2.499 s -> 2
    assert mediation(routed, "c-both_links", "ag") == (2, 1, "VQ_E", seg["q"][3])  # RP 0.8 s -> 1


def test_rona_then_requeue(routed: str):
    seg = segments(routed, "c-rona_requeue")
    assert seg["q1"][:3] == ("Diverted", 3, "ag1") and seg["q2"][:3] == ("Diverted", 6, "ag2")
    # ag1: q1 3.0 s and the routing point 1.0 s; ag2: only q2 (6.25 s -> 6) delivered to it
    assert mediation(routed, "c-rona_requeue", "ag1") == (3, 1, "VQ_F", seg["q1"][3])
    assert mediation(routed, "c-rona_requeue", "ag2") == (6, 0, "VQ_F", seg["q2"][3])
    assert (
        irf(routed, "c-rona_requeue", "ag1")["technical_result"],
        irf(routed, "c-rona_requeue", "ag1")["result_reason"],
    ) == ("Redirected", "NoAnswer")


def test_blind_transfer_to_a_queue(routed: str):
    seg = segments(routed, "c-queue_transfer")
    assert seg["q1"][:3] == ("Diverted", 4, "ag1") and seg["q2"][:3] == ("Diverted", 9, "ag2")
    # ag1: q1 3.5 s -> 4 and RP 1.3 s -> 1; ag2: q2 8.5 s -> 9, the walk stops at ag1 (an agent)
    assert mediation(routed, "c-queue_transfer", "ag1") == (4, 1, "VQ_A", seg["q1"][3])
    assert mediation(routed, "c-queue_transfer", "ag2") == (9, 0, "VQ_G", seg["q2"][3])
    assert irf(routed, "c-queue_transfer", "ag1")["technical_result"] == "Transferred"
    assert irf_parties(routed, "c-queue_transfer") == ["ag1", "ag2"]
