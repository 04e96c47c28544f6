"""Configuration through the real path, end to end: a simulated day configured through the
Configuration Database and the config adapter, then an agent moved to another group in the
Configuration Database (SQL, as an administrator's tool writes it), the adapter, the Kafka
ingester, dbt: the membership and the facts split at the change time. Then a change whose time
contradicts its config_version (dated before the version below it): it is flagged in
dq_config_version_anomalies, no range ends before it starts, and the build (with its data tests)
goes on. Incremental runs end in the rows of a full refresh."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from infomart.settings import Settings
from ingest.config.feed import feed_configuration
from simulator import SimulationConfig, simulate, write_ndjson
from tests.helpers import (
    build_models,
    configure_through_adapter,
    drop_all_schemas,
    land_folder,
    land_kafka,
    module_database,
    with_topics_of_its_own,
)

SELECT = [
    "--select",
    "+resource_group_fact",
    "+group_",
    "+interaction_resource_fact",
    "+sm_res_state_fact",
    "+dq_config_version_anomalies",
    "date_time",
]
RULE = "f.start_ts >= rgf.start_ts and (f.start_ts < rgf.end_ts or rgf.end_ts is null)"
AGENT, PERSON = "agent0002", 100002
AG_SALES, AG_SUPPORT, AG_BILLING = 201, 202, 203


@pytest.fixture(scope="module")
def module_settings(
    pg_server: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("cfg-real-path-home")
    yield from module_database(pg_server, home, "t_cfgreal", lookback_minutes=0)


@pytest.fixture
def settings(module_settings: Settings, kafka_bootstrap: str) -> Settings:
    return with_topics_of_its_own(drop_all_schemas(module_settings), kafka_bootstrap)


def _at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-23T{hhmm}:00+00:00").astimezone(UTC)


def _query(dsn: str, query: str, *args: Any) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, args or None).fetchall()


def _move(cfg_dsn: str, at: str, from_group: int, to_group: int) -> int:
    """Move the agent from one group to another in one transaction dated `at`; its version."""
    with psycopg.connect(cfg_dsn, autocommit=True) as conn, conn.transaction():
        conn.execute("select set_config('cfg.changed_at', %s, true)", (_at(at).isoformat(),))
        done = conn.execute(
            "update cfg.cfg_agent_group_member set group_dbid = %s"
            " where person_dbid = %s and group_dbid = %s",
            (to_group, PERSON, from_group),
        )
        assert done.rowcount == 1
        return int(conn.execute("select max(config_version) from cfg.change_log").fetchone()[0])  # type: ignore[index]


def _publish_and_build(settings: Settings, cfg_dsn: str) -> None:
    """The config adapter (one poll), the Kafka ingester, dbt with the data tests."""
    fed = feed_configuration(settings, cfg_dsn, settings.kafka_bootstrap_servers, [])  # type: ignore[arg-type]
    assert fed.published == 1  # the moved agent's Person
    land_kafka(settings)
    build_models(settings, SELECT)


def _memberships(dsn: str) -> list[tuple]:
    return _query(
        dsn,
        "select g.group_name, rgf.start_ts, rgf.end_ts from infomart.resource_group_fact as rgf"
        " inner join infomart.group_ as g on rgf.group_key = g.group_key"
        " where rgf.resource_cfg_dbid = %s order by rgf.start_ts, rgf.end_ts nulls last",
        PERSON,
    )


def _parties_by_group(dsn: str) -> dict[str, int]:
    rows = _query(
        dsn,
        "select g.group_name, count(*) from infomart.interaction_resource_fact as f"
        " inner join infomart.resource_group_fact as rgf on f.resource_key = rgf.resource_key and "
        + RULE
        + ""
        " inner join infomart.group_ as g on rgf.group_key = g.group_key"
        " where f.agent_id = %s group by g.group_name",
        AGENT,
    )
    return dict(rows)


def _state_ms_by_group(dsn: str) -> dict[str, int]:
    rows = _query(
        dsn,
        "select g.group_name, sum(f.total_duration_ms) from infomart.sm_res_state_fact as f"
        " inner join infomart.resource_group_fact as rgf on f.resource_key = rgf.resource_key and "
        + RULE
        + ""
        " inner join infomart.group_ as g on rgf.group_key = g.group_key"
        " where f.agent_id = %s and f.end_ts is not null group by g.group_name",
        AGENT,
    )
    return {g: int(ms) for g, ms in rows}


def _split(rows: list[dict], at: datetime, before: str, after: str, weight: str | None) -> dict[str, int]:
    """The ledger's rows of the agent counted (or their `weight` summed) per group by their start."""
    out: dict[str, int] = {}
    cut = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for r in rows:
        if r["agent_id"] != AGENT or (weight and r["end_ts"] is None):
            continue
        g = before if r["start_ts"] < cut else after
        out[g] = out.get(g, 0) + (r[weight] if weight else 1)
    return {g: n for g, n in out.items() if n}


