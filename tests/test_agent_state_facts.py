"""Agent-state marts (SM_RES_SESSION_FACT, SM_RES_STATE_FACT, SM_RES_STATE_REASON_FACT) on real
PostgreSQL: every row against the simulator's ledger, hand-computed scenarios, and
incremental runs over chunked, shuffled landings == one full refresh, row for row."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from infomart.settings import Settings
from simulator import SimulationConfig, simulate, write_ndjson
from tests.conftest import EventFactory
from tests.helpers import (
    build_models,
    configure_through_adapter,
    drop_all_schemas,
    land_folder,
    module_database,
    with_topics_of_its_own,
    write_events,
)

FACTS = ("sm_res_session_fact", "sm_res_state_fact", "sm_res_state_reason_fact")
# the agent-state models and what they are built from (+ the dimensions their data tests point at)
MODELS = ["--select", *(f"+{f}" for f in FACTS)]
WITH_TESTS = [*MODELS, "+resource_", "date_time", "+resource_state_reason"]
MEDIA_TYPE_KEY = {"voice": 1, "chat": 2, "email": 3}


# ------------------------------------------------------------------ one database for the module
@pytest.fixture(scope="module")
def module_settings(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    yield from module_database(pg_server, tmp_path_factory.mktemp("agent-state-home"), "t_agent_state")


@pytest.fixture
def settings(module_settings: Settings) -> Settings:
    return drop_all_schemas(module_settings)


# ------------------------------------------------------------------ helpers
def _build(settings: Settings, tests: bool = True, full_refresh: bool = False) -> None:
    """dbt build of the agent-state models and their upstream (with their data tests)."""
    build_models(settings, WITH_TESTS if tests else MODELS, tests=tests, full_refresh=full_refresh)


_land = land_folder
_write = write_events


def _ts(value: datetime | None) -> str | None:
    """A timestamptz as the contract's ts text (what the ledger holds)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _seconds(ms: int | None) -> int | None:
    """MEASURES.md: exact milliseconds rounded half up to seconds, once."""
    return None if ms is None else (ms + 500) // 1000


def _rows(dsn: str, table: str, order: str = "agent_id, media_name, start_ts") -> list[dict[str, Any]]:
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(f"select * from infomart.{table} order by {order}")
        names = [c.name for c in cur.description or []]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _ledger(folder: Path, name: str) -> list[dict[str, Any]]:
    with open(folder / "ledger" / f"{name}.ndjson", "rb") as f:
        return [orjson.loads(line) for line in f]


def _compare(what: str, ours: list[tuple], expected: list[tuple]) -> int:
    """Row-for-row comparison; fails on the first difference, showing both sides."""
    for i, (a, b) in enumerate(zip(ours, expected, strict=False)):
        assert a == b, f"{what}: row {i} differs\n  mart:   {a}\n  ledger: {b}"
    assert len(ours) == len(expected), (
        f"{what}: {len(ours)} rows in the mart, {len(expected)} in the ledger; first extra: "
        f"{(ours[len(expected)] if len(ours) > len(expected) else expected[len(ours)])}"
    )
    return len(ours)


def _key(row: Iterable[Any]) -> tuple:
    return tuple("" if v is None else v for v in row)


