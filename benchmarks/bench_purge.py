"""Purge benchmark (on demand): ``python benchmarks/bench_purge.py --events 5000000``.

Simulates days of a contact center up to ``--events`` events, lands them from archives into an
embedded PostgreSQL (the raw tables' day partitions made first, as the maintenance job makes them
ahead), builds the marts, then purges the oldest simulated day of each day-partitioned table
(raw event tables, IRF, MSF, the agent-state facts) twice:

* before: from an unpartitioned copy of the table with the same indexes, by DELETE, as the
  maintenance job did before the tables were partitioned;
* after: from the partitioned table, as the maintenance job does now (the day's partition
  dropped; pipeline/maintain.py ``Purged.purge``).

Prints, per table and in all, the rows of the day, the time and the WAL written (a checkpoint
before each, so that both pay their full-page writes), then the maintenance job's whole run.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_transform import START, land, simulate_days, write  # noqa: E402
from infomart import embedded  # noqa: E402
from infomart.settings import Settings  # noqa: E402
from ingest.landing import ensure_raw_schema  # noqa: E402
from pipeline.maintain import RAW_EVENT_TABLES, Purged, maintain, partitions  # noqa: E402
from pipeline.transform import transform  # noqa: E402

PARTITIONED = {
    **{table: "event_ts" for table in RAW_EVENT_TABLES if table != "raw.gca_cfg"},
    "infomart.interaction_resource_fact": "start_ts",
    "infomart.mediation_segment_fact": "start_ts",
    "infomart.sm_res_session_fact": "start_ts",
    "infomart.sm_res_state_fact": "start_ts",
    "infomart.sm_res_state_reason_fact": "start_ts",
}


def wal_and_time(conn: psycopg.Connection, work) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Seconds and WAL bytes of ``work(conn)`` (one transaction), after a checkpoint."""
    conn.execute("checkpoint")
    (start_lsn,) = conn.execute("select pg_current_wal_insert_lsn()").fetchone()  # type: ignore[misc]
    started = time.monotonic()
    with conn.transaction():
        work(conn)
    seconds = time.monotonic() - started
    (wal,) = conn.execute(  # type: ignore[misc]
        "select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (start_lsn,)
    ).fetchone()
    return seconds, int(wal)