def _config_rows(dsn: str) -> dict[str, list[tuple]]:
    return {
        "history": _query(
            dsn,
            "select object_type, dbid, config_version, valid_from, valid_to, is_deleted, attributes"
            " from intermediate.int_config__history order by 1, 2, 3",
        ),
        "memberships": _query(
            dsn,
            "select resource_group_fact_key, resource_key, group_key, group_name, start_ts, end_ts"
            " from infomart.resource_group_fact order by 1",
        ),
        "anomalies": _query(
            dsn,
            "select object_type, dbid, object_name, config_version, changed_at, lower_config_version,"
            " lower_changed_at, anomaly, event_id from infomart.dq_config_version_anomalies order by 1, 2, 4",
        ),
    }


def test_group_move_in_the_configuration_database_then_a_contradicting_time(
    settings: Settings, cfg_dsn: str, tmp_path: Path
):
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    result = simulate(SimulationConfig(seed=5, agents=8, duration_hours=3))  # 08:00 - 11:00
    write_ndjson(result, tmp_path / "day")
    land_folder(settings, tmp_path / "day")
    configure_through_adapter(settings, cfg_dsn, result.config_changes)
    build_models(settings, SELECT)
    parties = [orjson.loads(x) for x in (tmp_path / "day/ledger/parties.ndjson").read_bytes().splitlines()]
    states = [
        orjson.loads(x) for x in (tmp_path / "day/ledger/agent_states.ndjson").read_bytes().splitlines()
    ]
    assert _memberships(dsn) == [("AG_Support", _at("08:00"), None)]
    first_version = _query(
        cfg_dsn,
        "select max(config_version) from cfg.change_log where object_type = 'Person' and dbid = %s",
        PERSON,
    )[0][0]

    # 1. the agent moves from AG_Support to AG_Sales at 09:30
    moved = _move(cfg_dsn, "09:30", AG_SUPPORT, AG_SALES)
    _publish_and_build(settings, cfg_dsn)
    assert _memberships(dsn) == [
        ("AG_Support", _at("08:00"), _at("09:30")),
        ("AG_Sales", _at("09:30"), None),
    ]
    expected_parties = _split(parties, _at("09:30"), "AG_Support", "AG_Sales", None)
    assert set(expected_parties) == {"AG_Support", "AG_Sales"}
    assert _parties_by_group(dsn) == expected_parties
    expected_ms = _split(states, _at("09:30"), "AG_Support", "AG_Sales", "duration_ms")
    assert set(expected_ms) == {"AG_Support", "AG_Sales"}
    assert _state_ms_by_group(dsn) == expected_ms
    assert _query(dsn, "select count(*) from infomart.dq_config_version_anomalies") == [(0,)]

    # 2. a later version dated 09:00, before the 09:30 one: AG_Sales -> AG_Billing
    contradicting = _move(cfg_dsn, "09:00", AG_SALES, AG_BILLING)
    assert first_version < moved < contradicting
    _publish_and_build(settings, cfg_dsn)  # with the data tests (no_overlapping_ranges): passes
    # ordered by version: the contradicting version takes effect at 09:30, the 09:30 one lasts 0 s
    assert _query(
        dsn,
        "select config_version, valid_from, valid_to, attributes -> 'agent_groups'"
        " from intermediate.int_config__history where object_type = 'Person' and dbid = %s order by 1",
        PERSON,
    ) == [
        (first_version, _at("08:00"), _at("09:30"), ["AG_Support"]),
        (moved, _at("09:30"), _at("09:30"), ["AG_Sales"]),
        (contradicting, _at("09:30"), None, ["AG_Billing"]),
    ]
    assert _query(
        dsn,
        "select object_type, dbid, object_name, config_version, changed_at, lower_config_version,"
        " lower_changed_at, anomaly from infomart.dq_config_version_anomalies",
    ) == [
        (
            "Person",
            PERSON,
            AGENT,
            contradicting,
            _at("09:00"),
            moved,
            _at("09:30"),
            f"changed before lower config_version {moved}: in force from that version's change time",
        )
    ]
    assert _memberships(dsn) == [
        ("AG_Support", _at("08:00"), _at("09:30")),
        ("AG_Sales", _at("09:30"), _at("09:30")),
        ("AG_Billing", _at("09:30"), None),
    ]
    # the facts after 09:30 now count for AG_Billing; AG_Sales' membership covers no instant
    assert _parties_by_group(dsn) == {
        "AG_Support": expected_parties["AG_Support"],
        "AG_Billing": expected_parties["AG_Sales"],
    }
    assert _state_ms_by_group(dsn) == {
        "AG_Support": expected_ms["AG_Support"],
        "AG_Billing": expected_ms["AG_Sales"],
    }

    # the incremental cycles end in the rows of a full refresh
    incremental = _config_rows(dsn)
    build_models(settings, SELECT, full_refresh=True)
    assert _config_rows(dsn) == incremental