def _check_against_ledger(dsn: str, folder: Path) -> dict[str, int]:
    """Every row of the three facts against the ledger files; returns the rows compared."""
    sessions = _rows(dsn, "sm_res_session_fact")
    states = _rows(dsn, "sm_res_state_fact")
    reasons = _rows(dsn, "sm_res_state_reason_fact")
    session_keys = {
        (r["agent_id"], r["media_name"], _ts(r["start_ts"])): r["sm_res_session_fact_key"] for r in sessions
    }

    # keys and flags that the ledger does not hold, checked on every row
    for table, rows in (("session", sessions), ("state", states), ("reason", reasons)):
        for r in rows:
            assert r["media_type_key"] == MEDIA_TYPE_KEY[r["media_name"]], (table, r)
            assert r["active_flag"] == (1 if r["end_ts"] is None else 0), (table, r)
            assert (r["total_duration"] is None) == (r["end_ts"] is None), (table, r)
            if table != "session":
                key = (r["agent_id"], r["media_name"], _ts(r["session_start_ts"]))
                assert r["sm_res_session_fact_key"] == session_keys[key], (table, r)
                assert r["start_ts"] >= r["session_start_ts"], (table, r)
    with psycopg.connect(dsn) as conn:
        state_names = dict(conn.execute("select resource_state_key, state_name from infomart.resource_state"))

    ours_sessions = sorted(
        (
            (
                r["agent_id"],
                r["media_name"],
                _ts(r["start_ts"]),
                _ts(r["end_ts"]),
                r["total_duration"],
                r["ended_by"],
                r["capacity"],
            )
            for r in sessions
        ),
        key=_key,
    )
    led_sessions = sorted(
        (
            (
                r["agent_id"],
                r["media"],
                r["start_ts"],
                r["end_ts"],
                _seconds(r["duration_ms"]),
                r["ended_by"],
                r["capacity"],
            )
            for r in _ledger(folder, "agent_sessions")
        ),
        key=_key,
    )
    ours_states = sorted(
        (
            (
                r["agent_id"],
                r["media_name"],
                _ts(r["session_start_ts"]),
                state_names[r["resource_state_key"]],
                _ts(r["start_ts"]),
                _ts(r["end_ts"]),
                r["total_duration"],
            )
            for r in states
        ),
        key=_key,
    )
    led_states = sorted(
        (
            (
                r["agent_id"],
                r["media"],
                r["session_start_ts"],
                r["state"],
                r["start_ts"],
                r["end_ts"],
                _seconds(r["duration_ms"]),
            )
            for r in _ledger(folder, "agent_states")
        ),
        key=_key,
    )
    ours_reasons = sorted(
        (
            (
                r["agent_id"],
                r["media_name"],
                _ts(r["session_start_ts"]),
                r["workmode"],
                r["reason_code"],
                _ts(r["start_ts"]),
                _ts(r["end_ts"]),
                r["total_duration"],
                state_names[r["resource_state_key"]],
            )
            for r in reasons
        ),
        key=_key,
    )
    led_reasons = sorted(
        (
            (
                r["agent_id"],
                r["media"],
                r["session_start_ts"],
                r["workmode"],
                r["reason_code"],
                r["start_ts"],
                r["end_ts"],
                _seconds(r["duration_ms"]),
                "AfterCallWork" if r["workmode"] == "AfterCallWork" else "NotReady",
            )
            for r in _ledger(folder, "agent_state_reasons")
        ),
        key=_key,
    )
    return {
        "sm_res_session_fact": _compare("sm_res_session_fact", ours_sessions, led_sessions),
        "sm_res_state_fact": _compare("sm_res_state_fact", ours_states, led_states),
        "sm_res_state_reason_fact": _compare("sm_res_state_reason_fact", ours_reasons, led_reasons),
    }


# ------------------------------------------------------------------ 1. the ledger
def test_every_fact_row_matches_the_simulator_ledger(
    settings: Settings, tmp_path: Path, cfg_dsn: str, kafka_bootstrap: str
):
    t0 = time.monotonic()
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    result = simulate(SimulationConfig(seed=7, agents=36, duration_hours=8))
    write_ndjson(result, tmp_path / "day")
    _land(settings, tmp_path / "day")
    # the action codes (reason names) through the Configuration Database and the config adapter
    configure_through_adapter(
        with_topics_of_its_own(settings, kafka_bootstrap), cfg_dsn, result.config_changes
    )
    _build(settings)  # models and their data tests, incl. the tiling test

    compared = _check_against_ledger(dsn, tmp_path / "day")
    print(f"\nrows compared with the ledger: {compared} ({time.monotonic() - t0:.1f} s)")
    assert compared["sm_res_session_fact"] > 40
    assert compared["sm_res_state_fact"] > 10_000
    assert compared["sm_res_state_reason_fact"] > 2_000
    # the day has what the rules are about
    sessions = _rows(dsn, "sm_res_session_fact")
    assert {r["ended_by"] for r in sessions} >= {"logout", "next_login", "open"}
    assert {r["media_name"] for r in sessions} >= {"voice", "chat", "email"}
    # every reason row points at its (workmode, reason_code) member of RESOURCE_STATE_REASON,
    # named from the configuration's action codes (the simulator's reason codes are their names)
    with psycopg.connect(dsn) as conn:
        joined = conn.execute(
            "select f.workmode, f.reason_code, d.workmode, d.reason_code, d.reason_name, d.configured_flag,"
            " count(*) from infomart.sm_res_state_reason_fact as f"
            " left join infomart.resource_state_reason as d using (resource_state_reason_key)"
            " where f.sm_res_state_reason_fact_key is not null group by 1, 2, 3, 4, 5, 6"
        ).fetchall()
    assert len(joined) > 3
    for fact_workmode, fact_code, dim_workmode, dim_code, name, configured, _count in joined:
        assert (dim_workmode, dim_code) == (fact_workmode, fact_code)
        assert (name, configured) == (("No reason", 0) if fact_code is None else (fact_code, 1))


