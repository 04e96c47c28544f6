"""Ingest benchmark (run on demand, not a test): ``./dev bench`` or
``python benchmarks/bench_ingest.py --sizes 100000,1000000``.

For each size it generates that many simulated events once, then measures, each in a fresh
worker process on a fresh database of the same PostgreSQL:

* ``copy``: the raw COPY ceiling, the same events COPYed into the raw tables in batches of the
  same size, with no parsing or validation (the events are read into memory before timing);
* ``archive``: NDJSON archives -> raw with the archive ingester (read, validate, COPY, progress);
* ``kafka/<client>``: Kafka -> raw with the Kafka ingester and each client, from topics that
  already hold the events (published before timing).

It prints events/s, the ratio to the COPY ceiling and each worker's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cli.publish import Delivery, publish  # noqa: E402
from infomart import embedded  # noqa: E402
from infomart.settings import LOGICAL_TOPICS, Settings  # noqa: E402
from ingest.kafka_client import make_producer  # noqa: E402


def _settings(dsn: str, bootstrap: str, prefix: str, client: str, batch: int) -> Settings:
    return Settings(
        pg_dsn=dsn,
        kafka_bootstrap_servers=bootstrap,
        kafka_client=client,  # type: ignore[arg-type]
        topics={t.replace("-", "_"): prefix + t for t in LOGICAL_TOPICS},  # type: ignore[arg-type]
        batch_size=batch,
        metrics_port=0,
        home=Path(tempfile.gettempdir()) / "infomart-bench",
    )


def generate(n: int) -> list[Delivery]:
    """At least ``n`` simulated events (several simulated days if needed), cut to ``n``."""
    from simulator import SimulationConfig, simulate

    out: list[Delivery] = []
    seed = 1
    while len(out) < n:
        result = simulate(SimulationConfig(seed=seed, agents=100, duration_hours=24))
        out.extend(Delivery(d.topic, d.key, d.value) for d in result.deliveries)
        seed += 1
    return out[:n]


# ------------------------------------------------------------------ workers (child processes)
def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that over from
    the parent across fork and exec, so a child would report the driver's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(args: argparse.Namespace) -> None:
    settings = _settings(args.dsn, args.bootstrap or "127.0.0.1:1", args.prefix, args.client, args.batch)
    if args.worker == "copy":
        from ingest.archive_ingester import _lines, find_archives
        from ingest.landing import Batch, ensure_raw_schema, write_batch

        archives = find_archives([Path(args.data)], settings)
        loaded = [(a, list(_lines(a.path))) for a in archives]
        conn = psycopg.connect(args.dsn, autocommit=True)
        ensure_raw_schema(conn)
        started = time.perf_counter()
        n = 0
        for a, lines in loaded:
            for i in range(0, len(lines), args.batch):
                batch = Batch("archive")
                for j, line in enumerate(lines[i : i + args.batch], start=i + 1):
                    batch.add(a.topic, line, str(a.path), j)
                write_batch(conn, batch, lambda cur: None)
                n += batch.event_count
        seconds = time.perf_counter() - started
    elif args.worker == "archive":
        from ingest.archive_ingester import ArchiveIngester, find_archives

        archives = find_archives([Path(args.data)], settings)
        ing = ArchiveIngester(settings, args.dsn)
        started = time.perf_counter()
        stats = ing.ingest(archives)
        seconds = time.perf_counter() - started
        n = stats.total + stats.rejects
    else:
        from ingest.kafka_ingester import KafkaIngester

        ing = KafkaIngester(settings, args.dsn, args.bootstrap)
        started = time.perf_counter()
        stats = ing.run(until_drained=True)
        seconds = time.perf_counter() - started
        n = stats.total + stats.rejects
    peak_mb = peak_rss_mb()
    print(json.dumps({"events": n, "seconds": seconds, "peak_rss_mb": peak_mb}))


# ------------------------------------------------------------------ driver
def _fresh_db(admin: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    info = conninfo_to_dict(admin)
    info["dbname"] = name
    return make_conninfo(**info)


def _run_worker(
    stage: str, dsn: str, data: Path, bootstrap: str, prefix: str, client: str, batch: int
) -> dict:
    cmd = [
        sys.executable, __file__, "--worker", stage, "--dsn", dsn, "--data", str(data),
        "--bootstrap", bootstrap, "--prefix", prefix, "--client", client, "--batch", str(batch),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"worker {stage} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000,1000000", help="comma-separated event counts")
    p.add_argument("--clients", default="kafka-python,confluent", help="Kafka clients to measure")
    p.add_argument("--batch", type=int, default=20_000, help="events per COPY transaction")
    p.add_argument("--pg-dsn", help="admin DSN of a PostgreSQL to use (default: embedded)")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: embedded tansu)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--dsn", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--prefix", default="", help=argparse.SUPPRESS)
    p.add_argument("--client", default="kafka-python", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return

    tmp = Path(tempfile.mkdtemp(prefix="imbench-", dir="/tmp"))
    proc = None
    try:
        admin = args.pg_dsn or embedded.start_embedded_postgres(tmp, "postgres")
        bootstrap = args.bootstrap
        if not bootstrap:
            proc, broker = embedded.start_tansu(log_file=tmp / "tansu.log")
            bootstrap = broker.bootstrap
        clients = [c for c in args.clients.split(",") if c]
        print(f"PostgreSQL: {admin}\nKafka: {bootstrap}\nbatch size: {args.batch}\n", flush=True)
        rows = []
        for n in [int(s) for s in args.sizes.split(",")]:
            t0 = time.perf_counter()
            deliveries = generate(n)
            print(f"[{n:,}] generated in {time.perf_counter() - t0:.1f} s", flush=True)
            data = tmp / f"data-{n}"
            data.mkdir()
            handles = {t: open(data / f"{t}.ndjson", "wb") for t in LOGICAL_TOPICS}  # noqa: SIM115
            for d in deliveries:
                handles[d.topic].write(d.value + b"\n")
            for h in handles.values():
                h.close()
            prefix = f"b{uuid.uuid4().hex[:6]}-"
            settings = _settings(admin, bootstrap, prefix, "confluent", args.batch)
            t0 = time.perf_counter()
            producer = make_producer(settings, bootstrap, client="confluent")
            publish(deliveries, producer, settings.topics.by_logical(), partitions=4)
            producer.close()
            print(f"[{n:,}] published to Kafka in {time.perf_counter() - t0:.1f} s", flush=True)
            del deliveries
            results = {}
            for stage in ["copy", "archive", *[f"kafka/{c}" for c in clients]]:
                client = stage.split("/")[1] if "/" in stage else "kafka-python"
                r = _run_worker(
                    stage.split("/")[0], _fresh_db(admin), data, bootstrap, prefix, client, args.batch
                )
                results[stage] = r
                print(
                    f"[{n:,}] {stage:<20} {r['events'] / r['seconds']:>10,.0f} events/s"
                    f"  peak RSS {r['peak_rss_mb']:>7,.0f} MB",
                    flush=True,
                )
            ceiling = results["copy"]["events"] / results["copy"]["seconds"]
            for stage, r in results.items():
                rate = r["events"] / r["seconds"]
                rows.append((n, stage, r["events"], rate, rate / ceiling, r["peak_rss_mb"]))
            shutil.rmtree(data)
        print("\n| events | path | landed | events/s | ratio to COPY ceiling | peak RSS MB |")
        print("|---:|---|---:|---:|---:|---:|")
        for n, stage, landed, rate, ratio, rss in rows:
            print(f"| {n:,} | {stage} | {landed:,} | {rate:,.0f} | {ratio:.2f} | {rss:,.0f} |")
    finally:
        if proc is not None:
            proc.terminate()
        if not args.pg_dsn:
            embedded.stop_embedded_postgres(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