def flat_copy(conn: psycopg.Connection, table: str) -> str:
    """An unpartitioned copy of ``table`` in schema bench, with its indexes; its name."""
    schema, name = table.split(".")
    copy = f"bench.{schema}_{name}"
    conn.execute(
        sql.SQL("create table {} as select * from {}").format(
            sql.Identifier("bench", f"{schema}_{name}"), sql.Identifier(schema, name)
        )
    )
    indexes = conn.execute(
        "select indexdef from pg_indexes where schemaname = %s and tablename = %s", (schema, name)
    ).fetchall()
    for n, (indexdef,) in enumerate(indexes):
        conn.execute(
            re.sub(r"INDEX \S+ ON (ONLY )?\S+ ", f"INDEX {schema}_{name}_{n} ON {copy} ", indexdef, count=1)
        )
    conn.execute(sql.SQL("vacuum analyze {}").format(sql.Identifier("bench", f"{schema}_{name}")))
    return copy


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=5_000_000)
    p.add_argument("--agents", type=int, default=100)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="imtpurge-", dir="/tmp"))
    dsn = embedded.start_embedded_postgres(tmp / "pg", "purge")
    try:
        deliveries, day = simulate_days(args.events, args.agents, seed=11)
        print(f"{len(deliveries):,} events over {day} simulated days from {START:%Y-%m-%d}", flush=True)
        settings = Settings(pg_dsn=dsn, home=tmp / "home", metrics_port=0, lookback_minutes=0)
        with psycopg.connect(dsn, autocommit=True) as conn:
            ensure_raw_schema(conn)
            for table in RAW_EVENT_TABLES:  # the days, as the maintenance job makes them ahead
                conn.execute(
                    "select raw.ensure_day_partitions(%s::regclass, %s, %s)",
                    (table, START - timedelta(days=1), START + timedelta(days=day + 1)),
                )
        write(deliveries, tmp / "archives")
        del deliveries
        started = time.monotonic()
        land(settings, tmp / "archives")
        print(f"landed in {time.monotonic() - started:.0f} s", flush=True)
        started = time.monotonic()
        transform(settings, dsn, full_refresh=True, tests=False)
        print(f"built in {time.monotonic() - started:.0f} s", flush=True)

        cutoff = START + timedelta(days=1)  # the first simulated day is purged
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("set statement_timeout = 0")
            conn.execute("create schema bench")
            totals = {"before": [0.0, 0], "after": [0.0, 0]}
            print(f"\npurging {START:%Y-%m-%d} (rows before {cutoff:%Y-%m-%d %H:%M} UTC):", flush=True)
            print(f"{'table':<38}{'rows':>11}{'DELETE s':>10}{'WAL MB':>9}{'DROP s':>9}{'WAL MB':>9}")
            for table, column in PARTITIONED.items():
                (rows,) = conn.execute(  # type: ignore[misc]
                    sql.SQL("select count(*) from {} where {} < %s").format(
                        sql.Identifier(*table.split(".")), sql.Identifier(column)
                    ),
                    (cutoff,),
                ).fetchone()
                copy = flat_copy(conn, table)
                before = wal_and_time(
                    conn,
                    lambda c, copy=copy, column=column: c.execute(
                        sql.SQL("delete from {} where {} < %s").format(
                            sql.Identifier(*copy.split(".")), sql.Identifier(column)
                        ),
                        (cutoff,),
                    ),
                )
                purged = Purged()
                after = wal_and_time(
                    conn, lambda c, t=table, col=column, p=purged: p.purge(c, t, col, cutoff)
                )
                assert purged.rows[table] == rows, (table, purged.rows[table], rows)
                assert purged.partitions_dropped >= 1, table
                conn.execute(sql.SQL("drop table {}").format(sql.Identifier(*copy.split("."))))
                for key, (seconds, wal) in (("before", before), ("after", after)):
                    totals[key][0] += seconds
                    totals[key][1] += wal
                print(
                    f"{table:<38}{rows:>11,}{before[0]:>10.2f}{before[1] / 1e6:>9.1f}"
                    f"{after[0]:>9.3f}{after[1] / 1e6:>9.2f}",
                    flush=True,
                )
            print(
                f"{'all':<38}{'':>11}{totals['before'][0]:>10.2f}{totals['before'][1] / 1e6:>9.1f}"
                f"{totals['after'][0]:>9.3f}{totals['after'][1] / 1e6:>9.2f}",
                flush=True,
            )
            left = {t: [str(p.day) for p in partitions(conn, t)][:3] for t in list(PARTITIONED)[:1]}
            print(f"first partitions left: {left}")

        # the whole maintenance job one more simulated day on (staging and INTERACTION_FACT by DELETE)
        now = datetime.combine(cutoff.date() + timedelta(days=1), datetime.min.time(), UTC)
        keep = (datetime.now(UTC) - now).days
        job = maintain(
            settings.model_copy(
                update={"maintain_facts_keep_days": keep, "maintain_cfg_facts_keep_days": keep}
            ),
            dsn,
            now=datetime.now(UTC),
            rebuild_date_time=False,
        )
        job_cutoff = datetime.now(UTC) - timedelta(days=keep)
        print(
            f"\nmaintenance job, cut-off {job_cutoff:%Y-%m-%d %H:%M} UTC: {job.rows:,} rows,"
            f" {job.partitions_dropped} partitions dropped, {job.seconds:.1f} s (staging and"
            " INTERACTION_FACT deleted row by row, the cut-off's own day deleted, VACUUM, ANALYZE)",
            flush=True,
        )
    finally:
        embedded.stop_embedded_postgres(tmp / "pg")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