# ------------------------------------------------------------------ 2. by hand
def _t(hhmmss: str) -> str:
    """'09:00:10.400' -> contract ts text on the scenario day."""
    return f"2026-11-23T{hhmmss}Z" if "." in hhmmss else f"2026-11-23T{hhmmss}.000Z"


def _call(ev: EventFactory, call_id: str, agent: str, steps: list[tuple[str, str]]) -> list[dict]:
    """A call with one agent party: steps are (event type, time) of that party."""
    party = f"{call_id}-p1"
    out = [
        ev.make(
            "CallCreated",
            _t(steps[0][1]),
            call_id=call_id,
            thread_id=f"t-{call_id}",
            call_type="Inbound",
            ani="+15550001",
            dnis="+18005550100",
            user_data={},
        ),
        ev.make(
            "PartyAdded",
            _t(steps[0][1]),
            call_id=call_id,
            party_id=party,
            dn="70001",
            dn_type="Extension",
            agent_id=agent,
            reason="New",
            initiator_party_id=None,
        ),
    ]
    for type_, at in steps:
        extra = {"cause": "Normal"} if type_ == "Released" else {}
        out.append(ev.make(type_, _t(at), call_id=call_id, party_id=party, **extra))
    out.append(ev.make("CallEnded", _t(steps[-1][1]), call_id=call_id))
    return out


def _voice(ev: EventFactory, agent: str, type_: str, at: str, **fields: Any) -> dict:
    if type_ == "AgentLogin":
        fields = {"dn": "70001", "place": "Place_0001", "queues": ["VQ_Sales"], **fields}
    return ev.make(type_, _t(at), agent_id=agent, **fields)


def _digital(ev: EventFactory, agent: str, type_: str, at: str, **fields: Any) -> dict:
    return ev.make(type_, _t(at), "ixn-a", agent_id=agent, media_type="chat", **fields)


def _itx(ev: EventFactory, type_: str, at: str, itx_id: str, **fields: Any) -> dict:
    return ev.make(type_, _t(at), "ixn-a", itx_id=itx_id, **fields)


