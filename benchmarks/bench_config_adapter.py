"""Config adapter benchmark (run on demand, not a test)::

    python benchmarks/bench_config_adapter.py                # 20,000 agents, 2,000 queues
    python benchmarks/bench_config_adapter.py --agents 2000 --queues 200 --client kafka-python

Builds a Configuration Database on a fresh embedded PostgreSQL (the demo data set scaled up:
per agent a Person with skill levels, group memberships and an agent login, an extension DN and
a Place; ``--queues`` virtual queues in all), starts a tansu broker, and measures:

* the initial load (every object published) and one full snapshot (local folder);
* one idle poll (nothing changed), the median of 20;
* one poll with 100 changed objects (60 person updates, 20 skill-level changes, 10 queue renames,
  5 place renames, each fanning out to the person at the place);
* one poll after renaming a skill held by a third of the agents (fan-out to every holder).

For each poll: wall time, events published, SQL statements, and the Configuration Database's
own counters for it (pg_stat_database: rows returned/fetched, shared buffers hit/read), taken
with the statistics flushed before and after.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cli.config_demo import load_demo  # noqa: E402
from infomart import embedded  # noqa: E402
from infomart.objectstore import LocalObjectStore  # noqa: E402
from infomart.settings import Settings  # noqa: E402
from ingest.config.adapter import ConfigAdapter  # noqa: E402
from ingest.kafka_client import make_consumer, make_producer  # noqa: E402

COUNTERS = "tup_returned, tup_fetched, blks_hit, blks_read, xact_commit"


class DbLoad:
    """pg_stat_database counters of the Configuration Database, read from another database."""

    def __init__(self, admin_dsn: str, database: str, reader: psycopg.Connection) -> None:
        self.admin = psycopg.connect(admin_dsn, autocommit=True)
        self.database = database
        self.reader = reader

    def _flush(self) -> None:
        # the reader's pending statistics are flushed when it is idle after this request
        self.reader.execute("reset role")
        self.reader.execute("select pg_stat_force_next_flush()")
        self.reader.execute("set role cfg_reader")
        time.sleep(0.05)
        self.admin.execute("select pg_stat_clear_snapshot()")

    def read(self) -> tuple[int, ...]:
        self._flush()
        row = self.admin.execute(
            f"select {COUNTERS} from pg_stat_database where datname = %s", (self.database,)
        )
        return tuple(row.fetchone())  # type: ignore[arg-type]


def measure(adapter: ConfigAdapter, load: DbLoad) -> dict[str, float]:
    before = load.read()
    queries = adapter.reader.queries
    started = time.perf_counter()
    stats = adapter.poll()
    seconds = time.perf_counter() - started
    after = load.read()
    delta = [a - b for a, b in zip(after, before, strict=True)]
    # the flush requests themselves are 3 statements (reset role, flush, set role) per read
    return {
        "seconds": seconds,
        "db_seconds": stats.read_seconds,
        "events": stats.published,
        "statements": adapter.reader.queries - queries,
        "rows_returned": delta[0],
        "rows_fetched": delta[1],
        "buffers": delta[2] + delta[3],
        "buffers_read": delta[3],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=20_000)
    ap.add_argument("--queues", type=int, default=2_000, help="virtual queues in all (at least 7)")
    ap.add_argument("--client", default="confluent", choices=["kafka-python", "confluent"])
    ap.add_argument("--batch-size", type=int, default=5000)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="imb-", dir="/tmp"))
    proc = None
    try:
        t = time.perf_counter()
        admin = embedded.start_embedded_postgres(home, "postgres")
        dsn = embedded.start_embedded_postgres(home, "cfgdb_bench")
        proc, broker = embedded.start_tansu(log_file=home / "tansu.log")
        print(f"services up in {time.perf_counter() - t:.1f} s")

        with psycopg.connect(dsn, autocommit=True) as conn:
            t = time.perf_counter()
            counts = load_demo(conn, "t1", agents=args.agents, extra_queues=max(0, args.queues - 7))
            load_s = time.perf_counter() - t
            log_rows = conn.execute("select count(*) from cfg.change_log").fetchone()[0]  # type: ignore[index]
            size = conn.execute("select pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]  # type: ignore[index]
        print(
            f"Configuration Database: {counts.objects:,} objects ({args.agents:,} agents,"
            f" {args.queues:,} queues),"
            f" {log_rows:,} change-log rows, {size}; loaded in {load_s:.1f} s"
        )

        settings = Settings(home=home, kafka_bootstrap_servers=broker.bootstrap, kafka_client=args.client)  # type: ignore[arg-type]
        adapter = ConfigAdapter(
            settings,
            dsn,
            make_producer(settings, broker.bootstrap),
            make_consumer(settings, broker.bootstrap),
            LocalObjectStore(home / "objects"),
            batch_size=args.batch_size,
        )
        load = DbLoad(admin, "cfgdb_bench", adapter.reader.conn)
        adapter.start()

        results: dict[str, dict[str, float]] = {}
        results["initial load"] = measure(adapter, load)
        t = time.perf_counter()
        snap = adapter.write_snapshot()
        print(
            f"snapshot: {sum(snap.counts.values()):,} objects, {snap.bytes / 1e6:.1f} MB gzip, "
            f"{time.perf_counter() - t:.2f} s"
        )

        idle = [measure(adapter, load) for _ in range(20)]
        results["idle poll (median of 20)"] = {k: statistics.median(m[k] for m in idle) for k in idle[0]}

        with psycopg.connect(dsn, autocommit=True) as conn:
            t = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "update cfg.cfg_person set last_name = last_name || 'x'"
                    " where dbid in (select dbid from cfg.cfg_person order by dbid limit 60)"
                )
            with conn.transaction():
                conn.execute(
                    "update cfg.cfg_skill_level set level = level % 10 + 1 where (person_dbid, skill_dbid) in"
                    " (select distinct on (person_dbid) person_dbid, skill_dbid from cfg.cfg_skill_level"
                    "  where person_dbid > 100100 order by person_dbid, skill_dbid limit 20)"
                )
            with conn.transaction():
                conn.execute("update cfg.cfg_dn set number = number || '_x' where dbid between 1001 and 1010")
            with conn.transaction():
                conn.execute(
                    "update cfg.cfg_place set name = name || '_x' where dbid between 300200 and 300204"
                )
            write_s = time.perf_counter() - t
        results["poll with 100 changed objects"] = measure(adapter, load)
        print(f"(writing the 100 changes took {write_s * 1000:.0f} ms in 4 transactions, triggers included)")

        with psycopg.connect(dsn, autocommit=True) as conn:
            holders = conn.execute(
                "select count(*) from cfg.cfg_skill_level where skill_dbid = 101"
            ).fetchone()[0]  # type: ignore[index]
            t = time.perf_counter()
            conn.execute("update cfg.cfg_skill set name = 'Sales2' where dbid = 101")
            write_s = time.perf_counter() - t
        results[f"poll after a skill rename ({holders:,} holders)"] = measure(adapter, load)
        print(f"(the rename took {write_s * 1000:.0f} ms: {holders:,} Person changes logged by the trigger)")

        print()
        cols = ("seconds", "db s", "events", "SQL", "rows", "buffers", "read")
        widths = (8, 7, 7, 4, 9, 8, 5)
        print(f"{'':44} " + " ".join(f"{c:>{w}}" for c, w in zip(cols, widths, strict=True)))
        for name, m in results.items():
            print(
                f"{name:44} {m['seconds']:8.4f} {m['db_seconds']:7.4f} {m['events']:7,.0f}"
                f" {m['statements']:4.0f} {m['rows_returned'] + m['rows_fetched']:9,.0f}"
                f" {m['buffers']:8,.0f} {m['buffers_read']:5,.0f}"
            )
        print(
            "\nseconds = the whole poll (read, publish, flush, delivery check); db s = reading the"
            " Configuration Database; rows = rows returned + fetched by the Configuration Database"
            " (pg_stat_database), buffers ="
            " shared buffers hit + read (8 kB each), read = from outside PostgreSQL's buffer cache;"
            f" client {args.client}, producer batches of {args.batch_size}."
        )
        adapter.close()
        load.admin.close()
    finally:
        if proc is not None:
            proc.terminate()
        embedded.stop_embedded_postgres(home)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
