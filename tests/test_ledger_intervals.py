"""The ledger per 15-minute interval (the ground truth of the aggregates, AGGREGATES.md):
hand-built scenarios with values worked out by hand, identities in every row, and agreement
with the ledger's per-fact rows on a simulated run."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from simulator import SimulationConfig, parse_ts, simulate, ts_str
from simulator.intervals import (
    AGENT_MEASURES,
    QUARTER_MS,
    QUEUE_MEASURES,
    STATE_MEASURES,
    QueueStay,
    ReportingClock,
    ThresholdsInForce,
    agent_interval_rows,
    agent_state_interval_rows,
    digital_handlings,
    digital_stays,
    queue_interval_rows,
    time_range_key,
    time_ranges,
    voice_handling,
    voice_stay,
    wait_distribution_rows,
)
from simulator.ledger import Ledger, _agent_rows, build_ledger, party_row
from simulator.model import Agent, Call, Itx, Offer, Party, Session, Thread
from simulator.simulation import Simulation
from simulator.timefmt import to_ms
from tests.test_simulator import COVERAGE

ROOT = Path(__file__).resolve().parents[1]
# AGGREGATES.md: the 20 default ranges [lower, upper) in seconds, the last one open
AGGREGATES_RANGES = (0, 5, 10, 15, 20, 25, 30, 40, 50, 60, 90, 120, 180, 240, 300, 600, 900, 1200, 1800, 3600)
ACTIVITY_TOPICS = ("voice-callthread", "voice-agentstate", "digital-itx", "digital-agentstate")


def at(h: int, m: int, s: int = 0, ms: int = 0, day: tuple[int, int, int] = (2026, 11, 23)) -> int:
    """Epoch ms of a UTC wall-clock time."""
    return to_ms(datetime(*day, h, m, s, tzinfo=UTC)) + ms


# ---------------------------------------------------------------------------------- hand-built objects
def new_agent(idx: int = 1) -> Agent:
    return Agent(
        idx, f"agent{idx:04d}", f"7{idx:04d}", f"Place_{idx:04d}", ("VQ_Sales",), {}, [], (), False, "A", "B"
    )


def new_call(call_id: str, created: int, call_type: str = "Inbound") -> Call:
    thread = Thread(f"t-{call_id}")
    call = Call(call_id, thread, call_type, "5550100", "8001", created, created)
    thread.calls.append(call)
    return call


def add_party(call: Call, pid: str, dn_type: str, added: int, agent: Agent | None = None, **kw: Any) -> Party:
    reason = kw.pop("reason", "Route")
    initiator = kw.pop("initiator", None)
    p = Party(pid, call, agent.dn if agent else pid, dn_type, agent, reason, initiator, added, **kw)
    call.parties.append(p)
    if agent is not None:
        agent.parties.append(p)
    if dn_type == "External":
        call.customer = p
    return p


def answered_call(
    entered: int, diverted: int, ringing_ms: int, talk_ms: int, agent: Agent
) -> tuple[Party, Party]:
    """An inbound call queued at ``entered``, diverted to ``agent``, answered: (queue party, agent party)."""
    call = new_call(f"c{entered}", entered - 2000)
    add_party(
        call, "cust", "External", entered - 2000, reason="New", released=diverted + ringing_ms + talk_ms
    )
    qp = add_party(call, "qp", "Queue", entered - 1, queue="VQ_Sales", queued=entered)
    established = diverted + ringing_ms
    ap = add_party(call, "ap", "Extension", diverted, agent, initiator=qp, ringing=diverted)
    ap.established, ap.released, ap.cause, ap.busy_from = (
        established,
        established + talk_ms,
        "Normal",
        diverted,
    )
    qp.diverted, qp.released, qp.target, qp.result, qp.cause = (
        diverted,
        diverted + 1,
        ap,
        "Diverted",
        "Normal",
    )
    return qp, ap


def abandoned_stay(entered: int, wait_ms: int, queue: str = "VQ_Sales") -> QueueStay:
    call = new_call(f"c{entered}", entered - 1000)
    add_party(call, "cust", "External", entered - 1000, reason="New", released=entered + wait_ms - 1)
    qp = add_party(call, "qp", "Queue", entered - 1, queue=queue, queued=entered)
    qp.released, qp.result, qp.cause = entered + wait_ms, "Abandoned", "Abandoned"
    stay = voice_stay(qp, {})
    assert stay is not None
    return stay


def zero(measures: tuple[str, ...]) -> dict[str, Any]:
    return dict.fromkeys(measures, 0)


# ---------------------------------------------------------------------------------- hand scenarios
def test_a_call_entered_at_10_14_50_answered_at_10_15_10_counts_in_the_10_00_quarter() -> None:
    agent = new_agent()
    # queued 10:14:50.000, diverted 10:15:05.000, rings 5 s, answered 10:15:10.000, talks 300 s
    qp, ap = answered_call(at(10, 14, 50), at(10, 15, 5), 5000, 300_000, agent)
    row = party_row(ap, {})
    stay = voice_stay(qp, {id(ap): row})
    assert stay is not None
    clock = ReportingClock()
    rows = queue_interval_rows([stay], clock, ThresholdsInForce())
    want = {
        "interval_start_ts": "2026-11-23T10:00:00.000Z",
        "interval_start_local": "2026-11-23T10:00:00+00:00",
        "date_time_key": at(10, 0) // 1000,
        "queue": "VQ_Sales",
        "media_type": "voice",
        "interaction_type": "Inbound",
        "service_level_threshold": 20,
        "short_abandon_threshold": 10,
        **zero(QUEUE_MEASURES),
        "entered": 1,
        "accepted": 1,
        "distributed": 1,
        "accepted_time_ms": 20_000,  # 15 s in queue + 5 s ringing
        "accepted_time_max_ms": 20_000,
        "accepted_thr": 1,  # 20 000 ms <= 20 s: within the service level
        "abandoned_time_max_ms": None,
        "engage_time_ms": 300_000,
        "handle_time_ms": 300_000,
        "service_level": 1.0,
    }
    assert rows == [want]
    # the agent's offer is anchored at its own START_TS (party added 10:15:05): the 10:15 quarter
    handling = voice_handling(ap, row)
    assert handling is not None
    arows = agent_interval_rows([handling], clock)
    assert arows == [
        {
            "interval_start_ts": "2026-11-23T10:15:00.000Z",
            "interval_start_local": "2026-11-23T10:15:00+00:00",
            "date_time_key": at(10, 15) // 1000,
            "agent_id": "agent0001",
            "media_type": "voice",
            "interaction_type": "Inbound",
            **zero(AGENT_MEASURES),
            "offered": 1,
            "accepted": 1,
            "invite_time_ms": 5000,
            "engage_time_ms": 300_000,
            "handle_time_ms": 300_000,
        }
    ]


def test_one_ms_over_the_service_level_is_not_within_it() -> None:
    qp, ap = answered_call(at(10, 0), at(10, 0, 15), 5001, 60_000, new_agent())
    stay = voice_stay(qp, {id(ap): party_row(ap, {})})
    assert stay is not None and stay.accepted_ms == 20_001
    (row,) = queue_interval_rows([stay], ReportingClock(), ThresholdsInForce())
    assert (row["accepted"], row["accepted_thr"], row["accepted_time_ms"]) == (1, 0, 20_001)


def test_abandons_of_exactly_10_s_and_10_001_s_against_a_10_s_short_abandon_threshold() -> None:
    # MEASURES.md: SHORT_ABANDONED_FLAG = MEDIATION_DURATION (exact ms) <= threshold: 10 000 ms is short
    stays = [abandoned_stay(at(9, 0), 10_000), abandoned_stay(at(9, 5), 10_001)]
    (row,) = queue_interval_rows(stays, ReportingClock(), ThresholdsInForce())
    assert row["interval_start_ts"] == "2026-11-23T09:00:00.000Z"
    assert (row["entered"], row["abandoned"], row["abandoned_short"]) == (2, 2, 1)
    assert (row["abandoned_time_ms"], row["abandoned_time_max_ms"]) == (20_001, 10_001)
    assert (row["accepted"], row["accepted_time_max_ms"], row["distributed"]) == (0, None, 0)
    # service level: 0 within / (0 accepted + 2 abandoned + 0 while ringing - 1 short)
    assert row["service_level"] == 0.0
    (long_only,) = queue_interval_rows(stays[:1], ReportingClock(), ThresholdsInForce())
    assert long_only["service_level"] is None  # only a short abandon: nothing to answer


def test_wait_distribution_uses_the_time_range_seed_boundaries() -> None:
    waits = [4_999, 5_000, 9_999, 10_000, 10_001, 3_599_999, 3_600_000, 7_200_000]
    stays = [abandoned_stay(at(9, 0) + i, w) for i, w in enumerate(waits)]
    rows = wait_distribution_rows(stays, ReportingClock(), "abandoned")
    got = {r["time_range_key"]: r["abandoned"] for r in rows}
    # [0,5) = 1, [5,10) = 2, [10,15) = 3, [1800,3600) = 19, [3600, open) = 20
    assert got == {1: 1, 2: 2, 3: 2, 19: 1, 20: 2}
    assert all(r["interval_start_ts"] == "2026-11-23T09:00:00.000Z" for r in rows)


def test_a_threshold_change_applies_from_its_instant_and_earlier_rows_keep_the_old_one() -> None:
    schedule = {"VQ_Sales": [(at(14, 5), 30, 5)]}
    in_force = ThresholdsInForce(schedule)

    def accepted(entered: int, wait_ms: int, queue: str = "VQ_Sales") -> QueueStay:
        return QueueStay(queue, "voice", "Inbound", entered, wait_ms - 3000, "accepted", accepted_ms=wait_ms)

    stays = [
        accepted(at(14, 4, 59, 999), 25_000),  # before the change: 20 s, 25 s is outside
        accepted(at(14, 5), 25_000),  # from the change on: 30 s, 25 s is within
        abandoned_stay(at(14, 4), 7_000),  # short at 10 s
        abandoned_stay(at(14, 6), 7_000),  # not short at 5 s
        accepted(at(14, 6), 25_000, "VQ_Billing"),  # another queue keeps the settings
    ]
    rows = queue_interval_rows(stays, ReportingClock(), in_force)
    got = {
        (r["queue"], r["service_level_threshold"], r["short_abandon_threshold"]): (
            r["interval_start_ts"][11:16],
            r["entered"],
            r["accepted"],
            r["accepted_thr"],
            r["abandoned"],
            r["abandoned_short"],
        )
        for r in rows
    }
    assert got == {
        ("VQ_Billing", 20, 10): ("14:00", 1, 1, 0, 0, 0),
        ("VQ_Sales", 20, 10): ("14:00", 2, 1, 0, 1, 1),
        ("VQ_Sales", 30, 5): ("14:00", 2, 1, 1, 1, 0),
    }
    assert in_force.at("VQ_Sales", at(14, 4, 59, 999)).service_level_s == 20
    assert in_force.at("VQ_Sales", at(14, 5)).short_abandon_s == 5


def _ready_agent(start: int, end: int | None) -> Agent:
    a = new_agent()
    a.sessions.append(
        Session(a.agent_id, "voice", start, end, "logout" if end else "open", [(start, "Ready", None)])
    )
    return a


def _state_rows(a: Agent, horizon: int, zone: str = "UTC") -> list[dict[str, Any]]:
    spans: list[Any] = []
    _agent_rows(Ledger(), a, spans)
    return agent_state_interval_rows(spans, ReportingClock(zone), horizon)


def test_ready_from_10_10_to_10_40_gives_300_900_and_600_s_in_three_quarters() -> None:
    rows = _state_rows(_ready_agent(at(10, 10), at(10, 40)), at(11, 0))
    got = [(r["interval_start_ts"][11:16], r["ready_time_ms"], r["active_time_ms"]) for r in rows]
    assert got == [("10:00", 300_000, 300_000), ("10:15", 900_000, 900_000), ("10:30", 600_000, 600_000)]
    assert all(r["not_ready_time_ms"] == r["busy_time_ms"] == r["wrap_time_ms"] == 0 for r in rows)
    assert [r["occupancy"] for r in rows] == [0.0, 0.0, 0.0]


def test_a_call_across_a_boundary_splits_busy_and_ready_exactly() -> None:
    a = _ready_agent(at(10, 10), at(10, 40))
    # rung at 10:14:00, answered, released at 10:16:30: Busy 60 s before 10:15 and 90 s after
    call = new_call("c1", at(10, 13))
    p = add_party(call, "ap", "Extension", at(10, 14), a, ringing=at(10, 14), established=at(10, 14, 5))
    p.released, p.cause, p.busy_from = at(10, 16, 30), "Normal", at(10, 14)
    rows = _state_rows(a, at(11, 0))
    got = [
        (r["interval_start_ts"][11:16], r["ready_time_ms"], r["busy_time_ms"], r["active_time_ms"])
        for r in rows
    ]
    assert got == [
        ("10:00", 240_000, 60_000, 300_000),
        ("10:15", 810_000, 90_000, 900_000),
        ("10:30", 600_000, 0, 600_000),
    ]
    assert [r["occupancy"] for r in rows] == [0.2, 0.1, 0.0]  # 60/300, 90/900


def test_an_open_session_runs_to_the_data_horizon() -> None:
    rows = _state_rows(_ready_agent(at(10, 10), None), at(10, 50))
    got = [(r["interval_start_ts"][11:16], r["ready_time_ms"], r["active_time_ms"]) for r in rows]
    assert got == [
        ("10:00", 300_000, 300_000),
        ("10:15", 900_000, 900_000),
        ("10:30", 900_000, 900_000),
        ("10:45", 300_000, 300_000),
    ]


def _quarters(labels: list[str]) -> list[tuple[int, int]]:
    return [(int(x[11:13]), int(x[14:16])) for x in labels]


def test_dst_spring_forward_day_has_92_quarter_hours_each_once() -> None:
    # America/New_York 2026-03-08: 00:00 EST = 05:00Z .. next 00:00 EDT = 04:00Z, 23 hours
    start, end = at(5, 0, day=(2026, 3, 8)), at(4, 0, day=(2026, 3, 9))
    rows = _state_rows(_ready_agent(start, end), end, "America/New_York")
    labels = [r["interval_start_local"] for r in rows]
    assert len(rows) == 92 and len(set(labels)) == 92
    assert _quarters(labels) == [(h, m) for h in range(24) if h != 2 for m in (0, 15, 30, 45)]
    assert all(r["active_time_ms"] == r["ready_time_ms"] == 900_000 for r in rows)
    assert labels[7:9] == ["2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00"]
    assert [r["interval_start_ts"] for r in rows[7:9]] == [
        "2026-03-08T06:45:00.000Z",
        "2026-03-08T07:00:00.000Z",
    ]


def test_dst_fall_back_day_has_100_quarter_hours_each_once() -> None:
    # America/New_York 2026-11-01: 00:00 EDT = 04:00Z .. next 00:00 EST = 05:00Z, 25 hours
    start, end = at(4, 0, day=(2026, 11, 1)), at(5, 0, day=(2026, 11, 2))
    rows = _state_rows(_ready_agent(start, end), end, "America/New_York")
    labels = [r["interval_start_local"] for r in rows]
    assert len(rows) == 100 and len(set(labels)) == 100
    hours = [0, 1, 1, *range(2, 24)]
    assert _quarters(labels) == [(h, m) for h in hours for m in (0, 15, 30, 45)]
    assert "2026-11-01T01:15:00-04:00" in labels and "2026-11-01T01:15:00-05:00" in labels
    assert all(r["active_time_ms"] == 900_000 for r in rows)
    # a call entered at 01:20 EST goes to the second 01:15 quarter (06:15Z), not the first (05:15Z)
    (row,) = queue_interval_rows(
        [abandoned_stay(at(6, 20, day=(2026, 11, 1)), 30_000)],
        ReportingClock("America/New_York"),
        ThresholdsInForce(),
    )
    assert (row["interval_start_local"], row["interval_start_ts"]) == (
        "2026-11-01T01:15:00-05:00",
        "2026-11-01T06:15:00.000Z",
    )


def test_quarter_hours_are_local_where_the_offset_is_not_whole_quarters() -> None:
    # Amsterdam in 1935 ran at +00:19:32 (summer +01:19:32): local 10:15:00 is 09:55:28Z
    clock = ReportingClock("Europe/Amsterdam")
    utc_10 = at(10, 0, day=(1935, 1, 1))
    assert clock.start_of(utc_10) == at(9, 55, 28, day=(1935, 1, 1))
    assert clock.local_label(clock.start_of(utc_10)) == "1935-01-01T10:15:00+00:19:32"
    rows = _state_rows(_ready_agent(utc_10, utc_10 + 1_800_000), utc_10, "Europe/Amsterdam")
    # 10:00Z-10:30Z is local 10:19:32-10:49:32: 628 s, 900 s, 272 s in the local 10:15, 10:30, 10:45
    got = [(r["interval_start_local"][11:16], r["active_time_ms"]) for r in rows]
    assert got == [("10:15", 628_000), ("10:30", 900_000), ("10:45", 272_000)]


def test_a_half_hour_zone_and_utc_days() -> None:
    clock = ReportingClock("Asia/Kolkata")  # +05:30: local quarter hours are UTC quarter hours
    assert clock.start_of(at(10, 29, 59, 999)) == at(10, 15)
    assert clock.local_label(at(10, 15)) == "2026-11-23T15:45:00+05:30"
    utc = ReportingClock()
    day = utc.intervals(at(0, 0), at(0, 0, day=(2026, 11, 24)))
    assert len(day) == 96 and day[0] == at(0, 0) and day[-1] == at(23, 45)
    assert utc.split(at(10, 0), at(10, 0)) == []
    # a fresh clock asked about 10:00 first also reaches back, without gaps
    fresh = ReportingClock("America/New_York")
    assert fresh.start_of(at(10, 7)) == at(10, 0)
    assert fresh.start_of(at(1, 7)) == at(1, 0)
    assert fresh.intervals(at(1, 0), at(10, 15)) == [at(1, 0) + i * QUARTER_MS for i in range(37)]


def test_digital_stay_offers_inside_it_and_a_transfer() -> None:
    a, b, c = new_agent(1), new_agent(2), new_agent(3)
    itx = Itx("i-1", "chat", "cust1", at(10, 0), at(10, 0), "VQ_Chat")
    itx.stays.append(["VQ_Chat", at(10, 0, 1), at(10, 0, 14)])
    rejected = Offer(itx, a, at(10, 0, 5), "Rejected", at(10, 0, 8), at(10, 0, 8), "Rejected")
    taken = Offer(itx, b, at(10, 0, 10), "Accepted", at(10, 0, 14), at(10, 7, 14), "Transferred")
    passed = Offer(itx, c, at(10, 7, 15), "Accepted", at(10, 7, 20), at(10, 20, 0), "AgentReleased")
    itx.offers += [rejected, taken, passed]
    itx.completed, itx.reason = at(10, 20, 0, 1), "Resolved"
    (stay,) = digital_stays(itx)
    assert (stay.outcome, stay.duration_ms, stay.accepted_ms, stay.engage_ms) == (
        "accepted",
        13_000,
        13_000,
        420_000,
    )
    rows = {
        (r["agent_id"], r["interval_start_ts"][11:16]): r
        for r in agent_interval_rows(digital_handlings(itx), ReportingClock())
    }
    pick = (
        "offered",
        "accepted",
        "rejected",
        "invite_time_ms",
        "engage_time_ms",
        "transfer_init",
        "xfer_received_accepted",
    )
    assert {k: tuple(r[x] for x in pick) for k, r in rows.items()} == {
        ("agent0001", "10:00"): (1, 0, 1, 3000, 0, 0, 0),
        ("agent0002", "10:00"): (1, 1, 0, 4000, 420_000, 1, 0),
        ("agent0003", "10:00"): (
            1,
            1,
            0,
            5000,
            760_000,
            0,
            1,
        ),  # offered 10:07:15, after the transfer; talks 10:07:20-10:20
    }
    assert all(r["media_type"] == "chat" and r["interaction_type"] == "Inbound" for r in rows.values())


def test_the_time_range_seed_is_aggregates_md_default() -> None:
    ranges = time_ranges()
    assert [r.start_s for r in ranges] == list(AGGREGATES_RANGES)
    assert [r.end_s for r in ranges] == [*AGGREGATES_RANGES[1:], None]
    assert [r.key for r in ranges] == list(range(1, 21))
    assert len({r.name for r in ranges}) == 20
    seeds = yaml.safe_load((ROOT / "seeds" / "_seeds.yml").read_text())["seeds"]
    (entry,) = [s for s in seeds if s["name"] == "time_range"]
    assert {c["name"] for c in entry["columns"]} == {
        "time_range_key",
        "time_range_name",
        "range_start",
        "range_end",
    }
    assert [time_range_key(ms) for ms in (0, 4_999, 5_000, 3_600_000)] == [1, 1, 2, 20]


# ---------------------------------------------------------------------------------- a simulated run
@pytest.fixture(scope="module")
def cov() -> tuple[Simulation, Ledger, list[dict[str, Any]]]:
    sim = Simulation(COVERAGE)
    sim.run()
    res = sim.result()
    return sim, res.ledger, [{"topic": d.topic, **orjson.loads(d.value)} for d in res.deliveries]


def quarter(ts: str) -> str:
    ms = parse_ts(ts)
    return ts_str(ms - ms % QUARTER_MS)


def test_every_row_keeps_the_identities(cov) -> None:  # type: ignore[no-untyped-def]
    led = cov[1]
    assert led.queue_intervals and led.agent_intervals and led.agent_state_intervals
    for r in led.queue_intervals:
        outcomes = r["accepted"] + r["abandoned"] + r["abandoned_invite"] + r["redirected"] + r["cleared"]
        assert r["entered"] == outcomes + r["routed_other"] > 0, r
        assert r["distributed"] == r["accepted"] + r["abandoned_invite"] + r["redirected"] + r["routed_other"]
        assert r["abandoned_short"] <= r["abandoned"] and r["accepted_thr"] <= r["accepted"]
        assert r["handle_time_ms"] == r["engage_time_ms"] + r["hold_time_ms"] + r["wrap_time_ms"]
        assert (r["accepted_time_max_ms"] is None) == (r["accepted"] == 0)
        assert (r["abandoned_time_max_ms"] is None) == (r["abandoned"] == 0)
        answerable = r["accepted"] + r["abandoned"] + r["abandoned_invite"] - r["abandoned_short"]
        assert r["service_level"] == (r["accepted_thr"] / answerable if answerable else None)
        if r["accepted"]:
            assert (
                r["accepted_time_max_ms"]
                <= r["accepted_time_ms"]
                <= r["accepted"] * r["accepted_time_max_ms"]
            )
    for r in led.agent_intervals:
        assert r["offered"] >= r["accepted"] + r["rejected"] + r["redirected"] + r["abandoned_invite"]
        assert r["handle_time_ms"] == r["engage_time_ms"] + r["hold_time_ms"] + r["wrap_time_ms"]
        assert r["consult_offered"] >= r["consult_accepted"]
        assert any(r[m] for m in AGENT_MEASURES)
    for r in led.agent_state_intervals:
        parts = r["ready_time_ms"] + r["not_ready_time_ms"] + r["busy_time_ms"] + r["wrap_time_ms"]
        assert parts == r["active_time_ms"], r  # exact: states tile sessions, to the ms
        assert 0 < r["active_time_ms"] <= QUARTER_MS
        working = r["busy_time_ms"] + r["wrap_time_ms"]
        if working + r["ready_time_ms"]:
            assert r["occupancy"] == working / (working + r["ready_time_ms"])
        else:
            assert r["occupancy"] is None
    for name, grain in (
        (
            "queue_intervals",
            (
                "interval_start_ts",
                "queue",
                "media_type",
                "interaction_type",
                "service_level_threshold",
                "short_abandon_threshold",
            ),
        ),
        (
            "queue_abn_intervals",
            ("interval_start_ts", "queue", "media_type", "interaction_type", "time_range_key"),
        ),
        (
            "queue_acc_agent_intervals",
            ("interval_start_ts", "queue", "media_type", "interaction_type", "time_range_key"),
        ),
        ("agent_intervals", ("interval_start_ts", "agent_id", "media_type", "interaction_type")),
        ("agent_state_intervals", ("interval_start_ts", "agent_id", "media_type")),
    ):
        rows = getattr(led, name)
        keys = [tuple(r[k] for k in grain) for r in rows]
        assert len(set(keys)) == len(keys) and keys == sorted(keys), name
        for r in rows:
            assert parse_ts(r["interval_start_ts"]) % QUARTER_MS == 0 and r["date_time_key"] % 900 == 0


def test_voice_queue_rows_equal_the_mediation_segments(cov) -> None:  # type: ignore[no-untyped-def]
    led = cov[1]
    itype = {i["interaction_key"]: i["interaction_type"] for i in led.interactions}
    irf = {r["party_id"]: r for r in led.parties}
    want: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    maxes: dict[tuple[Any, ...], dict[str, int]] = defaultdict(dict)
    for m in led.mediation_segments:
        key = (quarter(m["start_ts"]), m["queue"], "voice", itype[m["thread_id"]], 20, 10)
        w, dur = want[key], m["duration_ms"]
        w["entered"] += 1
        if m["technical_result"] == "Abandoned":
            w["abandoned"] += 1
            w["abandoned_short"] += m["short_abandoned"]
            w["abandoned_time_ms"] += dur
            maxes[key]["abandoned_time_max_ms"] = max(maxes[key].get("abandoned_time_max_ms", 0), dur)
            continue
        if m["technical_result"] == "Cleared":
            w["cleared"] += 1
            continue
        w["distributed"] += 1
        t = irf[m["target_party_id"]]
        if t["agent_id"] is not None and t["talk_count"] == 1:
            wait = dur + t["ring_ms"]
            w["accepted"] += 1
            w["accepted_time_ms"] += wait
            w["accepted_thr"] += wait <= 20_000
            maxes[key]["accepted_time_max_ms"] = max(maxes[key].get("accepted_time_max_ms", 0), wait)
            handle = t["talk_ms"] + t["hold_ms"] + (t["acw_ms"] or 0)
            w.update(
                engage_time_ms=t["talk_ms"],
                hold_time_ms=t["hold_ms"],
                wrap_time_ms=t["acw_ms"] or 0,
                handle_time_ms=handle,
            )
        elif t["result_reason"] == "AbandonedWhileRinging":
            w["abandoned_invite"] += 1
        elif t["technical_result"] in ("Redirected", "Rejected"):
            w["redirected"] += 1
        else:
            w["routed_other"] += 1
    got = {
        (
            r["interval_start_ts"],
            r["queue"],
            r["media_type"],
            r["interaction_type"],
            r["service_level_threshold"],
            r["short_abandon_threshold"],
        ): r
        for r in led.queue_intervals
        if r["media_type"] == "voice"
    }
    assert set(got) == set(want)
    for key, w in want.items():
        expected = {
            **zero(QUEUE_MEASURES),
            "accepted_time_max_ms": None,
            "abandoned_time_max_ms": None,
            **w,
            **maxes[key],
        }
        assert {k: got[key][k] for k in expected} == expected, key
    total = Counter()
    for r in got.values():
        total.update({k: r[k] for k in ("entered", "abandoned", "cleared", "distributed", "abandoned_short")})
    results = Counter(m["technical_result"] for m in led.mediation_segments)
    assert total["entered"] == len(led.mediation_segments)
    assert (total["abandoned"], total["cleared"], total["distributed"]) == (
        results["Abandoned"],
        results["Cleared"],
        results["Diverted"],
    )
    assert total["abandoned_short"] == sum(m["short_abandoned"] for m in led.mediation_segments) > 0


def test_digital_queue_rows_count_every_stay(cov) -> None:  # type: ignore[no-untyped-def]
    led = cov[1]
    rows = [r for r in led.queue_intervals if r["media_type"] != "voice"]
    total = Counter()
    for r in rows:
        total.update(
            {
                k: r[k]
                for k in ("entered", "accepted", "abandoned", "cleared", "abandoned_invite", "redirected")
            }
        )
    outcomes = Counter(d["outcome"] for d in led.digital)
    assert total["entered"] == sum(len(d["queues"]) for d in led.digital) > 0
    assert total["abandoned"] == outcomes["Abandoned"] > 0
    assert total["cleared"] == outcomes["Expired"] + outcomes["Cancelled"]
    assert total["abandoned_invite"] == total["redirected"] == 0  # a refused offer stays inside its segment
    queue_ms = sum(d["queue_ms"] for d in led.digital)
    # every stay's duration is either accepted (its accepted time) or abandoned or cleared time
    assert sum(r["accepted_time_ms"] + r["abandoned_time_ms"] for r in rows) <= queue_ms


def test_voice_agent_rows_equal_the_irf_rows(cov) -> None:  # type: ignore[no-untyped-def]
    led = cov[1]
    itype = {i["interaction_key"]: i["interaction_type"] for i in led.interactions}
    want: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    for p in led.parties:
        if p["agent_id"] is None:
            continue
        w = want[(quarter(p["start_ts"]), p["agent_id"], "voice", itype[p["thread_id"]])]
        role, result, talk = p["resource_role"], p["technical_result"], p["talk_ms"]
        if p["call_type"] == "Consult":
            w["consult_engage_time_ms"] += talk
            if role == "ReceivedConsult":
                w["consult_offered"] += 1
                w["consult_accepted"] += p["talk_count"]
            continue
        acw = p["acw_ms"] or 0
        w.update(
            engage_time_ms=talk,
            hold=p["hold_count"],
            hold_time_ms=p["hold_ms"],
            wrap=p["acw_count"],
            wrap_time_ms=acw,
        )
        w.update(
            handle_time_ms=talk + p["hold_ms"] + acw,
            transfer_init=result == "Transferred",
            consult_init=p["cons_init_count"],
        )
        if role in ("Received", "ReceivedTransfer", "ReceivedConference"):
            w.update(offered=1, accepted=p["talk_count"], invite_time_ms=p["ring_ms"])
            w.update(rejected=result == "Rejected", redirected=result == "Redirected")
            w["abandoned_invite"] += p["result_reason"] == "AbandonedWhileRinging"
            w["xfer_received_accepted"] += role == "ReceivedTransfer" and p["talk_count"] == 1
            w["conf_received_accepted"] += role == "ReceivedConference" and p["talk_count"] == 1
        elif role == "Initiated":
            w.update(initiated=1, dial_time_ms=p["dial_ms"])
    want = {k: w for k, w in want.items() if any(w.values())}
    got = {
        (r["interval_start_ts"], r["agent_id"], r["media_type"], r["interaction_type"]): r
        for r in led.agent_intervals
        if r["media_type"] == "voice"
    }
    assert set(got) == set(want)
    for key, w in want.items():
        expected = {**zero(AGENT_MEASURES), **w}
        assert {k: got[key][k] for k in AGENT_MEASURES} == expected, key
    assert {k[3] for k in got} == {"Inbound", "Outbound", "Internal"}
    sums = {m: sum(r[m] for r in got.values()) for m in AGENT_MEASURES}
    assert all(
        sums[m] > 0
        for m in ("offered", "rejected", "redirected", "abandoned_invite", "initiated", "transfer_init")
    )
    assert all(
        sums[m] > 0
        for m in ("xfer_received_accepted", "conf_received_accepted", "consult_init", "consult_accepted")
    )
    assert sums["wrap_time_ms"] == sum(p["acw_ms"] or 0 for p in led.parties)


def test_digital_agent_rows_count_every_offer(cov) -> None:  # type: ignore[no-untyped-def]
    led = cov[1]
    rows = [r for r in led.agent_intervals if r["media_type"] != "voice"]
    sums = {m: sum(r[m] for r in rows) for m in AGENT_MEASURES}
    assert sums["offered"] == sum(d["offers"] for d in led.digital) > 0
    assert sums["accepted"] == sum(d["accepted"] for d in led.digital)
    assert sums["rejected"] == sum(d["rejected"] for d in led.digital) > 0
    assert sums["redirected"] == sum(d["timed_out"] for d in led.digital) > 0
    assert sums["transfer_init"] == sum(d["transfers"] for d in led.digital) > 0
    assert sums["engage_time_ms"] == sum(d["handle_ms"] for d in led.digital)


def _split_utc(start: int, end: int) -> list[tuple[str, int]]:
    out = []
    b = start - start % QUARTER_MS
    while b < end:
        out.append((ts_str(b), min(end, b + QUARTER_MS) - max(start, b)))
        b += QUARTER_MS
    return out


def test_agent_state_rows_split_the_state_and_session_spans(cov) -> None:  # type: ignore[no-untyped-def]
    _, led, evs = cov
    horizon = max(parse_ts(e["ts"]) for e in evs if e["topic"] in ACTIVITY_TOPICS)
    column = {
        "Ready": "ready_time_ms",
        "NotReady": "not_ready_time_ms",
        "Busy": "busy_time_ms",
        "AfterCallWork": "wrap_time_ms",
    }
    want: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    spans = [(s, "active_time_ms") for s in led.agent_sessions] + [
        (s, column[s["state"]]) for s in led.agent_states
    ]
    assert any(s["end_ts"] is None for s, _ in spans)
    for s, col in spans:
        end = horizon if s["end_ts"] is None else parse_ts(s["end_ts"])
        for b, ms in _split_utc(parse_ts(s["start_ts"]), end):
            if ms:
                want[(b, s["agent_id"], s["media"])][col] += ms
    got = {(r["interval_start_ts"], r["agent_id"], r["media_type"]): r for r in led.agent_state_intervals}
    assert set(got) == set(want)
    for key, w in want.items():
        assert {m: got[key][m] for m in STATE_MEASURES} == {**zero(STATE_MEASURES), **w}, key
    assert {k[2] for k in got} == {"voice", "chat", "email"}
    closed = sum(s["duration_ms"] for s in led.agent_states if s["duration_ms"] is not None)
    open_ = sum(horizon - parse_ts(s["start_ts"]) for s in led.agent_states if s["end_ts"] is None)
    assert sum(r["active_time_ms"] for r in got.values()) == closed + open_


def test_wait_distributions_add_up_to_the_queue_rows(cov) -> None:  # type: ignore[no-untyped-def]
    led = cov[1]
    for name, measure in (("queue_abn_intervals", "abandoned"), ("queue_acc_agent_intervals", "accepted")):
        dist: Counter[tuple[str, ...]] = Counter()
        for r in getattr(led, name):
            assert r[measure] > 0 and 1 <= r["time_range_key"] <= 20
            dist[(r["interval_start_ts"], r["queue"], r["media_type"], r["interaction_type"])] += r[measure]
        rows: Counter[tuple[str, ...]] = Counter()
        for r in led.queue_intervals:
            rows[(r["interval_start_ts"], r["queue"], r["media_type"], r["interaction_type"])] += r[measure]
        assert dist == +rows and dist, name
    # abandons by MEDIATION_DURATION, bucketed here with AGGREGATES.md's bounds
    want: Counter[tuple[str, str, int]] = Counter()
    for m in led.mediation_segments:
        if m["technical_result"] == "Abandoned":
            k = sum(1 for lo in AGGREGATES_RANGES if lo * 1000 <= m["duration_ms"])
            want[(quarter(m["start_ts"]), m["queue"], k)] += 1
    got = Counter(
        {
            (r["interval_start_ts"], r["queue"], r["time_range_key"]): r["abandoned"]
            for r in led.queue_abn_intervals
            if r["media_type"] == "voice"
        }
    )
    assert got == want and len({k[2] for k in got}) > 3


def test_data_horizon_is_the_latest_activity_event(cov) -> None:  # type: ignore[no-untyped-def]
    from simulator.ledger import data_horizon

    sim, _, evs = cov
    assert data_horizon(sim) == max(parse_ts(e["ts"]) for e in evs if e["topic"] in ACTIVITY_TOPICS)


def test_a_threshold_schedule_moves_rows_and_the_short_abandon_flag(cov) -> None:  # type: ignore[no-untyped-def]
    sim, base, _ = cov
    change = sim.start_ms + 3_600_000
    led = build_ledger(sim, thresholds={"VQ_Sales": [(change, 15, 30)]})
    thresholds = {
        (r["queue"], parse_ts(r["interval_start_ts"]) >= change): (
            r["service_level_threshold"],
            r["short_abandon_threshold"],
        )
        for r in led.queue_intervals
        if r["media_type"] == "voice"
    }
    assert thresholds[("VQ_Sales", True)] == (15, 30) and thresholds[("VQ_Sales", False)] == (20, 10)
    assert thresholds[("VQ_Billing", True)] == (20, 10)
    short = sum(r["abandoned_short"] for r in led.queue_intervals if r["media_type"] == "voice")
    assert short == sum(m["short_abandoned"] for m in led.mediation_segments)
    assert short > sum(m["short_abandoned"] for m in base.mediation_segments)
    assert sum(r["entered"] for r in led.queue_intervals) == sum(r["entered"] for r in base.queue_intervals)
    assert led.agent_state_intervals == base.agent_state_intervals


def test_queue_thresholds_option_configures_thresholds_and_the_ledger_follows_them() -> None:
    # queue_thresholds: VQ_Sales 30 s / 5 s and VQ_Chat 60 s (short abandon: the settings' 10 s)
    # from the start; VQ_Sales 15 s / 8 s from 75 % of the run (08:00 + 3 h = 11:00)
    cfg = dict(seed=4, agents=8, duration_hours=4.0)
    base = simulate(SimulationConfig(**cfg))  # type: ignore[arg-type]
    run = simulate(SimulationConfig(**cfg, queue_thresholds=True))  # type: ignore[arg-type]
    start, change = at(8, 0), at(11, 0)
    # a reporting option: the same events, the same run tag
    assert run.run_tag == base.run_tag and [d.value for d in run.deliveries] == [
        d.value for d in base.deliveries
    ]
    queues = [(ts_str(c.ts), c.dbid, c.attributes) for c in run.config_changes if c.object_type == "Queue"]
    thresholds = [
        (ts, dbid, a.get("service_level_threshold"), a.get("short_abandon_threshold"))  # type: ignore[union-attr]
        for ts, dbid, a in queues
    ]
    assert thresholds == [
        ("2026-11-23T08:00:00.000Z", 401, 30, 5),
        ("2026-11-23T08:00:00.000Z", 402, None, None),
        ("2026-11-23T08:00:00.000Z", 403, None, None),
        ("2026-11-23T08:00:00.000Z", 404, 60, None),
        ("2026-11-23T08:00:00.000Z", 405, None, None),
        ("2026-11-23T08:00:00.000Z", 406, None, None),
        ("2026-11-23T08:00:00.000Z", 407, None, None),
        ("2026-11-23T11:00:00.000Z", 401, 15, 8),
    ]
    assert "short_abandon_threshold" not in queues[3][2]  # type: ignore[operator]
    assert [c for c in run.config_changes if c.object_type != "Queue"] == [
        c for c in base.config_changes if c.object_type != "Queue"
    ]
    # the ledger's schedule is the configuration model's
    from simulator.ledger import queue_threshold_schedule

    sim = Simulation(SimulationConfig(**cfg, queue_thresholds=True))  # type: ignore[arg-type]
    sim.run()
    assert queue_threshold_schedule(sim) == {
        "VQ_Sales": [(start, 30, 5), (change, 15, 8)],
        "VQ_Chat": [(start, 60, 10.0)],
    }
    # every row carries the thresholds in force at its entries; abandoned_short and accepted_thr
    # count against them, as the mediation segments and parties say
    expected = {"VQ_Sales": (30, 5), "VQ_Chat": (60, 10)}
    by_queue: dict[tuple[str, bool], tuple[int, int]] = {}
    parties = {p["party_id"]: p for p in run.ledger.parties if p["agent_id"]}
    for r in run.ledger.queue_intervals:
        late = parse_ts(r["interval_start_ts"]) >= change
        want = (15, 8) if r["queue"] == "VQ_Sales" and late else expected.get(r["queue"], (20, 10))
        assert (r["service_level_threshold"], r["short_abandon_threshold"]) == want, r
        by_queue[(r["queue"], late)] = want
    assert {k for k in by_queue if k[0] == "VQ_Sales"} == {("VQ_Sales", False), ("VQ_Sales", True)}
    for queue, late in by_queue:
        if queue not in SimulationConfig().voice_queues:
            continue  # the mediation segments are the voice ones
        sl, sa = by_queue[(queue, late)]
        segments = [
            m
            for m in run.ledger.mediation_segments
            if m["queue"] == queue and (parse_ts(m["start_ts"]) >= change) == late and m["end_ts"]
        ]
        abandoned = [m for m in segments if m["technical_result"] == "Abandoned"]
        rows = [
            r
            for r in run.ledger.queue_intervals
            if r["queue"] == queue and (parse_ts(r["interval_start_ts"]) >= change) == late
        ]
        assert sum(r["abandoned_short"] for r in rows) == sum(
            m["duration_ms"] <= sa * 1000 for m in abandoned
        )
        assert sum(r["abandoned"] for r in rows) == len(abandoned)
        assert all(m["short_abandoned"] == (m["duration_ms"] <= sa * 1000) for m in abandoned)
        # voice: accepted = diverted to an established agent party; its time adds the ringing
        accepted = [
            m["duration_ms"] + parties[m["target_party_id"]]["ring_ms"]
            for m in segments
            if m["technical_result"] == "Diverted"
            and m["target_party_id"] in parties
            and parties[m["target_party_id"]]["talk_count"] == 1
            and parties[m["target_party_id"]]["end_ts"]
        ]
        assert sum(r["accepted"] for r in rows) == len(accepted)
        assert sum(r["accepted_thr"] for r in rows) == sum(ms <= sl * 1000 for ms in accepted)
    # the thresholds change which calls count, never how many
    for name in ("entered", "accepted", "abandoned"):
        assert sum(r[name] for r in run.ledger.queue_intervals) == sum(
            r[name] for r in base.ledger.queue_intervals
        )
    sales_short = [
        sum(r["abandoned_short"] for r in led.queue_intervals if r["queue"] == "VQ_Sales")
        for led in (base.ledger, run.ledger)
    ]
    assert sales_short[0] != sales_short[1]
    assert run.ledger.agent_state_intervals == base.ledger.agent_state_intervals
    assert run.ledger.parties == base.ledger.parties


def test_reporting_zone_moves_boundaries_only() -> None:
    # a run across New York's fall-back hour: 04:00Z-07:00Z on 2026-11-01 (00:00 EDT-02:00 EST)
    cfg = dict(seed=3, agents=8, duration_hours=3.0, start=datetime(2026, 11, 1, 4, 0, tzinfo=UTC))
    utc = simulate(SimulationConfig(**cfg))  # type: ignore[arg-type]
    ny = simulate(SimulationConfig(**cfg, reporting_time_zone="America/New_York"))  # type: ignore[arg-type]
    assert ny.run_tag == utc.run_tag and [d.value for d in ny.deliveries] == [d.value for d in utc.deliveries]
    assert ny.ledger.parties == utc.ledger.parties
    for name, measures in (
        ("queue_intervals", QUEUE_MEASURES),
        ("agent_intervals", AGENT_MEASURES),
        ("agent_state_intervals", STATE_MEASURES),
    ):
        a, b = getattr(utc.ledger, name), getattr(ny.ledger, name)
        for m in measures:
            if not m.endswith("max_ms"):
                assert sum(r[m] for r in a) == sum(r[m] for r in b), (name, m)
    labels = {r["interval_start_local"] for r in ny.ledger.agent_state_intervals}
    assert {"2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"} <= labels
    # New York's quarter hours are UTC's (offsets are whole hours): same starts, other labels
    assert {r["interval_start_ts"] for r in ny.ledger.agent_state_intervals} == {
        r["interval_start_ts"] for r in utc.ledger.agent_state_intervals
    }
    with pytest.raises(ValueError, match="reporting_time_zone"):
        SimulationConfig(reporting_time_zone="Mars/Olympus")