def _scenarios(ev: EventFactory) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """The scenarios' events in two landings: first the agents' state events, then the calls,
    the digital interactions and the late agent whose events move "now" past the timeouts."""
    nr = "AgentNotReady"
    voice = [
        # A: login -> NotReady without reason until the first Ready
        _voice(ev, "sc_login", "AgentLogin", "09:00:00"),
        _voice(ev, "sc_login", "AgentReady", "09:00:10.400"),
        _voice(ev, "sc_login", "AgentLogout", "09:10:00"),
        # B: NotReady pressed during a call wins over Busy
        _voice(ev, "sc_nr_call", "AgentLogin", "09:00:00"),
        _voice(ev, "sc_nr_call", "AgentReady", "09:00:05"),
        _voice(ev, "sc_nr_call", nr, "09:02:00", workmode="AuxWork", reason_code="Break"),
        _voice(ev, "sc_nr_call", "AgentReady", "09:10:00"),
        _voice(ev, "sc_nr_call", "AgentLogout", "09:20:00"),
        # C: after-call work wins over Busy (a call rings during ACW and lasts past it)
        _voice(ev, "sc_acw", "AgentLogin", "09:00:00"),
        _voice(ev, "sc_acw", "AgentReady", "09:00:01"),
        _voice(ev, "sc_acw", nr, "09:02:00.500", workmode="AfterCallWork", reason_code=None),
        _voice(ev, "sc_acw", "AgentReady", "09:03:00"),
        _voice(ev, "sc_acw", "AgentLogout", "09:05:00"),
        # D: a session without logout closed by the next login
        _voice(ev, "sc_relogin", "AgentLogin", "09:00:00"),
        _voice(ev, "sc_relogin", "AgentReady", "09:00:02"),
        _voice(ev, "sc_relogin", nr, "09:30:00", workmode="AuxWork", reason_code="Lunch"),
        _voice(ev, "sc_relogin", "AgentLogin", "10:00:00"),
        _voice(ev, "sc_relogin", "AgentReady", "10:00:03"),
        _voice(ev, "sc_relogin", "AgentLogout", "10:30:00"),
        # E: inactive for 12 h before "now" (the latest event, sc_open's Ready at 22:00:05):
        # closed at its last event, the NotReady at 09:20
        _voice(ev, "sc_timeout", "AgentLogin", "09:00:00"),
        _voice(ev, "sc_timeout", "AgentReady", "09:00:04"),
        _voice(ev, "sc_timeout", nr, "09:20:00", workmode="AuxWork", reason_code="Meeting"),
        # E': a login and nothing else: timed out at its own login, a session of zero length
        _voice(ev, "sc_idle", "AgentLogin", "09:00:00"),
    ]
    # an open session, active for less than 12 h before "now"; its events set "now"
    later_voice = [
        _voice(ev, "sc_open", "AgentLogin", "22:00:00"),
        _voice(ev, "sc_open", "AgentReady", "22:00:05"),
    ]
    calls = [
        *_call(
            ev,
            "c-nr",
            "sc_nr_call",
            [("Ringing", "09:01:00"), ("Established", "09:01:05"), ("Released", "09:03:00")],
        ),
        *_call(
            ev,
            "c-acw1",
            "sc_acw",
            [
                ("Dialing", "09:00:30.250"),
                ("Established", "09:00:40"),
                ("Held", "09:01:00"),
                ("Retrieved", "09:01:30"),
                ("Released", "09:02:00"),
            ],
        ),
        *_call(
            ev,
            "c-acw2",
            "sc_acw",
            [("Ringing", "09:02:10"), ("Established", "09:02:12"), ("Released", "09:03:30")],
        ),
    ]
    # F: chat with capacity 3, two offers at once, a transfer, a NotReady, a timed-out offer
    digital_states = [
        _digital(ev, "sc_chat", "MediaLogin", "09:00:00", capacity=3),
        _digital(ev, "sc_chat", "MediaReady", "09:00:02"),
        _digital(ev, "sc_chat", "MediaNotReady", "09:07:00", reason_code="Break"),
        _digital(ev, "sc_chat", "MediaReady", "09:10:00"),
        _digital(ev, "sc_chat", "MediaLogout", "09:20:00"),
    ]
    itx = []
    for i, created, queued in (
        ("i-1", "09:01:00", "09:01:00.500"),
        ("i-2", "09:01:50", "09:01:50.500"),
        ("i-3", "09:10:50", "09:10:50.500"),
    ):
        itx += [
            _itx(
                ev,
                "InteractionCreated",
                created,
                i,
                media_type="chat",
                direction="Inbound",
                customer_id="cust1",
                user_data={},
            ),
            _itx(ev, "Queued", queued, i, queue="VQ_Chat"),
        ]
    itx += [
        _itx(ev, "Offered", "09:01:01", "i-1", agent_id="sc_chat"),
        _itx(ev, "Accepted", "09:01:05", "i-1", agent_id="sc_chat"),
        _itx(ev, "Offered", "09:02:00", "i-2", agent_id="sc_chat"),
        _itx(ev, "Accepted", "09:02:03", "i-2", agent_id="sc_chat"),
        _itx(ev, "AgentReleased", "09:05:00", "i-1", agent_id="sc_chat"),
        _itx(ev, "Completed", "09:05:00.001", "i-1", reason="Resolved"),
        _itx(ev, "Transferred", "09:06:30", "i-2", agent_id="sc_chat", to_queue="VQ_Chat_Escalation"),
        _itx(ev, "Offered", "09:11:00", "i-3", agent_id="sc_chat"),
        _itx(ev, "OfferTimedOut", "09:11:30", "i-3", agent_id="sc_chat"),
    ]
    return (
        {"voice-agentstate": voice, "digital-agentstate": digital_states},
        {"voice-agentstate": later_voice, "voice-callthread": calls, "digital-itx": itx},
    )


