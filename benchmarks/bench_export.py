"""Export benchmark (on demand): ``python benchmarks/bench_export.py --events 1000000``.

Simulates days of a contact center up to ``--events`` events, lands them from archives into an
embedded PostgreSQL, builds the marts, then runs the export job (export/job.py) to moto_server
on loopback as the S3 peer, and once more to a local folder. Prints the facts exported, the
rows/s and MB/s of each, the size of the export per million fact rows (zip of CSVs and Parquet),
then a second export after nothing changed (the incremental export's fixed cost).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_transform import land, simulate_days, write  # noqa: E402
from export.job import run_export  # noqa: E402
from infomart import embedded  # noqa: E402
from infomart.objectstore import LocalObjectStore, S3ObjectStore  # noqa: E402
from infomart.settings import Settings  # noqa: E402
from pipeline.transform import transform  # noqa: E402
from tests.helpers import moto_s3  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--agents", type=int, default=100)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="imtexport-", dir="/tmp"))
    dsn = embedded.start_embedded_postgres(tmp / "pg", "export")
    try:
        deliveries, _ = simulate_days(args.events, args.agents, seed=7)
        settings = Settings(pg_dsn=dsn, home=tmp / "home", metrics_port=0, lookback_minutes=0)
        write(deliveries, tmp / "archives")
        land(settings, tmp / "archives")
        started = time.monotonic()
        transform(settings, dsn, full_refresh=True, tests=False)
        built = time.monotonic() - started
        print(f"{len(deliveries):,} events landed and built in {built:.0f} s", flush=True)

        for s3 in moto_s3(tmp, prefix="bench"):
            s3_settings = settings.model_copy(update={"s3": s3})
            result = run_export(s3_settings, dsn, dsn, S3ObjectStore(s3))
            report("to S3 (moto_server on loopback)", result)
            again = run_export(s3_settings, dsn, dsn, S3ObjectStore(s3))
            print(f"  again, nothing changed: {again.rows} rows in {again.seconds:.2f} s", flush=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("delete from ctl.ctl_extract_history where source_kind = 'export'")
        local = run_export(settings, dsn, dsn, LocalObjectStore(tmp / "objects"))
        report("to a local folder", local)
    finally:
        embedded.stop_embedded_postgres(tmp / "pg")
        shutil.rmtree(tmp, ignore_errors=True)


def report(where: str, result) -> None:  # type: ignore[no-untyped-def]
    facts = sum(rows for table, rows in result.tables.items() if table.endswith("_fact"))
    mb = result.bytes_written / 1e6
    print(
        f"export {where}: {result.rows:,} rows ({facts:,} fact rows) in {result.seconds:.1f} s ="
        f" {result.rows / result.seconds:,.0f} rows/s, {mb:.1f} MB ({mb / result.seconds:.1f} MB/s);"
        f" {mb / max(facts, 1) * 1e6:.0f} MB per million fact rows",
        flush=True,
    )
    for table, rows in sorted(result.tables.items(), key=lambda kv: -kv[1])[:6]:
        print(f"  {table}: {rows:,}", flush=True)


if __name__ == "__main__":
    main()
