"""The aggregates (ag2_*, AGGREGATES.md) on hand scenarios whose values are worked out below:
the 10:14:50 entry counted in the 10:00 quarter, Ready 10:10-10:40 split 300/900/600 s, abandons
of exactly 10 s and of 10.001 s against a 10 s threshold, a threshold changed at 14:00 in
configuration, an agent who moves group at noon, DST days, and a late event that re-aggregates
only its own intervals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from infomart.settings import Settings
from tests.conftest import EventFactory
from tests.helpers import build_models, drop_all_schemas, land_events, module_database

SELECT = ["--select", "+path:models/aggregates", "+resource_", "+group_", "date_time"]
DAY = "2026-11-23"


@pytest.fixture(scope="module")
def module_settings(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("ag2-home")
    yield from module_database(pg_server, home, "t_ag2", lookback_minutes=0)


@pytest.fixture
def settings(module_settings: Settings) -> Settings:
    return drop_all_schemas(module_settings)


_landings = iter(range(1_000_000))


def _land(settings: Settings, tmp: Path, by_topic: dict[str, list[dict]]) -> None:
    land_events(settings, tmp / f"landing-{next(_landings)}", by_topic)


def _query(dsn: str, query: str, *args: Any) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, args or None).fetchall()


def _t(hhmmss: str, day: str = DAY) -> str:
    return f"{day}T{hhmmss}Z" if "." in hhmmss else f"{day}T{hhmmss}.000Z"


def _key(hhmmss: str, day: str = DAY) -> int:
    """DATE_TIME_KEY: UTC epoch seconds of the interval start."""
    return int(datetime.fromisoformat(_t(hhmmss, day).replace("Z", "+00:00")).timestamp())


class Calls:
    """Voice calls of the contract, built step by step."""

    def __init__(self, ev: EventFactory) -> None:
        self.ev = ev

    def _created(self, call_id: str, at: str, thread: str | None = None) -> list[dict]:
        return [
            self.ev.make(
                "CallCreated",
                at,
                call_id=call_id,
                thread_id=thread or f"t-{call_id}",
                call_type="Inbound",
                ani="+15550002",
                dnis="+18005550100",
                user_data={},
            ),
            self.ev.make(
                "PartyAdded",
                at,
                call_id=call_id,
                party_id=f"{call_id}-c",
                dn="+15550002",
                dn_type="External",
                agent_id=None,
                reason="New",
                initiator_party_id=None,
            ),
        ]

    def _queued(self, call_id: str, queue: str, at: str) -> list[dict]:
        return [
            self.ev.make(
                "PartyAdded",
                at,
                call_id=call_id,
                party_id=f"{call_id}-q",
                dn=queue,
                dn_type="Queue",
                agent_id=None,
                reason="Route",
                initiator_party_id=None,
            ),
            self.ev.make("Queued", at, call_id=call_id, party_id=f"{call_id}-q", queue=queue),
        ]

    def abandon(self, call_id: str, queue: str, at: str, until: str, thread: str | None = None) -> list[dict]:
        return [
            *self._created(call_id, at, thread),
            *self._queued(call_id, queue, at),
            self.ev.make("Released", until, call_id=call_id, party_id=f"{call_id}-c", cause="Normal"),
            self.ev.make("Released", until, call_id=call_id, party_id=f"{call_id}-q", cause="Abandoned"),
            self.ev.make("CallEnded", until, call_id=call_id),
        ]

    def answered(
        self, call_id: str, queue: str, agent: str, at: str, diverted: str, established: str, end: str
    ) -> list[dict]:
        q, a, c = f"{call_id}-q", f"{call_id}-ag", f"{call_id}-c"
        return [
            *self._created(call_id, at),
            *self._queued(call_id, queue, at),
            self.ev.make("Diverted", diverted, call_id=call_id, party_id=q, target_party_id=a),
            self.ev.make(
                "PartyAdded",
                diverted,
                call_id=call_id,
                party_id=a,
                dn="70001",
                dn_type="Extension",
                agent_id=agent,
                reason="Route",
                initiator_party_id=q,
            ),
            self.ev.make("Released", diverted, call_id=call_id, party_id=q, cause="Normal"),
            self.ev.make("Ringing", diverted, call_id=call_id, party_id=a),
            self.ev.make("Established", established, call_id=call_id, party_id=a),
            self.ev.make("Released", end, call_id=call_id, party_id=c, cause="Normal"),
            self.ev.make("Released", end, call_id=call_id, party_id=a, cause="Normal"),
            self.ev.make("CallEnded", end, call_id=call_id),
        ]


def _state(ev: EventFactory, agent: str, type_: str, at: str, **fields: Any) -> dict:
    if type_ == "AgentLogin":
        fields = {"dn": "70001", "place": "Place_0001", "queues": [], **fields}
    return ev.make(type_, at, agent_id=agent, **fields)


def _cfg(ev: EventFactory, version: int, at: str, object_type: str, dbid: int, attributes: dict) -> dict:
    return ev.make(
        "ConfigUpsert",
        at,
        "gca",
        object_type=object_type,
        dbid=dbid,
        config_version=version,
        attributes=attributes,
    )


def _person(user: str, groups: list[str]) -> dict:
    return {
        "user_name": user,
        "employee_id": "E00001",
        "first_name": "First",
        "last_name": "Last",
        "is_agent": True,
        "enabled": True,
        "agent_groups": groups,
        "skills": {},
        "place": "Place_0001",
        "extension": "70001",
    }


def _rows(dsn: str, table: str, columns: str, where: str = "true") -> list[tuple]:
    return _query(dsn, f"select {columns} from infomart.{table} where {where} order by 1, 2")


def _scenarios() -> dict[str, list[dict]]:
    ev = EventFactory()
    calls = Calls(ev)
    cfg = [
        _cfg(
            ev,
            1001,
            _t("00:00:00"),
            "Queue",
            401,
            {
                "name": "VQ_A",
                "media_type": "voice",
                "type": "VirtualQueue",
                "service_level_threshold": 20,
                "short_abandon_threshold": 10,
            },
        ),
        _cfg(ev, 1002, _t("00:00:00"), "AgentGroup", 201, {"name": "AG_A"}),
        _cfg(ev, 1003, _t("00:00:00"), "AgentGroup", 202, {"name": "AG_B"}),
        _cfg(ev, 1004, _t("00:00:00"), "Person", 100001, _person("agent_m", ["AG_A"])),
        # noon: agent_m moves from AG_A to AG_B; 14:00: VQ_A's thresholds become 30 s / 5 s
        _cfg(ev, 1005, _t("12:00:00"), "Person", 100001, _person("agent_m", ["AG_B"])),
        _cfg(
            ev,
            1006,
            _t("14:00:00"),
            "Queue",
            401,
            {
                "name": "VQ_A",
                "media_type": "voice",
                "type": "VirtualQueue",
                "service_level_threshold": 30,
                "short_abandon_threshold": 5,
            },
        ),
    ]
    voice = [
        # entered 10:14:50, diverted 10:15:00, answered 10:15:10: accepted time 20 s, in the 10:00 quarter
        *calls.answered(
            "c1", "VQ_A", "agent_c", _t("10:14:50"), _t("10:15:00"), _t("10:15:10"), _t("10:20:00")
        ),
        # abandons of exactly 10 s (short at 10 s: MEASURES.md's <=) and of 10.001 s (not short)
        *calls.abandon("c2", "VQ_A", _t("11:00:00"), _t("11:00:10.000")),
        *calls.abandon("c3", "VQ_A", _t("11:00:00"), _t("11:00:10.001")),
        # 7 s abandons before and after the 14:00 change: short at 10 s, not short at 5 s
        *calls.abandon("c4", "VQ_A", _t("13:30:00"), _t("13:30:07")),
        *calls.abandon("c5", "VQ_A", _t("14:30:00"), _t("14:30:07")),
        # agent_m answers one call before the move and one after
        *calls.answered(
            "c6", "VQ_A", "agent_m", _t("11:30:00"), _t("11:30:02"), _t("11:30:04"), _t("11:35:04")
        ),
        *calls.answered(
            "c7", "VQ_A", "agent_m", _t("12:30:00"), _t("12:30:02"), _t("12:30:04"), _t("12:35:04")
        ),
    ]
    states = [
        # agent_r Ready 10:10 -> 10:40: 300 s, 900 s, 600 s in three quarters
        _state(ev, "agent_r", "AgentLogin", _t("10:10:00")),
        _state(ev, "agent_r", "AgentReady", _t("10:10:00")),
        _state(ev, "agent_r", "AgentLogout", _t("10:40:00")),
        # agent_m logged in 11:00 -> 13:00, an hour in each group
        _state(ev, "agent_m", "AgentLogin", _t("11:00:00")),
        _state(ev, "agent_m", "AgentReady", _t("11:00:00")),
        _state(ev, "agent_m", "AgentLogout", _t("13:00:00")),
    ]
    return {"gca-cfg": cfg, "voice-callthread": voice, "voice-agentstate": states}


def _build(settings: Settings, tests: bool = True, full_refresh: bool = False) -> None:
    build_models(settings, SELECT, tests=tests, full_refresh=full_refresh)


def test_hand_scenarios(settings: Settings, tmp_path: Path) -> None:
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    _land(settings, tmp_path, _scenarios())
    _build(settings)
    queue = _query(
        dsn,
        "select q.date_time_key, q.service_level_threshold::int, q.short_abandon_threshold::int, q.entered,"
        " q.accepted, q.accepted_thr, q.accepted_time, q.accepted_time_ms, q.abandoned, q.abandoned_short,"
        " q.abandoned_time, q.abandoned_time_ms, q.abandoned_time_max_ms, q.engage_time, q.service_level"
        " from infomart.ag2_queue_subhr q join infomart.resource_ r using (resource_key)"
        " where r.resource_name = 'VQ_A' order by 1",
    )
    assert queue == [
        # c1: 10 s in queue + 10 s ringing = 20 s <= 20 s; talk 10:15:10 -> 10:20:00 = 290 s
        (_key("10:00:00"), 20, 10, 1, 1, 1, 20, 20_000, 0, 0, 0, 0, None, 290, 1.0),
        # c2 10.000 s is short, c3 10.001 s is not: 20.001 s -> 20 s; SL 0 / (2 - 1)
        (_key("11:00:00"), 20, 10, 2, 0, 0, 0, 0, 2, 1, 20, 20_001, 10_001, 0, 0.0),
        # c6: 2 s + 2 s, talk 300 s
        (_key("11:30:00"), 20, 10, 1, 1, 1, 4, 4_000, 0, 0, 0, 0, None, 300, 1.0),
        (_key("12:30:00"), 20, 10, 1, 1, 1, 4, 4_000, 0, 0, 0, 0, None, 300, 1.0),
        # c4 before the change: 7 s <= 10 s is short (SL 0 / (1 - 1): null)
        (_key("13:30:00"), 20, 10, 1, 0, 0, 0, 0, 1, 1, 7, 7_000, 7_000, 0, None),
        # c5 after the change: thresholds 30 / 5, 7 s > 5 s is not short
        (_key("14:30:00"), 30, 5, 1, 0, 0, 0, 0, 1, 0, 7, 7_000, 7_000, 0, 0.0),
    ]
    # the agent row of c1 is in the quarter of its offer (party added 10:15:00), not of the entry
    agent = _query(
        dsn,
        "select a.date_time_key, a.offered, a.accepted, a.invite_time, a.engage_time, a.handle_time"
        " from infomart.ag2_agent_subhr a join infomart.resource_ r using (resource_key)"
        " where r.resource_name = 'agent_c' order by 1",
    )
    assert agent == [(_key("10:15:00"), 1, 1, 10, 290, 290)]
    # the hour and the day add the quarters' milliseconds
    hour = _query(
        dsn,
        "select date_time_key, entered, abandoned, abandoned_short, abandoned_time_ms"
        " from infomart.ag2_queue_hour where date_time_key = %s",
        _key("11:00:00"),
    )
    assert hour == [(_key("11:00:00"), 3, 2, 1, 20_001)]  # c2, c3 and c6
    day = _query(
        dsn,
        "select service_level_threshold::int, entered, accepted, abandoned, abandoned_short"
        " from infomart.ag2_queue_day order by 1",
    )
    assert day == [(20, 6, 3, 3, 2), (30, 1, 0, 1, 0)]
    # MSF's flag uses the queue's threshold in force too: c5 (7 s > 5 s) is not short, c4 (7 s <= 10 s) is
    assert _query(
        dsn,
        "select media_server_ixn_id, short_abandoned_flag from infomart.mediation_segment_fact"
        " where media_server_ixn_id in ('c4', 'c5') order by 1",
    ) == [("c4", 1), ("c5", 0)]

    # agent_r Ready 10:10 -> 10:40
    ready = _query(
        dsn,
        "select s.date_time_key, s.active_time, s.ready_time, s.not_ready_time, s.busy_time, s.occupancy"
        " from infomart.ag2_i_sess_state_subhr s join infomart.resource_ r using (resource_key)"
        " where r.resource_name = 'agent_r' order by 1",
    )
    assert ready == [
        (_key("10:00:00"), 300, 300, 0, 0, 0.0),
        (_key("10:15:00"), 900, 900, 0, 0, 0.0),
        (_key("10:30:00"), 600, 600, 0, 0, 0.0),
    ]
    assert _query(
        dsn,
        "select s.active_time_ms, s.ready_time_ms from infomart.ag2_i_sess_state_hour s"
        " join infomart.resource_ r using (resource_key) where r.resource_name = 'agent_r'",
    ) == [(1_800_000, 1_800_000)]

    # agent_m moves from AG_A to AG_B at noon: time and calls split there
    groups = _query(
        dsn,
        "select g.group_name, sum(s.active_time_ms), sum(s.busy_time_ms), sum(s.ready_time_ms), count(*)"
        " from infomart.ag2_i_sess_state_grp_subhr s join infomart.group_ g using (group_key)"
        " group by 1 order by 1",
    )
    # busy: ringing 11:30:02 -> released 11:35:04 = 302 s in each group
    assert groups == [("AG_A", 3_600_000, 302_000, 3_298_000, 4), ("AG_B", 3_600_000, 302_000, 3_298_000, 4)]
    assert _query(
        dsn,
        "select g.group_name, a.date_time_key, a.offered, a.accepted, a.engage_time"
        " from infomart.ag2_agent_grp_subhr a join infomart.group_ g using (group_key) order by 1",
    ) == [("AG_A", _key("11:30:00"), 1, 1, 300), ("AG_B", _key("12:30:00"), 1, 1, 300)]
    assert _query(
        dsn,
        "select g.group_name, a.active_time, a.busy_time from infomart.ag2_i_sess_state_grp_day a"
        " join infomart.group_ g using (group_key) order by 1",
    ) == [("AG_A", 3600, 302), ("AG_B", 3600, 302)]


def _xmins(dsn: str, table: str) -> dict[tuple, str]:
    return {
        (r[0], r[1]): r[2]
        for r in _query(dsn, f"select date_time_key, ctid::text, xmin::text from infomart.{table}")
    }


def test_late_event_reaggregates_only_its_intervals(settings: Settings, tmp_path: Path) -> None:
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    _land(settings, tmp_path, _scenarios())
    _build(settings, tests=False)
    tables = (
        "ag2_queue_subhr",
        "ag2_queue_hour",
        "ag2_queue_day",
        "ag2_queue_month",
        "ag2_i_sess_state_subhr",
    )
    before = {t: _query(dsn, f"select date_time_key, xmin::text from infomart.{t}") for t in tables}
    # a call abandoned two days ago lands now
    late = Calls(EventFactory()).abandon(
        "c-late", "VQ_A", _t("09:05:00", "2026-11-21"), _t("09:05:30", "2026-11-21")
    )
    _land(settings, tmp_path, {"voice-callthread": late})
    _build(settings, tests=False)
    rewritten = {}
    for t in tables:
        old = {x for _, x in before[t]}
        rows = _query(dsn, f"select date_time_key, xmin::text from infomart.{t}")
        rewritten[t] = sorted(k for k, x in rows if x not in old)
        assert len(rows) >= len(before[t])
    print(f"\nrows rewritten by the late event: { {t: len(v) for t, v in rewritten.items()} }")
    assert rewritten["ag2_queue_subhr"] == [_key("09:00:00", "2026-11-21")]
    assert rewritten["ag2_queue_hour"] == [_key("09:00:00", "2026-11-21")]
    assert rewritten["ag2_queue_day"] == [_key("00:00:00", "2026-11-21")]
    # the month is the late event's interval too: its rows (one per threshold pair) are rewritten
    assert rewritten["ag2_queue_month"] == [_key("00:00:00", "2026-11-01")] * 2
    assert rewritten["ag2_i_sess_state_subhr"] == []
    assert _query(
        dsn,
        "select entered, abandoned from infomart.ag2_queue_subhr where date_time_key = %s",
        _key("09:00:00", "2026-11-21"),
    ) == [(1, 1)]


def test_thread_whose_earlier_call_lands_late_moves_interval(settings: Settings, tmp_path: Path) -> None:
    """A thread of two calls: the 10:40 call lands first (the thread starts at 10:40, counted in
    the 10:30 quarter), the 10:10 call a cycle later (the thread starts at 10:10). The interaction
    then counts once, in the 10:00 quarter and nowhere else, as a full rebuild says."""
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    calls = Calls(EventFactory())
    _land(
        settings,
        tmp_path,
        {
            "voice-callthread": calls.abandon(
                "c-second", "VQ_A", _t("10:40:00"), _t("10:40:30"), thread="t-two-calls"
            )
        },
    )
    _build(settings, tests=False)
    query = (
        "select interval_start_ts at time zone 'UTC', entered, abandoned from infomart.{table}"
        " where media_type_key <> -1 order by 1"
    )
    assert [tuple(map(str, r)) for r in _query(dsn, query.format(table="ag2_id_subhr"))] == [
        (f"{DAY} 10:30:00", "1", "1")
    ]
    _land(
        settings,
        tmp_path,
        {
            "voice-callthread": calls.abandon(
                "c-first", "VQ_A", _t("10:10:00"), _t("10:10:30"), thread="t-two-calls"
            )
        },
    )
    _build(settings, tests=False)
    assert _query(dsn, "select start_ts at time zone 'UTC' from infomart.interaction_fact") == [
        (datetime(2026, 11, 23, 10, 10),)
    ]
    by_level = {
        t: [tuple(map(str, r)) for r in _query(dsn, query.format(table=t))]
        for t in ("ag2_id_subhr", "ag2_id_hour", "ag2_id_day")
    }
    print(f"\nag2_id after the earlier call landed: {by_level}")
    assert by_level["ag2_id_subhr"] == [(f"{DAY} 10:00:00", "1", "1")]
    assert [r[1:] for r in by_level["ag2_id_hour"]] == [("1", "1")]
    assert [r[1:] for r in by_level["ag2_id_day"]] == [("1", "1")]
    _build(settings, tests=False, full_refresh=True)
    assert [tuple(map(str, r)) for r in _query(dsn, query.format(table="ag2_id_subhr"))] == by_level[
        "ag2_id_subhr"
    ]


def _dst_scenario() -> dict[str, list[dict]]:
    """agent_d logged in across both 2026 DST days of Europe/Berlin, with activity every 4 h."""
    ev = EventFactory()
    states = []
    for login, logout in (
        ("2026-03-28T22:00:00", "2026-03-29T23:00:00"),
        ("2026-10-24T21:00:00", "2026-10-25T23:30:00"),
    ):
        start = datetime.fromisoformat(login)
        end = datetime.fromisoformat(logout)
        states.append(_state(ev, "agent_d", "AgentLogin", start.strftime("%Y-%m-%dT%H:%M:%S.000Z")))
        t = start
        while t < end:
            states.append(_state(ev, "agent_d", "AgentReady", t.strftime("%Y-%m-%dT%H:%M:%S.000Z")))
            t += timedelta(hours=4)
        states.append(_state(ev, "agent_d", "AgentLogout", end.strftime("%Y-%m-%dT%H:%M:%S.000Z")))
    return {"voice-agentstate": states}


def test_dst_days_have_23_and_25_hours(settings: Settings, tmp_path: Path) -> None:
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    berlin = settings.model_copy(update={"reporting_time_zone": "Europe/Berlin"})
    _land(berlin, tmp_path, _dst_scenario())
    _build(berlin, tests=False)
    for day, hours in (("2026-03-29", 23), ("2026-10-25", 25)):
        # the local day in UTC: CET/CEST midnights
        rows = _query(
            dsn,
            "select d.interval_start_ts, d.active_time, d.ready_time from infomart.ag2_i_sess_state_day d"
            " where (d.interval_start_ts at time zone 'Europe/Berlin')::date = %s::date",
            day,
        )
        assert [(r[1], r[2]) for r in rows] == [(hours * 3600, hours * 3600)], day
        quarters = _query(
            dsn,
            "select count(*), count(distinct date_time_key), sum(active_time), min(active_time),"
            " max(active_time)"
            " from infomart.ag2_i_sess_state_subhr"
            " where (interval_start_ts at time zone 'Europe/Berlin')::date = %s::date",
            day,
        )
        assert quarters == [(hours * 4, hours * 4, hours * 3600, 900, 900)], day
        hour_rows = _query(
            dsn,
            "select count(*), count(distinct interval_start_ts), min(active_time), max(active_time)"
            " from infomart.ag2_i_sess_state_hour"
            " where (interval_start_ts at time zone 'Europe/Berlin')::date = %s::date",
            day,
        )
        assert hour_rows == [(hours, hours, 3600, 3600)], day
