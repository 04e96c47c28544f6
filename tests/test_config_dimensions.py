"""Configuration dimensions (RESOURCE_, GROUP_, SKILL, RESOURCE_GROUP_FACT, RESOURCE_SKILL_FACT,
RESOURCE_STATE_REASON, resource_name_history) and facts attributed to the configuration of their
time, on real PostgreSQL: hand scenarios (a group move at 12:00, a queue renamed mid-day, an agent
seen before its configuration), incremental with late, out-of-order configuration == full refresh,
and a simulated day with configuration changes joined to its facts.

Every join of a fact to a group or skill uses THE rule (doc block group_attribution_rule):
fact.start_ts >= rgf.start_ts and (fact.start_ts < rgf.end_ts or rgf.end_ts is null)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from infomart.settings import Settings
from ingest.archive_ingester import ArchiveIngester, find_archives
from simulator import SimulationConfig, simulate, write_ndjson
from tests.conftest import EventFactory
from tests.helpers import (
    build_models,
    configure_through_adapter,
    drop_all_schemas,
    land_events,
    module_database,
    with_topics_of_its_own,
)

NEW_TABLES = (
    "resource_",
    "resource_name_history",
    "group_",
    "skill",
    "resource_group_fact",
    "resource_skill_fact",
    "resource_state_reason",
    "campaign",
)
FACTS = ("interaction_resource_fact", "mediation_segment_fact", "sm_res_state_fact", "contact_attempt_fact")
SELECT = [
    "--select",
    *(f"+{m}" for m in (*NEW_TABLES, *FACTS, "interaction_fact", "dq_config_version_anomalies")),
    "date_time",
]

# THE attribution rule, as every report writes it
RULE = "f.start_ts >= rgf.start_ts and (f.start_ts < rgf.end_ts or rgf.end_ts is null)"


def resource_key(resource_type: str, name: str) -> int:
    """The resource_key macro in Python: first 16 hex digits of md5('<type>|<name>'), signed."""
    v = int(hashlib.md5(f"{resource_type}|{name}".encode()).hexdigest()[:16], 16)
    return v - (1 << 64) if v >= 1 << 63 else v


# ------------------------------------------------------------------ one database for the module
@pytest.fixture(scope="module")
def module_settings(
    pg_server: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    # incremental runs see only what landed since: the touched sets are exercised
    home = tmp_path_factory.mktemp("cfgdim-home")
    yield from module_database(
        pg_server, home, "t_cfgdim", lookback_minutes=0, kafka_bootstrap_servers=kafka_bootstrap
    )


@pytest.fixture
def settings(module_settings: Settings) -> Settings:
    return drop_all_schemas(module_settings)


# ------------------------------------------------------------------ helpers
def _build(settings: Settings, tests: bool = True, full_refresh: bool = False) -> None:
    build_models(settings, SELECT, tests=tests, full_refresh=full_refresh)


_landings = iter(range(1_000_000))


def _land(settings: Settings, tmp: Path, by_topic: dict[str, list[dict]]) -> None:
    land_events(settings, tmp / f"landing-{next(_landings)}", by_topic)


def _query(dsn: str, query: str, *args: Any) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, args or None).fetchall()


def _t(hhmmss: str) -> str:
    return f"2026-11-23T{hhmmss}Z" if "." in hhmmss else f"2026-11-23T{hhmmss}.000Z"


def _dt(hhmmss: str) -> datetime:
    return datetime.fromisoformat(_t(hhmmss).replace("Z", "+00:00"))


class Cfg:
    """gca-cfg events with increasing config_version."""

    def __init__(self, ev: EventFactory) -> None:
        self.ev = ev
        self.version = 1000

    def upsert(self, at: str, object_type: str, dbid: int, attributes: dict) -> dict:
        self.version += 1
        return self.ev.make(
            "ConfigUpsert",
            _t(at),
            "gca",
            object_type=object_type,
            dbid=dbid,
            config_version=self.version,
            attributes=attributes,
        )

    def delete(self, at: str, object_type: str, dbid: int) -> dict:
        self.version += 1
        return self.ev.make(
            "ConfigDelete", _t(at), "gca", object_type=object_type, dbid=dbid, config_version=self.version
        )


def person(user: str, idx: int, groups: list[str], skills: dict[str, int]) -> dict:
    return {
        "user_name": user,
        "employee_id": f"E{idx:05d}",
        "first_name": f"First{idx}",
        "last_name": f"Last{idx}",
        "is_agent": True,
        "enabled": True,
        "agent_groups": groups,
        "skills": skills,
        "place": f"Place_{idx:04d}",
        "extension": f"7{idx:04d}",
    }


def _agent_call(
    ev: EventFactory, call_id: str, agent: str, dn: str, steps: list[tuple[str, str]]
) -> list[dict]:
    """A call with one agent party (added at the first step's time)."""
    party = f"{call_id}-ag"
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
            dn=dn,
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


def _queue_abandon(ev: EventFactory, call_id: str, queue: str, at: str, until: str) -> list[dict]:
    """A customer abandons in `queue` (the queue party's dn and Queued queue)."""
    return [
        ev.make(
            "CallCreated",
            _t(at),
            call_id=call_id,
            thread_id=f"t-{call_id}",
            call_type="Inbound",
            ani="+15550002",
            dnis="+18005550100",
            user_data={},
        ),
        ev.make(
            "PartyAdded",
            _t(at),
            call_id=call_id,
            party_id=f"{call_id}-c",
            dn="+15550002",
            dn_type="External",
            agent_id=None,
            reason="New",
            initiator_party_id=None,
        ),
        ev.make(
            "PartyAdded",
            _t(at),
            call_id=call_id,
            party_id=f"{call_id}-q",
            dn=queue,
            dn_type="Queue",
            agent_id=None,
            reason="Route",
            initiator_party_id=None,
        ),
        ev.make("Queued", _t(at), call_id=call_id, party_id=f"{call_id}-q", queue=queue),
        ev.make("Released", _t(until), call_id=call_id, party_id=f"{call_id}-c", cause="Normal"),
        ev.make("Released", _t(until), call_id=call_id, party_id=f"{call_id}-q", cause="Abandoned"),
        ev.make("CallEnded", _t(until), call_id=call_id),
    ]


def _queued_to_agent(ev: EventFactory, call_id: str, queue: str, agent: str, at: str, end: str) -> list[dict]:
    """Customer -> queue -> agent party (ringing 2 s), released at `end`."""
    q, a, c = f"{call_id}-q", f"{call_id}-ag", f"{call_id}-c"
    base = _dt(at)

    def ts(seconds: int) -> str:
        return (base + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    return [
        ev.make(
            "CallCreated",
            ts(0),
            call_id=call_id,
            thread_id=f"t-{call_id}",
            call_type="Inbound",
            ani="+15550003",
            dnis="+18005550100",
            user_data={},
        ),
        ev.make(
            "PartyAdded",
            ts(0),
            call_id=call_id,
            party_id=c,
            dn="+15550003",
            dn_type="External",
            agent_id=None,
            reason="New",
            initiator_party_id=None,
        ),
        ev.make(
            "PartyAdded",
            ts(0),
            call_id=call_id,
            party_id=q,
            dn=queue,
            dn_type="Queue",
            agent_id=None,
            reason="Route",
            initiator_party_id=None,
        ),
        ev.make("Queued", ts(0), call_id=call_id, party_id=q, queue=queue),
        ev.make("Diverted", ts(4), call_id=call_id, party_id=q, target_party_id=a),
        ev.make(
            "PartyAdded",
            ts(4),
            call_id=call_id,
            party_id=a,
            dn="70009",
            dn_type="Extension",
            agent_id=agent,
            reason="Route",
            initiator_party_id=q,
        ),
        ev.make("Released", ts(4), call_id=call_id, party_id=q, cause="Normal"),
        ev.make("Ringing", ts(4), call_id=call_id, party_id=a),
        ev.make("Established", ts(6), call_id=call_id, party_id=a),
        ev.make("Released", _t(end), call_id=call_id, party_id=c, cause="Normal"),
        ev.make("Released", _t(end), call_id=call_id, party_id=a, cause="Normal"),
        ev.make("CallEnded", _t(end), call_id=call_id),
    ]


# ------------------------------------------------------------------ the hand scenarios
def _scenarios() -> dict[str, Any]:
    """Configuration and events of the three hand scenarios, by part, so tests can land them in
    any order: 'config_base' (08:00), 'config_changes' (12:00 move and rename), 'config_late'
    (the late agent's Person), 'voice', 'states'."""
    ev = EventFactory()
    cfg = Cfg(ev)
    base = [
        cfg.upsert("08:00:00", "AgentGroup", 201, {"name": "AG_A"}),
        cfg.upsert("08:00:00", "AgentGroup", 202, {"name": "AG_B"}),
        cfg.upsert("08:00:00", "Skill", 101, {"name": "Sales"}),
        cfg.upsert("08:00:00", "ActionCode", 301, {"name": "Break", "code": "BREAK", "type": "NotReady"}),
        cfg.upsert("08:00:00", "ActionCode", 302, {"name": "Sale", "code": "SALE", "type": "Disposition"}),
        cfg.upsert(
            "08:00:00", "Queue", 401, {"name": "VQ_Old", "media_type": "voice", "type": "VirtualQueue"}
        ),
        cfg.upsert("08:00:00", "DN", 201001, {"number": "70001", "type": "Extension", "switch": "SIP"}),
        cfg.upsert("08:00:00", "Person", 100001, person("agent_m", 1, ["AG_A"], {"Sales": 5})),
    ]
    changes = [
        # 12:00: agent_m moves from AG_A to AG_B and its Sales level goes 5 -> 7; VQ_Old is renamed
        cfg.upsert("12:00:00", "Person", 100001, person("agent_m", 1, ["AG_B"], {"Sales": 7})),
        cfg.upsert(
            "12:00:00", "Queue", 401, {"name": "VQ_New", "media_type": "voice", "type": "VirtualQueue"}
        ),
    ]
    late = [cfg.upsert("08:00:00", "Person", 100009, person("agent_late", 9, ["AG_A"], {"Sales": 3}))]
    voice = [
        # agent_m: two calls starting before 12:00 (the second ends after), one after
        *_agent_call(
            ev,
            "c-m1",
            "agent_m",
            "70001",
            [("Ringing", "11:00:00"), ("Established", "11:00:05"), ("Released", "11:05:05")],
        ),
        *_agent_call(
            ev,
            "c-m2",
            "agent_m",
            "70001",
            [("Ringing", "11:58:00"), ("Established", "11:58:02"), ("Released", "12:03:02")],
        ),
        *_agent_call(
            ev,
            "c-m3",
            "agent_m",
            "70001",
            [("Ringing", "12:30:00"), ("Established", "12:30:10"), ("Released", "12:32:10")],
        ),
        # the queue under its old name before 12:00 and its new name after
        *_queue_abandon(ev, "c-q1", "VQ_Old", "11:00:00", "11:00:30"),
        *_queue_abandon(ev, "c-q2", "VQ_New", "13:00:00", "13:00:20"),
        *_queued_to_agent(ev, "c-q3", "VQ_New", "agent_late", "13:10:00", "13:15:00"),
        # agent_late works before its configuration has landed
        *_agent_call(
            ev,
            "c-l1",
            "agent_late",
            "70009",
            [("Ringing", "10:00:00"), ("Established", "10:00:03"), ("Released", "10:10:03")],
        ),
    ]

    def state(agent: str, type_: str, at: str, **fields: Any) -> dict:
        if type_ == "AgentLogin":
            fields = {"dn": "70001", "place": "Place_0001", "queues": [], **fields}
        return ev.make(type_, _t(at), agent_id=agent, **fields)

    states = [
        state("agent_m", "AgentLogin", "10:00:00"),
        state("agent_m", "AgentReady", "10:00:10"),
        state("agent_m", "AgentLogout", "13:00:00"),
        state("agent_late", "AgentLogin", "09:59:00"),
        state("agent_late", "AgentReady", "09:59:30"),
        state("agent_late", "AgentNotReady", "10:20:00", workmode="AuxWork", reason_code="Break"),
        state("agent_late", "AgentNotReady", "10:30:00", workmode="AuxWork", reason_code="Smoke"),
        state("agent_late", "AgentLogout", "13:30:00"),
    ]
    return {
        "config_base": base,
        "config_changes": changes,
        "config_late": late,
        "voice": voice,
        "states": states,
    }


def _land_all(settings: Settings, tmp: Path, sc: dict[str, Any]) -> None:
    _land(
        settings,
        tmp,
        {
            "gca-cfg": sc["config_base"] + sc["config_changes"] + sc["config_late"],
            "voice-callthread": sc["voice"],
            "voice-agentstate": sc["states"],
        },
    )


def _by_group(dsn: str, fact: str, measure: str, agent: str) -> dict[str, tuple]:
    """Facts of `agent` per group through RESOURCE_GROUP_FACT with THE rule."""
    rows = _query(
        dsn,
        f"select g.group_name, count(*), sum({measure})"
        f" from infomart.{fact} as f"
        " join infomart.resource_group_fact as rgf on f.resource_key = rgf.resource_key and " + RULE + ""
        " join infomart.group_ as g on g.group_key = rgf.group_key"
        " where f.agent_id = %s group by g.group_name order by 1",
        agent,
    )
    return {r[0]: (r[1], int(r[2])) for r in rows}


def test_group_move_at_noon_splits_calls_and_states(settings: Settings, tmp_path: Path):
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    _land_all(settings, tmp_path, _scenarios())
    _build(settings)

    key = resource_key("Agent", "agent_m")
    assert _query(
        dsn,
        "select g.group_name, rgf.start_ts, rgf.end_ts, rgf.active_flag, rgf.start_date_time_key"
        " from infomart.resource_group_fact rgf join infomart.group_ g using (group_key)"
        " where rgf.resource_key = %s order by rgf.start_ts",
        key,
    ) == [
        ("AG_A", _dt("08:00:00"), _dt("12:00:00"), 0, int(_dt("08:00:00").timestamp())),
        ("AG_B", _dt("12:00:00"), None, 1, int(_dt("12:00:00").timestamp())),
    ]
    # IRF: c-m1 (talk 11:00:05 -> 11:05:05 = 300 s) and c-m2 (started 11:58, talk 300 s, ends
    # after the move) count for AG_A; c-m3 (talk 120 s) for AG_B
    assert _by_group(dsn, "interaction_resource_fact", "f.talk_duration", "agent_m") == {
        "AG_A": (2, 600),
        "AG_B": (1, 120),
    }
    # SM_RES_STATE_FACT by start: NotReady 10 + Ready 3590 + Busy 305 + Ready 3175 + Busy 302
    # (starts 11:58) = 7382 s for AG_A; Ready 1618 + Busy 130 + Ready 1670 = 3418 s for AG_B
    assert _by_group(dsn, "sm_res_state_fact", "f.total_duration", "agent_m") == {
        "AG_A": (5, 7382),
        "AG_B": (3, 3418),
    }
    busy = _query(
        dsn,
        "select g.group_name, sum(f.total_duration) from infomart.sm_res_state_fact f"
        " join infomart.resource_state rs using (resource_state_key)"
        " join infomart.resource_group_fact rgf on f.resource_key = rgf.resource_key and " + RULE + ""
        " join infomart.group_ g on g.group_key = rgf.group_key"
        " where f.agent_id = 'agent_m' and rs.state_name = 'Busy' group by 1 order by 1",
    )
    assert busy == [("AG_A", 607), ("AG_B", 130)]
    # the skill level changes at the same instant
    assert _query(
        dsn,
        "select s.skill_name, rsf.skill_level, rsf.start_ts, rsf.end_ts from infomart.resource_skill_fact rsf"
        " join infomart.skill s using (skill_key) where rsf.resource_key = %s order by rsf.start_ts",
        key,
    ) == [("Sales", 5, _dt("08:00:00"), _dt("12:00:00")), ("Sales", 7, _dt("12:00:00"), None)]
    # the agent's RESOURCE_ row carries its configuration, under the key facts compute
    assert _query(
        dsn,
        "select resource_name, user_name, employee_id, agent_first_name, agent_last_name, configured_flag,"
        " resource_cfg_dbid from infomart.resource_ where resource_key = %s",
        key,
    ) == [("agent_m", "agent_m", "E00001", "First1", "Last1", 1, 100001)]


def test_renamed_queue_keeps_one_key_with_its_name_history(settings: Settings, tmp_path: Path):
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    _land_all(settings, tmp_path, _scenarios())
    _build(settings)
    key = resource_key("Queue", "VQ_Old")
    msf = _query(
        dsn,
        "select media_server_ixn_id, queue_name, resource_key from infomart.mediation_segment_fact"
        " where media_server_ixn_id like 'c-q%%' order by 1",
    )
    assert msf == [("c-q1", "VQ_Old", key), ("c-q2", "VQ_New", key), ("c-q3", "VQ_New", key)]
    irf = _query(
        dsn,
        "select media_server_ixn_id, dn_type, resource_key, last_vqueue_resource_key, last_vqueue_name"
        " from infomart.interaction_resource_fact where media_server_ixn_id like 'c-q%%' order by 1, 2",
    )
    assert irf == [
        ("c-q1", "Queue", key, -1, None),
        ("c-q2", "Queue", key, -1, None),
        ("c-q3", "Extension", resource_key("Agent", "agent_late"), key, "VQ_New"),
    ]
    assert _query(
        dsn,
        "select resource_name, valid_from, valid_to, is_alias, is_current_name"
        " from infomart.resource_name_history"
        " where resource_key = %s order by valid_from",
        key,
    ) == [
        ("VQ_Old", _dt("08:00:00"), _dt("12:00:00"), False, False),
        ("VQ_New", _dt("12:00:00"), None, True, True),
    ]
    # one RESOURCE_ row for the queue, with its current name; no row for the new name's own key
    assert _query(
        dsn,
        "select resource_key, resource_name, resource_subtype from infomart.resource_"
        " where resource_type = 'Queue'",
    ) == [(key, "VQ_New", "VirtualQueue")]


def test_agent_seen_before_its_configuration_is_filled_in_later(settings: Settings, tmp_path: Path):
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    sc = _scenarios()
    _land(
        settings,
        tmp_path,
        {
            "gca-cfg": sc["config_base"] + sc["config_changes"],
            "voice-callthread": sc["voice"],
            "voice-agentstate": sc["states"],
        },
    )
    _build(settings)
    key = resource_key("Agent", "agent_late")
    cols = (
        "select resource_key, resource_name, configured_flag, user_name, employee_id, agent_first_name,"
        " agent_last_name, resource_cfg_dbid from infomart.resource_ where resource_name = 'agent_late'"
    )
    assert _query(dsn, cols) == [(key, "agent_late", 0, None, None, None, None, None)]
    assert _query(dsn, "select count(*) from infomart.resource_group_fact where resource_key = %s", key) == [
        (0,)
    ]
    # facts already use the key
    assert _query(
        dsn,
        "select distinct resource_key from infomart.interaction_resource_fact where agent_id = 'agent_late'",
    ) == [(key,)]
    # Smoke is no action code, Break is (by name): both reasons seen in events have rows
    assert _query(
        dsn,
        "select workmode, reason_code, reason_name, configured_flag from infomart.resource_state_reason"
        " order by reason_code nulls first",
    ) == [
        ("AuxWork", None, "No reason", 0),
        ("AuxWork", "BREAK", "Break", 1),
        ("AuxWork", "Break", "Break", 1),
        ("AuxWork", "Smoke", "Unknown", 0),
    ]

    _land(settings, tmp_path, {"gca-cfg": sc["config_late"]})
    _build(settings)
    assert _query(dsn, cols) == [(key, "agent_late", 1, "agent_late", "E00009", "First9", "Last9", 100009)]
    # and its work is now attributed to its group (c-l1 talk 600 s; c-q3 talk 13:10:06 -> 13:15:00 = 294 s)
    assert _by_group(dsn, "interaction_resource_fact", "f.talk_duration", "agent_late") == {"AG_A": (2, 894)}


# ------------------------------------------------------------------ incremental == full refresh
def _snapshot(dsn: str) -> dict[str, list[tuple]]:
    """Every row of the new tables and the facts, all columns but landing bookkeeping (the
    high-water marks, which legitimately differ between incremental runs and a rebuild)."""
    out = {}
    for table in (*NEW_TABLES, *FACTS):
        columns = [
            r[0]
            for r in _query(
                dsn,
                "select column_name from information_schema.columns where table_schema = 'infomart'"
                " and table_name = %s"
                " and column_name not like '%%landed_at' and column_name not like '%%audit_key'"
                " order by ordinal_position",
                table,
            )
        ]
        out[table] = sorted(
            _query(dsn, f"select {', '.join(columns)} from infomart.{table}"),
            key=lambda r: tuple("" if v is None else str(v) for v in r),
        )
    return out


def test_late_out_of_order_configuration_incremental_equals_full_refresh(settings: Settings, tmp_path: Path):
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    sc = _scenarios()
    # 1. events first, with the 12:00 changes but not the 08:00 versions they follow
    _land(
        settings,
        tmp_path,
        {"voice-callthread": sc["voice"][:40], "gca-cfg": list(reversed(sc["config_changes"]))},
    )
    _build(settings, tests=False)
    # 2. the rest of the calls and the states, the late agent's Person
    _land(
        settings,
        tmp_path,
        {
            "voice-callthread": sc["voice"][40:],
            "voice-agentstate": sc["states"],
            "gca-cfg": sc["config_late"],
        },
    )
    _build(settings, tests=False)
    # a rename landed after facts used the new name: VQ_New had its own key until now
    early = _query(
        dsn, "select distinct resource_key from infomart.mediation_segment_fact where queue_name = 'VQ_New'"
    )
    assert early == [(resource_key("Queue", "VQ_New"),)]
    # 3. the 08:00 base configuration, last and in reverse order
    _land(settings, tmp_path, {"gca-cfg": list(reversed(sc["config_base"]))})
    _build(settings)
    incremental = _snapshot(dsn)
    assert _query(
        dsn, "select distinct resource_key from infomart.mediation_segment_fact where queue_name = 'VQ_New'"
    ) == [(resource_key("Queue", "VQ_Old"),)]
    _build(settings, tests=False, full_refresh=True)
    full = _snapshot(dsn)
    for table in incremental:
        assert incremental[table] == full[table], f"{table}: incremental differs from a full refresh"
    assert len(full["resource_group_fact"]) == 3 and len(full["resource_skill_fact"]) == 3
    assert len(full["resource_name_history"]) >= 4


# ------------------------------------------------------------------ a simulated day
def test_simulated_day_with_configuration_changes_joins_its_facts(
    settings: Settings, tmp_path: Path, cfg_dsn: str, kafka_bootstrap: str
):
    """The day's configuration the real way (Configuration Database -> config adapter -> gca-cfg),
    its events from archives."""
    t0 = time.monotonic()
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    result = simulate(SimulationConfig(seed=3, agents=12, duration_hours=4, config_changes=True))
    write_ndjson(result, tmp_path / "day")
    ing = ArchiveIngester(settings, dsn)
    try:
        assert ing.ingest(find_archives([tmp_path / "day"], settings)).rejects == 0
    finally:
        ing.close()
    fed = configure_through_adapter(
        with_topics_of_its_own(settings, kafka_bootstrap), cfg_dsn, result.config_changes
    )
    assert fed.written.outdated == 0 and fed.published > 0
    _build(settings)

    # the changes as the simulator made them (the times the Configuration Database recorded)
    cfg = [c.to_json() for c in result.config_changes]
    first_ts = cfg[0]["ts"]
    changes = [e for e in cfg if e["ts"] != first_ts]
    person = {e["dbid"]: e for e in cfg if e["ts"] == first_ts and e["object_type"] == "Person"}
    parties = [
        orjson.loads(x) for x in (tmp_path / "day" / "ledger" / "parties.ndjson").read_bytes().splitlines()
    ]
    states = [
        orjson.loads(x)
        for x in (tmp_path / "day" / "ledger" / "agent_states.ndjson").read_bytes().splitlines()
    ]

    def when(e: dict) -> datetime:
        return datetime.fromisoformat(e["ts"].replace("Z", "+00:00"))

    # every change reached the history at its simulated time: 08:00 (start), 09:00 (25 %: the new
    # agent), 09:36 (40 %: agent0002's move), 10:00 (50 %: agent0003's skill), and the deletion
    assert sorted({e["ts"][11:19] for e in cfg})[:4] == ["08:00:00", "09:00:00", "09:36:00", "10:00:00"]
    with psycopg.connect(cfg_dsn) as conn:
        recorded = {t for (t,) in conn.execute("select distinct changed_at from cfg.change_log")}
    assert recorded == {when(e) for e in cfg}
    assert {
        r[0] for r in _query(dsn, "select distinct valid_from from intermediate.int_config__history")
    } == recorded
    assert _query(dsn, "select count(*) from infomart.dq_config_version_anomalies") == [(0,)]

    # the move of agent0002: its facts split at the move between its two groups, as the ledger says
    move = next(e for e in changes if e["object_type"] == "Person" and e["dbid"] == 100002)
    old_group, new_group = (
        person[100002]["attributes"]["agent_groups"][0],
        move["attributes"]["agent_groups"][0],
    )
    assert old_group != new_group
    move_ts = move["ts"]
    expected_irf: dict[str, int] = {}
    for p in parties:
        if p["agent_id"] == "agent0002":
            g = old_group if p["start_ts"] < move_ts else new_group
            expected_irf[g] = expected_irf.get(g, 0) + 1
    got_irf = {g: n for g, (n, _) in _by_group(dsn, "interaction_resource_fact", "1", "agent0002").items()}
    assert got_irf == expected_irf and len(expected_irf) == 2
    expected_ms: dict[str, int] = {}
    for s in states:
        if s["agent_id"] == "agent0002" and s["end_ts"] is not None:
            g = old_group if s["start_ts"] < move_ts else new_group
            expected_ms[g] = expected_ms.get(g, 0) + s["duration_ms"]
    got_ms = {
        r[0]: int(r[1])
        for r in _query(
            dsn,
            "select g.group_name, sum(f.total_duration_ms) from infomart.sm_res_state_fact f"
            " join infomart.resource_group_fact rgf on f.resource_key = rgf.resource_key and " + RULE + ""
            " join infomart.group_ g on g.group_key = rgf.group_key"
            " where f.agent_id = 'agent0002' and f.end_ts is not null group by 1",
        )
    }
    assert got_ms == expected_ms and len(got_ms) == 2
    assert _query(
        dsn,
        "select g.group_name, rgf.start_ts, rgf.end_ts from infomart.resource_group_fact rgf"
        " join infomart.group_ g using (group_key) where rgf.resource_key = %s order by rgf.start_ts",
        resource_key("Agent", "agent0002"),
    ) == [(old_group, when(cfg[0]), when(move)), (new_group, when(move), None)]

    # the new agent (Person added at 25 %) has its configuration names and its groups from then on
    new = next(e for e in changes if e["object_type"] == "Person" and e["dbid"] not in person)
    attrs = new["attributes"]
    new_key = resource_key("Agent", attrs["user_name"])
    assert _query(
        dsn,
        "select resource_name, agent_first_name, agent_last_name, employee_id, configured_flag,"
        " config_valid_from"
        " from infomart.resource_ where resource_key = %s",
        new_key,
    ) == [(attrs["user_name"], attrs["first_name"], attrs["last_name"], attrs["employee_id"], 1, when(new))]
    new_groups = _query(
        dsn,
        "select g.group_name, rgf.start_ts, rgf.end_ts from infomart.resource_group_fact rgf"
        " join infomart.group_ g using (group_key) where rgf.resource_key = %s order by 1",
        new_key,
    )
    assert new_groups == sorted((g, when(new), None) for g in attrs["agent_groups"])
    # every one of its handled parties is attributed to each of its groups
    n_new = sum(1 for p in parties if p["agent_id"] == attrs["user_name"])
    assert n_new > 0
    got_new = _by_group(dsn, "interaction_resource_fact", "1", attrs["user_name"])
    assert got_new == {g: (n_new, n_new) for g in attrs["agent_groups"]}

    # the deleted agent keeps its history and its facts, and is marked deleted
    deleted = next(e for e in changes if e["attributes"] is None)
    gone = person[deleted["dbid"]]["attributes"]
    gone_key = resource_key("Agent", gone["user_name"])
    assert _query(
        dsn,
        "select is_deleted, deleted_ts, agent_first_name, resource_cfg_dbid from infomart.resource_"
        " where resource_key = %s",
        gone_key,
    ) == [(True, when(deleted), gone["first_name"], deleted["dbid"])]
    assert _query(
        dsn,
        "select distinct rgf.start_ts, rgf.end_ts, rgf.active_flag from infomart.resource_group_fact rgf"
        " where rgf.resource_key = %s",
        gone_key,
    ) == [(when(cfg[0]), when(deleted), 0)]
    assert _query(
        dsn,
        "select resource_name, valid_to, is_deleted from infomart.resource_name_history"
        " where resource_key = %s",
        gone_key,
    ) == [(gone["user_name"], when(deleted), True)]
    n_gone = sum(1 for p in parties if p["agent_id"] == gone["user_name"])
    assert n_gone > 0
    assert _query(  # the ledger's parties are the voice rows (the agent's chats have IRF rows too)
        dsn,
        "select count(*) from infomart.interaction_resource_fact"
        " where resource_key = %s and media_type_key = 1",
        gone_key,
    ) == [(n_gone,)]

    # the skill change of agent0003 at 50 %: the old level until then, the new one after
    change = next(e for e in changes if e["object_type"] == "Person" and e["dbid"] == 100003)
    before, after = person[100003]["attributes"]["skills"], change["attributes"]["skills"]
    (skill,) = [k for k in after if after[k] != before.get(k)]
    assert _query(
        dsn,
        "select s.skill_name, rsf.skill_level, rsf.start_ts, rsf.end_ts from infomart.resource_skill_fact rsf"
        " join infomart.skill s using (skill_key) where rsf.resource_key = %s and s.skill_name = %s"
        " order by rsf.start_ts",
        resource_key("Agent", "agent0003"),
        skill,
    ) == [(skill, before[skill], when(cfg[0]), when(change)), (skill, after[skill], when(change), None)]
    # every agent, DN and queue of the day is configured (the simulator configures them all)
    assert _query(
        dsn, "select count(*) from infomart.resource_ where configured_flag = 0 and resource_key <> -1"
    ) == [(0,)]
    # every NotReady reason seen has its action code's name
    assert _query(
        dsn,
        "select count(*) from infomart.resource_state_reason"
        " where reason_code is not null and configured_flag = 0",
    ) == [(0,)]
    # the campaigns: CAMPAIGN from their Campaign objects (names, dbid, group and dialing mode from
    # configuration, valid from the first configuration time), and every dial attempt's
    # CAMPAIGN_KEY resolves to its campaign's row
    campaigns = sorted(
        (a["name"], e["dbid"], a["group"], a["dialing_mode"], when(e))
        for e in cfg
        for a in [e["attributes"]]
        if e["object_type"] == "Campaign" and e["ts"] == first_ts
    )
    assert len(campaigns) == 2
    assert (
        _query(
            dsn,
            "select campaign_name, campaign_cfg_dbid, group_name, dialing_mode, valid_from"
            " from infomart.campaign where is_configured order by 1",
        )
        == campaigns
    )
    assert _query(
        dsn,
        "select c.campaign_name, count(*) > 0 from infomart.contact_attempt_fact a"
        " left join infomart.campaign c using (campaign_key) group by 1 order by 1",
    ) == [(name, True) for name, *_ in campaigns]
    print(f"\nsimulated day with configuration changes: {time.monotonic() - t0:.1f} s")
