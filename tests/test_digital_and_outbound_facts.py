"""Hand-written digital and outbound scenarios (MEASURES.md "Digital interactions", "Outbound
campaigns"): the IRF row of every offer, the MSF row of every stay in an interaction queue, the
session capacity, the media-neutral state, and the contact attempts of a record dialed three
times, with the values worked out by hand in each test. All scenarios are landed together and
built once (module fixture). Times are milliseconds after BASE; durations in seconds are exact
milliseconds rounded half up once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from infomart.settings import Settings
from tests.conftest import EventFactory
from tests.helpers import build_models, land_events, module_database

BASE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ts(ms: int) -> str:
    return (BASE + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def at(ms: int | None) -> datetime | None:
    return None if ms is None else BASE + timedelta(milliseconds=ms)


class Interaction:
    """The digital-itx events of one interaction at millisecond offsets."""

    def __init__(self, f: EventFactory, itx_id: str, media: str, created: int = 0) -> None:
        self.f, self.itx_id, self.events = f, itx_id, []
        self.add(
            "InteractionCreated",
            created,
            media_type=media,
            direction="Inbound",
            customer_id="cust1",
            user_data={},
        )

    def add(self, type_: str, ms: int, **fields: object) -> Interaction:
        self.events.append(self.f.make(type_, ts(ms), source="ucs-a", itx_id=self.itx_id, **fields))
        return self


def scenarios(f: EventFactory) -> dict[str, list[dict]]:
    itx = []
    # 1. A chat in CHAT_Q from 0.1 s, rejected by a1 (offered 5.1 s, rejected 8.1 s), timed out at
    #    a2 (offered 9.0 s, timed out 39.0 s), accepted by a3 (offered 40.0 s, accepted 44.5 s,
    #    released 124.5 s)
    s = Interaction(f, "chat-3-offers", "chat").add("Queued", 100, queue="CHAT_Q")
    s.add("Offered", 5100, agent_id="a1").add("Rejected", 8100, agent_id="a1")
    s.add("Offered", 9000, agent_id="a2").add("OfferTimedOut", 39000, agent_id="a2")
    s.add("Offered", 40000, agent_id="a3").add("Accepted", 44500, agent_id="a3")
    s.add("AgentReleased", 124500, agent_id="a3").add("Completed", 124600, reason="Resolved")
    itx.append(s)
    # 2. An email in MAIL_1 from 0.2 s, accepted by b1 (offered 10.2 s, accepted 12.2 s), transferred
    #    by b1 to MAIL_2 at 312.2 s, queued there at 312.3 s, accepted by b2 (offered 400.3 s,
    #    accepted 403.3 s), released at 703.3 s
    s = Interaction(f, "email-transfer", "email").add("Queued", 200, queue="MAIL_1")
    s.add("Offered", 10200, agent_id="b1").add("Accepted", 12200, agent_id="b1")
    s.add("Transferred", 312200, agent_id="b1", to_queue="MAIL_2").add("Queued", 312300, queue="MAIL_2")
    s.add("Offered", 400300, agent_id="b2").add("Accepted", 403300, agent_id="b2")
    s.add("AgentReleased", 703300, agent_id="b2").add("Completed", 703400, reason="Resolved")
    itx.append(s)
    # 3. Two chats overlapping on d1 (capacity 2): c1 offered 5.0 s, accepted 10.0 s, released
    #    70.0 s; c2 offered 20.0 s, accepted 23.0 s, released 50.0 s
    s = Interaction(f, "chat-overlap-1", "chat").add("Queued", 1000, queue="CHAT_Q")
    s.add("Offered", 5000, agent_id="d1").add("Accepted", 10000, agent_id="d1")
    s.add("AgentReleased", 70000, agent_id="d1").add("Completed", 70100, reason="Resolved")
    itx.append(s)
    s = Interaction(f, "chat-overlap-2", "chat", created=15000).add("Queued", 15100, queue="CHAT_Q")
    s.add("Offered", 20000, agent_id="d1").add("Accepted", 23000, agent_id="d1")
    s.add("AgentReleased", 50000, agent_id="d1").add("Completed", 50100, reason="Resolved")
    itx.append(s)
    # 4. A chat abandoned while offered to e1 (offered 5.0 s, customer gone 9.0 s): the queue stay
    #    0.1 s -> 9.0 s is abandoned (8.9 s: short), the offer AbandonedWhileRinging
    s = Interaction(f, "chat-ring-abandon", "chat").add("Queued", 100, queue="CHAT_Q")
    s.add("Offered", 5000, agent_id="e1").add("Completed", 9000, reason="Abandoned")
    itx.append(s)
    # 5. An email expired in MAIL_1 after 3,600 s: Cleared
    s = Interaction(f, "email-expired", "email").add("Queued", 500, queue="MAIL_1")
    s.add("Completed", 3600500, reason="Expired")
    itx.append(s)
    # 6. A chat transferred directly from g1 to g2 (no queue between): g2's row is ReceivedTransfer
    #    with no queue time, its last queue the chat's last queue
    s = Interaction(f, "chat-direct-transfer", "chat").add("Queued", 100, queue="CHAT_Q")
    s.add("Offered", 2100, agent_id="g1").add("Accepted", 3100, agent_id="g1")
    s.add("Transferred", 63100, agent_id="g1", to_agent_id="g2")
    s.add("Offered", 63101, agent_id="g2").add("Accepted", 65101, agent_id="g2")
    s.add("AgentReleased", 125101, agent_id="g2").add("Completed", 125200, reason="Resolved")
    itx.append(s)
    # 7. n1 on voice and chat (media-neutral state): a chat offered 10.0 s, accepted 12.0 s,
    #    released 40.0 s; NotReady on voice 20.0 -> 30.0 s
    s = Interaction(f, "chat-neutral", "chat", created=9000).add("Queued", 9100, queue="CHAT_Q")
    s.add("Offered", 10000, agent_id="n1").add("Accepted", 12000, agent_id="n1")
    s.add("AgentReleased", 40000, agent_id="n1").add("Completed", 40100, reason="Resolved")
    itx.append(s)

    def media(type_: str, ms: int, agent: str, **fields: object) -> dict:
        return f.make(type_, ts(ms), source="ucs-a", agent_id=agent, media_type="chat", **fields)

    states = [
        media("MediaLogin", 0, "d1", capacity=2),
        media("MediaReady", 1000, "d1"),
        media("MediaLogout", 100000, "d1"),
        media("MediaLogin", 0, "n1", capacity=3),
        media("MediaReady", 2000, "n1"),
        media("MediaLogout", 50000, "n1"),
    ]
    voice = [
        f.make("AgentLogin", ts(0), agent_id="n1", dn="7101", place="Place_n1", queues=["VQ_A"]),
        f.make("AgentReady", ts(1000), agent_id="n1"),
        f.make("AgentNotReady", ts(20000), agent_id="n1", workmode="AuxWork", reason_code="Break"),
        f.make("AgentReady", ts(30000), agent_id="n1"),
        f.make("AgentLogout", ts(60000), agent_id="n1"),
    ]
    outbound, calls = outbound_scenario(f)
    return {
        "digital-itx": [e for s in itx for e in s.events],
        "digital-agentstate": states,
        "voice-agentstate": voice,
        "voice-outbound": outbound,
        "voice-callthread": calls,
    }


def outbound_scenario(f: EventFactory) -> tuple[list[dict], list[dict]]:
    """Record rec1 of CMP_A (Progressive, running 0 -> 400 s) dialed three times: no answer
    (1 -> 31 s), busy (100 -> 102 s), answered at 210 s and taken by agent h1 (talk 211 -> 271 s),
    then completed with disposition Sale."""

    def ob(type_: str, ms: int, **fields: object) -> dict:
        return f.make(type_, ts(ms), source="ocs-a", campaign_id="CMP_A", **fields)

    def dialed(ms: int, attempt: int, call: str) -> dict:
        return ob(
            "RecordDialed",
            ms,
            record_id="rec1",
            chain_id="ch1",
            attempt=attempt,
            contact="+1555111",
            call_id=call,
        )

    outbound = [
        ob("CampaignGroupStarted", 0, group="AG_Out", dialing_mode="Progressive"),
        dialed(1000, 1, "o1"),
        ob("DialResult", 31000, record_id="rec1", call_id="o1", result="NoAnswer"),
        dialed(100000, 2, "o2"),
        ob("DialResult", 102000, record_id="rec1", call_id="o2", result="Busy"),
        dialed(200000, 3, "o3"),
        ob("DialResult", 210000, record_id="rec1", call_id="o3", result="Answered"),
        ob("RecordCompleted", 271200, record_id="rec1", disposition="Sale"),
        ob("CampaignGroupStopped", 400000, group="AG_Out", dialing_mode="Progressive"),
    ]

    def call(type_: str, ms: int, **fields: object) -> dict:
        return f.make(type_, ts(ms), call_id="o3", **fields)

    calls = [
        call(
            "CallCreated",
            200100,
            call_type="Outbound",
            thread_id="o3",
            ani="+1800",
            dnis="+1555111",
            user_data={},
        ),
        call(
            "PartyAdded",
            200200,
            party_id="cust",
            dn="+1555111",
            dn_type="External",
            agent_id=None,
            reason="New",
            initiator_party_id=None,
        ),
        call("Ringing", 200300, party_id="cust"),
        call("Established", 210000, party_id="cust"),
        call(
            "PartyAdded",
            210100,
            party_id="ag",
            dn="7100",
            dn_type="Extension",
            agent_id="h1",
            reason="Route",
            initiator_party_id=None,
        ),
        call("Ringing", 210200, party_id="ag"),
        call("Established", 211000, party_id="ag"),
        call("Released", 271000, party_id="cust", cause="Normal"),
        call("Released", 271000, party_id="ag", cause="Normal"),
        call("CallEnded", 271100),
    ]
    return outbound, calls


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory, pg_server: str) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("digital")
    for settings in module_database(pg_server, home / "home", "digital"):
        land_events(settings, home / "events", scenarios(EventFactory()))
        build_models(
            settings,
            [
                "--select",
                "+interaction_fact",
                "+interaction_resource_fact",
                "+mediation_segment_fact",
                "+sm_res_session_fact",
                "+sm_res_state_fact",
                "+sm_media_neutral_state_fact",
                "+contact_attempt_fact",
                "+campaign_group_session_fact",
                "+ag2_campaign_day",
                "+resource_",
                "date_time",
            ],
        )
        yield settings


IRF = (
    "agent_id, resource_role, technical_result, result_reason, start_ts, end_ts, ring_count,"
    " ring_duration, talk_count, talk_duration, hold_duration, after_call_work_duration,"
    " queue_duration, last_vqueue_name, active_flag"
)


def irf_rows(settings: Settings, itx_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(settings.pg_dsn) as conn:  # type: ignore[arg-type]
        cur = conn.execute(
            f"select {IRF} from infomart.interaction_resource_fact where media_server_ixn_id = %s"
            " order by start_ts",
            (itx_id,),
        )
        names = [d.name for d in cur.description]  # type: ignore[union-attr]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def offer(agent: str, start: int, end: int | None, ring: int, talk: int = 0, **values: Any) -> dict[str, Any]:
    row = dict(
        agent_id=agent,
        resource_role="Received",
        technical_result="Completed",
        result_reason="Unspecified",
        start_ts=at(start),
        end_ts=at(end),
        ring_count=1,
        ring_duration=ring,
        talk_count=1 if talk else 0,
        talk_duration=talk,
        hold_duration=0,
        after_call_work_duration=0,
        queue_duration=0,
        last_vqueue_name="CHAT_Q",
        active_flag=0 if end is not None else 1,
    )
    row.update(values)
    return row


def msf_rows(settings: Settings, itx_id: str) -> list[tuple]:
    with psycopg.connect(settings.pg_dsn) as conn:  # type: ignore[arg-type]
        return conn.execute(
            "select msf.queue_name, msf.start_ts, msf.end_ts, msf.mediation_duration, msf.technical_result,"
            " msf.short_abandoned_flag, target.agent_id, mt.media_name_code"
            " from infomart.mediation_segment_fact as msf"
            " join infomart.media_type as mt using (media_type_key)"
            " left join infomart.interaction_resource_fact as target"
            " on target.interaction_resource_id = msf.target_ixn_resource_id"
            " where msf.media_server_ixn_id = %s order by msf.start_ts",
            (itx_id,),
        ).fetchall()


def test_chat_rejected_timed_out_then_accepted(marts: Settings) -> None:
    # ring 3.0 s; 30.0 s; 4.5 s -> 5 (half up); talk 80.0 s; queue 0.1 -> 44.5 s = 44.4 s -> 44
    assert irf_rows(marts, "chat-3-offers") == [
        offer("a1", 5100, 8100, 3, technical_result="Rejected"),
        offer("a2", 9000, 39000, 30, technical_result="Redirected", result_reason="NoAnswer"),
        offer("a3", 40000, 124500, 5, 80, queue_duration=44),
    ]
    # one segment to the acceptance: the rejected and timed-out offers stay inside it
    assert msf_rows(marts, "chat-3-offers") == [
        ("CHAT_Q", at(100), at(44500), 44, "Diverted", 0, "a3", "CHAT")
    ]


def test_email_transferred_to_a_queue_and_accepted_there(marts: Settings) -> None:
    # b1: ring 2 s, talk 300 s, queue 12.0 s in MAIL_1; b2 after the transfer: ring 3 s,
    # talk 300 s, queue 312.3 -> 403.3 s = 91 s in MAIL_2
    assert irf_rows(marts, "email-transfer") == [
        offer(
            "b1",
            10200,
            312200,
            2,
            300,
            technical_result="Transferred",
            queue_duration=12,
            last_vqueue_name="MAIL_1",
        ),
        offer(
            "b2",
            400300,
            703300,
            3,
            300,
            resource_role="ReceivedTransfer",
            queue_duration=91,
            last_vqueue_name="MAIL_2",
        ),
    ]
    assert msf_rows(marts, "email-transfer") == [
        ("MAIL_1", at(200), at(12200), 12, "Diverted", 0, "b1", "EMAIL"),
        ("MAIL_2", at(312300), at(403300), 91, "Diverted", 0, "b2", "EMAIL"),
    ]


def test_two_chats_overlap_on_one_agent(marts: Settings) -> None:
    # c1: ring 5 s, talk 60 s, queue 9 s; c2: ring 3 s, talk 27 s, queue 7.9 s -> 8
    (first,) = irf_rows(marts, "chat-overlap-1")
    (second,) = irf_rows(marts, "chat-overlap-2")
    assert first == offer("d1", 5000, 70000, 5, 60, queue_duration=9)
    assert second == offer("d1", 20000, 50000, 3, 27, queue_duration=8)
    assert first["start_ts"] < second["start_ts"] < second["end_ts"] < first["end_ts"]  # overlapping rows
    # Busy on chat while any offer or accepted chat is open: 5 s -> 70 s as one run
    with psycopg.connect(marts.pg_dsn) as conn:  # type: ignore[arg-type]
        states = conn.execute(
            "select rs.state_name, f.start_ts, f.end_ts from infomart.sm_res_state_fact f"
            " join infomart.resource_state rs using (resource_state_key)"
            " where f.agent_id = 'd1' and f.media_name = 'chat' order by f.start_ts"
        ).fetchall()
    assert states == [
        ("NotReady", at(0), at(1000)),
        ("Ready", at(1000), at(5000)),
        ("Busy", at(5000), at(70000)),
        ("Ready", at(70000), at(100000)),
    ]


def test_chat_abandoned_while_offered(marts: Settings) -> None:
    assert irf_rows(marts, "chat-ring-abandon") == [
        offer("e1", 5000, 9000, 4, technical_result="Abandoned", result_reason="AbandonedWhileRinging")
    ]
    # 0.1 -> 9.0 s = 8.9 s -> 9, within the 10 s short-abandon threshold
    assert msf_rows(marts, "chat-ring-abandon") == [
        ("CHAT_Q", at(100), at(9000), 9, "Abandoned", 1, None, "CHAT")
    ]


def test_email_expired_in_queue_is_cleared(marts: Settings) -> None:
    assert irf_rows(marts, "email-expired") == []
    assert msf_rows(marts, "email-expired") == [
        ("MAIL_1", at(500), at(3600500), 3600, "Cleared", 0, None, "EMAIL")
    ]


def test_direct_transfer_to_an_agent(marts: Settings) -> None:
    # g1: ring 1 s, talk 60 s, queue 3 s; g2: ReceivedTransfer, ring 2 s, talk 60 s, no queue time
    assert irf_rows(marts, "chat-direct-transfer") == [
        offer("g1", 2100, 63100, 1, 60, technical_result="Transferred", queue_duration=3),
        offer("g2", 63101, 125101, 2, 60, resource_role="ReceivedTransfer"),
    ]
    assert msf_rows(marts, "chat-direct-transfer") == [
        ("CHAT_Q", at(100), at(3100), 3, "Diverted", 0, "g1", "CHAT")
    ]


def test_session_capacity(marts: Settings) -> None:
    with psycopg.connect(marts.pg_dsn) as conn:  # type: ignore[arg-type]
        rows = conn.execute(
            "select agent_id, media_name, capacity from infomart.sm_res_session_fact order by 1, 2"
        ).fetchall()
    assert rows == [("d1", "chat", 2), ("n1", "chat", 3), ("n1", "voice", 1)]


def test_media_neutral_state_takes_the_highest_priority_across_media(marts: Settings) -> None:
    # voice: NotReady 0-1 s, Ready 1-20 s, NotReady 20-30 s, Ready 30-60 s; chat: NotReady 0-2 s,
    # Ready 2-10 s, Busy 10-40 s, Ready 40-50 s (logged out at 50 s)
    with psycopg.connect(marts.pg_dsn) as conn:  # type: ignore[arg-type]
        rows = conn.execute(
            "select rs.state_name, f.start_ts, f.end_ts, f.total_duration"
            " from infomart.sm_media_neutral_state_fact f"
            " join infomart.resource_state rs using (resource_state_key)"
            " where f.agent_id = 'n1' order by f.start_ts"
        ).fetchall()
    assert rows == [
        ("NotReady", at(0), at(2000), 2),
        ("Ready", at(2000), at(10000), 8),
        ("Busy", at(10000), at(20000), 10),  # Busy on chat over Ready on voice
        ("NotReady", at(20000), at(30000), 10),  # NotReady on voice over Busy on chat
        ("Busy", at(30000), at(40000), 10),
        ("Ready", at(40000), at(60000), 20),  # voice alone after the chat logout
    ]


def test_the_digital_rows_are_their_interactions(marts: Settings, tmp_path: Path) -> None:
    """Every digital IRF and MSF row belongs to its INTERACTION_FACT row and carries its media."""
    with psycopg.connect(marts.pg_dsn) as conn:  # type: ignore[arg-type]
        orphans = conn.execute(
            "select count(*) from ("
            " select interaction_id, media_type_key from infomart.interaction_resource_fact"
            " union all select interaction_id, media_type_key from infomart.mediation_segment_fact) r"
            " left join infomart.interaction_fact i using (interaction_id)"
            " where i.interaction_id is null or i.media_type_key <> r.media_type_key"
        ).fetchone()[0]  # type: ignore[index]
        rows = conn.execute(
            "select count(*) from infomart.interaction_resource_fact where media_type_key <> 1"
        ).fetchone()[0]  # type: ignore[index]
    assert rows == 11 and orphans == 0


def test_a_record_dialed_three_times(marts: Settings) -> None:
    with psycopg.connect(marts.pg_dsn) as conn:  # type: ignore[arg-type]
        attempts = conn.execute(
            "select a.attempt_number, a.start_ts, a.end_ts, a.attempt_duration, a.call_result,"
            " cr.is_connected,"
            " a.dialing_mode, a.campaign_group, a.record_disposition, a.contact_info, a.chain_id,"
            " irf.agent_id, irf.party_id, irf.talk_duration"
            " from infomart.contact_attempt_fact a join infomart.call_result cr using (call_result_key)"
            " left join infomart.interaction_resource_fact irf using (interaction_resource_id)"
            " where a.record_id = 'rec1' order by a.attempt_number"
        ).fetchall()
        groups = conn.execute(
            "select campaign_id, campaign_group, dialing_mode, start_ts, end_ts, total_duration, active_flag"
            " from infomart.campaign_group_session_fact"
        ).fetchall()
    common = ("Progressive", "AG_Out")
    assert attempts == [
        (1, at(1000), at(31000), 30, "NoAnswer", 0, *common, None, "+1555111", "ch1", None, None, None),
        (2, at(100000), at(102000), 2, "Busy", 0, *common, None, "+1555111", "ch1", None, None, None),
        # the disposition on the last attempt only; the agent party's talk 211 -> 271 s
        (3, at(200000), at(210000), 10, "Answered", 1, *common, "Sale", "+1555111", "ch1", "h1", "ag", 60),
    ]
    assert groups == [("CMP_A", "AG_Out", "Progressive", at(0), at(400000), 400, 0)]


def test_the_campaign_aggregate_counts_the_attempts(marts: Settings) -> None:
    # the three attempts start in the 09:00 slot: one each of NoAnswer, Busy, Answered; the
    # answered one connected to h1 and completed the record; attempt time 30 + 2 + 10 s
    columns = (
        "interval_start_ts, attempts, answered, busy, no_answer, abandoned, connected, records_completed,"
        " attempt_time, attempt_time_ms"
    )
    with psycopg.connect(marts.pg_dsn) as conn:  # type: ignore[arg-type]
        subhr = conn.execute(f"select {columns} from infomart.ag2_campaign_subhr").fetchall()
        day = conn.execute(
            "select attempts, connected, attempt_time_ms from infomart.ag2_campaign_day"
        ).fetchall()
    assert subhr == [(at(0), 3, 1, 1, 1, 0, 1, 1, 42, 42000)]
    assert day == [(3, 1, 42000)]
