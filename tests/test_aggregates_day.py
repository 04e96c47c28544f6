"""The aggregates on the simulated day of 20,000+ calls: every row of ag2_queue_subhr,
ag2_agent_subhr and ag2_i_sess_state_subhr equals the simulator's interval ledger (voice rows),
and the messy delivery in 10 incremental cycles ends in exactly the rows of a full rebuild."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from infomart.settings import LOGICAL_TOPICS
from pipeline.transform import transform
from simulator import SimulationConfig, simulate, write_ndjson
from tests.helpers import build_models
from tests.test_voice_facts import DAY, _database, _land, _settings

AG2 = ["--select", "path:models/aggregates"]

# ledger file -> (table, name column of the resource, key columns besides the interval)
COMPARED = {
    "queue_intervals": ("ag2_queue_subhr", "queue", ["service_level_threshold", "short_abandon_threshold"]),
    "agent_intervals": ("ag2_agent_subhr", "agent_id", []),
    "agent_state_intervals": ("ag2_i_sess_state_subhr", "agent_id", []),
}
RATIOS = ("service_level", "occupancy")
SKIPPED = ("date_time_key", "interval_start_ts", "interval_start_local", "media_type", "interaction_type")


@pytest.fixture(scope="module")
def clean_day(tmp_path_factory: pytest.TempPathFactory, pg_server: str, kafka_bootstrap: str):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("ag2_day")
    result = simulate(SimulationConfig(**DAY))  # type: ignore[arg-type]
    write_ndjson(result, tmp / "events")
    dsn = _database(pg_server)
    settings = _settings(dsn, tmp / "home", kafka_bootstrap)
    _land(settings, tmp / "events")
    started = time.perf_counter()
    transform(settings, dsn, full_refresh=True, tests=False)
    print(f"\nclean day: full refresh with the aggregates in {time.perf_counter() - started:.1f} s")
    return dsn, tmp / "events" / "ledger"


def _table_rows(dsn: str, table: str, name_column: str, extra: list[str]) -> dict[tuple, dict[str, Any]]:
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(
            f"select a.*, r.resource_name as {name_column}, it.interaction_type as interaction_type_name"
            f" from infomart.{table} a join infomart.resource_ r using (resource_key)"
            " left join infomart.interaction_type it"
            f" on it.interaction_type_key = {'a.interaction_type_key' if 'state' not in table else '-99'}"
            " where a.media_type_key = 1"
        )
        names = [d.name for d in cur.description]  # type: ignore[union-attr]
        out = {}
        for values in cur.fetchall():
            row = dict(zip(names, values, strict=True))
            thresholds = tuple(float(row[c]) for c in extra)
            key = (row["date_time_key"], row[name_column], row["interaction_type_name"], *thresholds)
            out[key] = row
        return out


def test_subhr_aggregates_equal_the_interval_ledger(clean_day) -> None:  # type: ignore[no-untyped-def]
    dsn, ledger = clean_day
    for file, (table, name_column, extra) in COMPARED.items():
        want = [orjson.loads(x) for x in (ledger / f"{file}.ndjson").read_bytes().splitlines()]
        want = [w for w in want if w["media_type"] == "voice"]
        got = _table_rows(dsn, table, name_column, extra)
        cells = 0
        seen = set()
        for w in want:
            thresholds = tuple(float(w[c]) for c in extra)
            key = (w["date_time_key"], w[name_column], w.get("interaction_type"), *thresholds)
            row = got.get(key)
            assert row is not None, f"{table}: no row for the ledger's {w}"
            seen.add(key)
            for column, value in w.items():
                if column not in row or column in SKIPPED:
                    continue
                if column in RATIOS:
                    ok = (value is None and row[column] is None) or (
                        value is not None and row[column] is not None and abs(value - row[column]) < 1e-9
                    )
                else:
                    ok = row[column] == value or (value is not None and float(row[column]) == float(value))
                assert ok, f"{table}.{column} differs:\n ledger {w}\n table  {row}"
                cells += 1
        assert not set(got) - seen, f"{table}: rows not in the ledger: {sorted(set(got) - seen)[:3]}"
        print(f"\n{table}: {len(want):,} rows and {cells:,} cells equal to the ledger")
        assert len(want) > 200 and cells > 5_000


def _ag2_rows(dsn: str) -> dict[str, list[tuple]]:
    out = {}
    with psycopg.connect(dsn) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'infomart'"
                " and table_name like 'ag2\\_%%' order by 1"
            )
        ]
        for table in tables:
            cols = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'infomart'"
                    " and table_name = %s and column_name not like '%%landed_at' order by ordinal_position",
                    (table,),
                )
            ]
            collist = ", ".join(f'"{c}"::text' for c in cols)
            out[table] = conn.execute(f"select {collist} from infomart.{table} order by {collist}").fetchall()
    return out


def test_messy_delivery_in_ten_cycles_equals_a_full_rebuild(
    tmp_path: Path, pg_server: str, kafka_bootstrap: str
) -> None:
    messy = simulate(SimulationConfig(**DAY, redundant_sources=True, shuffle=True, late_share=0.05))  # type: ignore[arg-type]
    dsn = _database(pg_server)
    settings = _settings(dsn, tmp_path / "home", kafka_bootstrap)
    chunk = len(messy.deliveries) // 10 + 1
    for cycle in range(10):
        folder = tmp_path / f"cycle{cycle}"
        folder.mkdir()
        part = messy.deliveries[cycle * chunk : (cycle + 1) * chunk]
        for topic in LOGICAL_TOPICS:
            (folder / f"{topic}.ndjson").write_bytes(
                b"".join(d.value + b"\n" for d in part if d.topic == topic)
            )
        _land(settings, folder)
        transform(settings, dsn, tests=False)
    incremental = _ag2_rows(dsn)
    build_models(settings, AG2, tests=False, full_refresh=True)
    rebuilt = _ag2_rows(dsn)
    assert sorted(incremental) == sorted(rebuilt)
    for table, want in rebuilt.items():
        got = incremental[table]
        if got != want:
            missing = sorted(set(want) - set(got), key=repr)[:2]
            extra = sorted(set(got) - set(want), key=repr)[:2]
            pytest.fail(
                f"{table}: {len(got)} rows vs {len(want)}; only in rebuild: {missing};"
                f" only in cycles: {extra}"
            )
    print("identical aggregates: " + ", ".join(f"{t} ({len(r):,})" for t, r in rebuilt.items()))