# (media, state, start, end, seconds) per agent, computed by hand
EXPECTED_STATES: dict[str, list[tuple]] = {
    "sc_login": [
        ("voice", "NotReady", "09:00:00", "09:00:10.400", 10),  # 10.4 s
        ("voice", "Ready", "09:00:10.400", "09:10:00", 590),  # 589.6 s
    ],
    "sc_nr_call": [
        ("voice", "NotReady", "09:00:00", "09:00:05", 5),
        ("voice", "Ready", "09:00:05", "09:01:00", 55),
        ("voice", "Busy", "09:01:00", "09:02:00", 60),
        ("voice", "NotReady", "09:02:00", "09:10:00", 480),  # the call ends at 09:03 inside it
        ("voice", "Ready", "09:10:00", "09:20:00", 600),
    ],
    "sc_acw": [
        ("voice", "NotReady", "09:00:00", "09:00:01", 1),
        ("voice", "Ready", "09:00:01", "09:00:30.250", 29),  # 29.25 s
        ("voice", "Busy", "09:00:30.250", "09:02:00", 90),  # 89.75 s, held time included
        ("voice", "Ready", "09:02:00", "09:02:00.500", 1),  # 0.5 s rounds half up
        ("voice", "AfterCallWork", "09:02:00.500", "09:03:00", 60),  # 59.5 s, a call rings at 09:02:10
        ("voice", "Busy", "09:03:00", "09:03:30", 30),
        ("voice", "Ready", "09:03:30", "09:05:00", 90),
    ],
    "sc_relogin": [
        ("voice", "NotReady", "09:00:00", "09:00:02", 2),
        ("voice", "Ready", "09:00:02", "09:30:00", 1798),
        ("voice", "NotReady", "09:30:00", "10:00:00", 1800),
        ("voice", "NotReady", "10:00:00", "10:00:03", 3),  # a new session: a new row
        ("voice", "Ready", "10:00:03", "10:30:00", 1797),
    ],
    "sc_timeout": [
        ("voice", "NotReady", "09:00:00", "09:00:04", 4),
        ("voice", "Ready", "09:00:04", "09:20:00", 1196),
    ],
    "sc_idle": [("voice", "NotReady", "09:00:00", "09:00:00", 0)],  # the session has no length
    "sc_open": [
        ("voice", "NotReady", "22:00:00", "22:00:05", 5),
        ("voice", "Ready", "22:00:05", None, None),
    ],
    "sc_chat": [
        ("chat", "NotReady", "09:00:00", "09:00:02", 2),
        ("chat", "Ready", "09:00:02", "09:01:01", 59),
        ("chat", "Busy", "09:01:01", "09:06:30", 329),  # two chats at once from 09:02
        ("chat", "Ready", "09:06:30", "09:07:00", 30),
        ("chat", "NotReady", "09:07:00", "09:10:00", 180),
        ("chat", "Ready", "09:10:00", "09:11:00", 60),
        ("chat", "Busy", "09:11:00", "09:11:30", 30),  # an offer that timed out
        ("chat", "Ready", "09:11:30", "09:20:00", 510),
    ],
}

# (media, start, end, seconds, ended_by)
EXPECTED_SESSIONS: dict[str, list[tuple]] = {
    "sc_login": [("voice", "09:00:00", "09:10:00", 600, "logout")],
    "sc_nr_call": [("voice", "09:00:00", "09:20:00", 1200, "logout")],
    "sc_acw": [("voice", "09:00:00", "09:05:00", 300, "logout")],
    "sc_relogin": [
        ("voice", "09:00:00", "10:00:00", 3600, "next_login"),
        ("voice", "10:00:00", "10:30:00", 1800, "logout"),
    ],
    "sc_timeout": [("voice", "09:00:00", "09:20:00", 1200, "timeout")],
    "sc_idle": [("voice", "09:00:00", "09:00:00", 0, "timeout")],
    "sc_open": [("voice", "22:00:00", None, None, "open")],
    "sc_chat": [("chat", "09:00:00", "09:20:00", 1200, "logout")],
}

