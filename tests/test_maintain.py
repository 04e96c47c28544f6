"""The maintenance job (pipeline/maintain.py): facts, their staged and raw events, rejects and job
history past their retention are purged; every fact inside the retention stays as it was; a full
refresh afterwards brings nothing back; the configuration's events are never purged; DATE_TIME is
extended when it reaches less than 183 days ahead."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from infomart.settings import LOGICAL_TOPICS, Settings, SettingsError, load_settings
from pipeline.maintain import CFG_FACTS, FACTS, maintain, partitions
from pipeline.transform import transform
from simulator import SimulationConfig, simulate
from tests import helpers

NOW = datetime.now(UTC).replace(microsecond=0)
#: the facts partitioned by day (macros/partitions.sql)
PARTITIONED = tuple(
    f"infomart.{t}"
    for t in (
        "interaction_resource_fact",
        "mediation_segment_fact",
        "sm_res_session_fact",
        "sm_res_state_fact",
        "sm_res_state_reason_fact",
    )
)


@pytest.fixture(scope="module")
def two_months(tmp_path_factory: pytest.TempPathFactory, pg_server: str) -> Iterator[Settings]:
    """A database with an hour of calls 40 days ago and an hour 2 days ago, built."""
    tmp = tmp_path_factory.mktemp("maintain")
    for settings in helpers.module_database(pg_server, tmp / "home", "maintain"):
        for n, days_ago in enumerate((40, 2)):
            start = (NOW - timedelta(days=days_ago)).replace(minute=0, second=0)
            config = SimulationConfig(seed=30 + n, agents=6, duration_hours=1, calls_per_hour=60, start=start)
            folder = tmp / f"day{n}"
            folder.mkdir()
            deliveries = simulate(config).deliveries
            for topic in LOGICAL_TOPICS:
                (folder / f"{topic}.ndjson").write_bytes(
                    b"".join(d.value + b"\n" for d in deliveries if d.topic == topic)
                )
            helpers.land_folder(settings, folder)
        transform(settings, settings.pg_dsn, full_refresh=True, tests=False)  # type: ignore[arg-type]
        yield settings


def facts(dsn: str, since: datetime | None = None) -> dict[str, set[tuple]]:
    """Every fact row (as text, bookkeeping aside), only those from ``since`` if given."""
    out = {}
    with psycopg.connect(dsn) as conn:
        for table, column in {**FACTS, **CFG_FACTS}.items():
            cols = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'infomart'"
                    " and table_name = %s and column_name not like '%%landed_at'"
                    " and column_name not like '%%audit_key' order by ordinal_position",
                    (table,),
                )
            ]
            where = f" where {column} >= %s" if since is not None else ""
            rows = conn.execute(
                f"select {', '.join(c + '::text' for c in cols)} from infomart.{table}{where}",
                (since,) if since is not None else (),
            ).fetchall()
            out[table] = set(rows)
    return out


def count(dsn: str, query: str, *args: object) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, args).fetchone()[0]  # type: ignore[index]


def test_purge_keeps_every_fact_inside_the_retention_and_a_rebuild_brings_nothing_back(
    two_months: Settings,
) -> None:
    settings = two_months.model_copy(
        update={
            "maintain_facts_keep_days": 10,
            "maintain_cfg_facts_keep_days": 10,
            "maintain_history_keep_days": 30,
        }
    )
    dsn = settings.pg_dsn
    assert dsn is not None
    cutoff = NOW - timedelta(days=10)
    kept = {t: rows for t, rows in facts(dsn, cutoff).items() if t in FACTS}
    before = facts(dsn)
    assert all(kept[t] for t in ("interaction_fact", "interaction_resource_fact", "sm_res_state_fact"))
    assert all(len(before[t]) > len(kept[t]) for t in ("interaction_fact", "sm_res_session_fact"))
    cfg_events = count(dsn, "select count(*) from raw.gca_cfg")
    with psycopg.connect(dsn, autocommit=True) as conn:  # history: one old and one new reject and job run
        conn.execute(
            "insert into raw.rejects (topic, reason, raw_bytes, rejected_at) values"
            " ('voice-callthread', 'invalid_json: old', 'x', now() - interval '60 days'),"
            " ('voice-callthread', 'invalid_json: new', 'y', now())"
        )
        conn.execute(
            "insert into ctl.ctl_etl_history (job_name, status, started_at, ended_at)"
            " values ('ingest', 'succeeded', now() - interval '60 days', now() - interval '60 days')"
        )

    with psycopg.connect(dsn) as conn:
        irf_days = [p.day for p in partitions(conn, "infomart.interaction_resource_fact")]
        raw_days = [p.day for p in partitions(conn, "raw.voice_callthread")]
    old_day, new_day = (NOW - timedelta(days=40)).date(), (NOW - timedelta(days=2)).date()
    assert old_day in irf_days and new_day in irf_days and None in irf_days  # days, and the default
    assert new_day not in raw_days and old_day not in raw_days  # older than the days made ahead

    result = maintain(settings, dsn, now=NOW)
    # the old events were sorted out of the default partition into their day, then dropped with
    # it; the facts' old days were dropped too, not deleted row by row
    assert result.partitions_made >= 1 and result.partitions_dropped >= len(PARTITIONED) + 1
    with psycopg.connect(dsn) as conn:
        for table in (*PARTITIONED, "raw.voice_callthread"):
            days = [p.day for p in partitions(conn, table)]
            assert None in days and all(d is None or d >= cutoff.date() for d in days), (table, days)
            assert conn.execute(f"select count(*) from only {table}_default").fetchone() == (0,)
        assert new_day in [p.day for p in partitions(conn, "raw.voice_callthread")]
    assert result.purged["infomart.interaction_fact"] == len(before["interaction_fact"]) - len(
        kept["interaction_fact"]
    )
    assert (
        result.purged["raw.voice_callthread"] > 0
        and result.purged["staging.stg_events__voice_callthread"] > 0
    )
    assert result.purged["raw.rejects"] == 1 and result.purged["ctl.ctl_etl_history"] == 1
    assert not result.date_time_rebuilt and result.date_time_days_ahead > 360

    after = facts(dsn)
    for table in FACTS:
        assert after[table] == kept[table], f"{table}: a fact inside the retention changed"
    assert count(dsn, "select count(*) from raw.gca_cfg") == cfg_events  # configuration never purged
    assert count(dsn, "select count(*) from raw.rejects") == 1
    assert (
        count(
            dsn, "select count(*) from raw.voice_callthread where (payload->>'ts')::timestamptz < %s", cutoff
        )
        == 0
    )
    with psycopg.connect(dsn) as conn:
        [(status, rows)] = conn.execute(
            "select status, row_count from ctl.admin_etl_job_history where job_name = 'maintenance'"
        ).fetchall()
    assert status == "succeeded" and rows == result.rows

    # a rebuild from what is left gives the same facts: nothing comes back
    transform(settings, dsn, full_refresh=True, tests=False)
    rebuilt = facts(dsn)
    with psycopg.connect(dsn) as conn:  # the rebuilt tables' partitions are named after them again
        for table in PARTITIONED:
            names = [p.name for p in partitions(conn, table)]
            assert names and all(n.startswith(f"{table}_") and "__dbt" not in n for n in names), names
    for table in FACTS:
        assert rebuilt[table] == after[table], f"{table}: the rebuild differs from the purged facts"
    # a second run purges nothing more
    again = maintain(settings, dsn, now=NOW)
    assert {k: v for k, v in again.purged.items() if v and not k.startswith("ctl.")} == {}


def test_date_time_is_extended_when_it_reaches_less_than_183_days_ahead(two_months: Settings) -> None:
    settings = two_months.model_copy(
        update={"maintain_facts_keep_days": 4000, "maintain_cfg_facts_keep_days": 4000}
    )
    later = NOW + timedelta(days=200)  # half a year without a transform
    result = maintain(settings, settings.pg_dsn, now=later)  # type: ignore[arg-type]
    assert result.date_time_days_ahead is not None and result.date_time_days_ahead < 183
    assert result.date_time_rebuilt


def test_configuration_facts_must_outlive_the_facts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INFOMART_MAINTAIN_FACTS_KEEP_DAYS", "400")
    monkeypatch.setenv("INFOMART_MAINTAIN_CFG_FACTS_KEEP_DAYS", "100")
    with pytest.raises(SettingsError, match="must be at least INFOMART_MAINTAIN_FACTS_KEEP_DAYS"):
        load_settings()