# (media, workmode, reason_code, start, end, seconds)
EXPECTED_REASONS: dict[str, list[tuple]] = {
    "sc_login": [("voice", "AuxWork", None, "09:00:00", "09:00:10.400", 10)],
    "sc_nr_call": [
        ("voice", "AuxWork", None, "09:00:00", "09:00:05", 5),
        ("voice", "AuxWork", "Break", "09:02:00", "09:10:00", 480),
    ],
    "sc_acw": [
        ("voice", "AuxWork", None, "09:00:00", "09:00:01", 1),
        ("voice", "AfterCallWork", None, "09:02:00.500", "09:03:00", 60),
    ],
    "sc_relogin": [
        ("voice", "AuxWork", None, "09:00:00", "09:00:02", 2),
        ("voice", "AuxWork", "Lunch", "09:30:00", "10:00:00", 1800),
        ("voice", "AuxWork", None, "10:00:00", "10:00:03", 3),
    ],
    # the Meeting NotReady is the session's last event: the session ends there, so it has no length
    "sc_timeout": [("voice", "AuxWork", None, "09:00:00", "09:00:04", 4)],
    "sc_idle": [("voice", "AuxWork", None, "09:00:00", "09:00:00", 0)],
    "sc_open": [("voice", "AuxWork", None, "22:00:00", "22:00:05", 5)],
    "sc_chat": [
        ("chat", "AuxWork", None, "09:00:00", "09:00:02", 2),
        ("chat", "AuxWork", "Break", "09:07:00", "09:10:00", 180),
    ],
}


def _hhmmss(value: datetime | None) -> str | None:
    text = _ts(value)
    if text is None:
        return None
    text = text[11:-1]
    return text[:-4] if text.endswith(".000") else text


def test_hand_written_scenarios(settings: Settings, events: EventFactory, tmp_path: Path):
    # no look-back, so that the second run sees only the second landing: the busy time of calls
    # and chats must reach agents without new state events, and the later "now" must time out
    # sessions without new events (incl. one that shrinks to nothing)
    settings = settings.model_copy(update={"lookback_minutes": 0})
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    first, second = _scenarios(events)
    # the agents that the second landing changes only through busy time or "now" land first, in
    # a transaction of their own, so that the next run's window leaves their state events out
    quiet = {"sc_timeout", "sc_idle", "sc_nr_call", "sc_acw", "sc_chat"}
    for part, keep in (("first-a", lambda a: a in quiet), ("first-b", lambda a: a not in quiet)):
        _land(
            settings,
            _write(tmp_path / part, {t: [e for e in evs if keep(e["agent_id"])] for t, evs in first.items()}),
        )
    _build(settings, tests=False)
    with psycopg.connect(dsn) as conn:
        before = conn.execute(
            "select agent_id, ended_by from infomart.sm_res_session_fact"
            " where agent_id in ('sc_timeout', 'sc_idle') order by agent_id"
        ).fetchall()
    assert before == [("sc_idle", "open"), ("sc_timeout", "open")]  # "now" is 10:30 here
    _land(settings, _write(tmp_path / "second", second))
    _build(settings)

    sessions = _rows(dsn, "sm_res_session_fact")
    states = _rows(dsn, "sm_res_state_fact")
    reasons = _rows(dsn, "sm_res_state_reason_fact")
    with psycopg.connect(dsn) as conn:
        state_names = dict(conn.execute("select resource_state_key, state_name from infomart.resource_state"))
    for agent in EXPECTED_STATES:
        got_sessions = [
            (
                r["media_name"],
                _hhmmss(r["start_ts"]),
                _hhmmss(r["end_ts"]),
                r["total_duration"],
                r["ended_by"],
            )
            for r in sessions
            if r["agent_id"] == agent
        ]
        assert got_sessions == EXPECTED_SESSIONS[agent], agent
        got_states = [
            (
                r["media_name"],
                state_names[r["resource_state_key"]],
                _hhmmss(r["start_ts"]),
                _hhmmss(r["end_ts"]),
                r["total_duration"],
            )
            for r in states
            if r["agent_id"] == agent
        ]
        assert got_states == EXPECTED_STATES[agent], agent
        got_reasons = [
            (
                r["media_name"],
                r["workmode"],
                r["reason_code"],
                _hhmmss(r["start_ts"]),
                _hhmmss(r["end_ts"]),
                r["total_duration"],
            )
            for r in reasons
            if r["agent_id"] == agent
        ]
        assert got_reasons == EXPECTED_REASONS[agent], agent

    # the open session and its open interval
    (open_session,) = [r for r in sessions if r["agent_id"] == "sc_open"]
    assert open_session["active_flag"] == 1 and open_session["end_date_time_key"] is None
    assert [r["active_flag"] for r in states if r["agent_id"] == "sc_open"] == [0, 1]
    # keys: the media and the state from the seeds, the 15-minute slot, deterministic keys
    (chat,) = [r for r in sessions if r["agent_id"] == "sc_chat"]
    assert chat["media_type_key"] == 2
    assert chat["start_date_time_key"] == int(datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp())
    assert chat["end_date_time_key"] == int(datetime(2026, 11, 23, 9, 15, tzinfo=UTC).timestamp())
    acw = [r for r in states if r["agent_id"] == "sc_acw"]
    assert [r["resource_state_key"] for r in acw] == [2, 4, 3, 4, 1, 3, 4]
    assert {r["sm_res_session_fact_key"] for r in acw} == {
        r["sm_res_session_fact_key"] for r in sessions if r["agent_id"] == "sc_acw"
    }
    assert len({r["resource_key"] for r in sessions}) == len(EXPECTED_SESSIONS)


# ------------------------------------------------------------------ 3. incremental == full refresh
def _all_rows(dsn: str) -> dict[str, list[tuple]]:
    """Every row and every column of the three facts, in key order."""
    out = {}
    with psycopg.connect(dsn) as conn:
        for table in FACTS:
            out[table] = conn.execute(f"select * from infomart.{table} order by {table}_key").fetchall()
    return out


def test_incremental_runs_over_shuffled_chunks_equal_a_full_refresh(settings: Settings, tmp_path: Path):
    # no look-back: each run sees only what landed since the previous one (plus its open pairs)
    settings = settings.model_copy(update={"lookback_minutes": 0})
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    result = simulate(SimulationConfig(seed=23, agents=20, duration_hours=8))
    day = tmp_path / "day"
    write_ndjson(result, day)

    # every topic's lines in 4 chunks: mostly in time order (a quarter of the day each), but
    # 30 % of the events arrive in a later chunk, and each chunk is shuffled; calls, offers and
    # sessions are split over the runs, while agents without late events stay untouched
    rng = random.Random(5)
    chunks = 4
    parts: list[dict[str, list[bytes]]] = [{} for _ in range(chunks)]
    for path in sorted(day.glob("*.ndjson")):
        lines = path.read_bytes().splitlines(keepends=True)
        for k in range(chunks):
            parts[k][path.stem] = []
        for i, line in enumerate(lines):
            k = i * chunks // len(lines)
            if rng.random() < 0.3:
                k = rng.randint(k, chunks - 1)
            parts[k][path.stem].append(line)
        for k in range(chunks):
            rng.shuffle(parts[k][path.stem])
    for k, part in enumerate(parts):
        folder = tmp_path / f"chunk{k}"
        folder.mkdir()
        for topic, lines in part.items():
            (folder / f"{topic}.ndjson").write_bytes(b"".join(lines))
        t = time.monotonic()
        _land(settings, folder)
        t1 = time.monotonic()
        _build(settings, tests=False)
        print(f"chunk {k}: land {t1 - t:.1f} s, transform {time.monotonic() - t1:.1f} s")
    incremental = _all_rows(dsn)
    compared = _check_against_ledger(dsn, day)
    print(f"\nincremental over {chunks} shuffled chunks, rows compared with the ledger: {compared}")

    _build(settings, tests=False, full_refresh=True)
    full = _all_rows(dsn)
    for table in FACTS:
        assert len(incremental[table]) == len(full[table]), table
        for a, b in zip(incremental[table], full[table], strict=True):
            assert a == b, f"{table}\n  incremental:  {a}\n  full refresh: {b}"
