"""Chaos benchmark (on demand, not a test): ``python benchmarks/chaos.py --events 1000000 --kills 20``.

A simulated load published to Kafka (an embedded tansu broker) is landed by ``infomart ingest kafka``
and built by ``infomart transform`` (both as subprocesses, like a service) while SIGKILLs at random
moments hit one or the other, the broker is restarted once (the in-memory broker loses its topics:
the same events are published again, which must change nothing) and PostgreSQL is restarted once.
Then the ingester drains and a last transform runs, and every table of the Info Mart schema is
compared, every column but the landing bookkeeping, with a clean run: the same events landed from
archives into a fresh database and built once. Prints events lost, events staged twice, raw copies
the republishing added (kept once by staging), tables compared and identical.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_transform import START, land, write  # noqa: E402
from cli.publish import publish  # noqa: E402
from infomart import embedded  # noqa: E402
from infomart.settings import Settings  # noqa: E402
from ingest.kafka_client import make_producer  # noqa: E402
from pipeline.transform import transform  # noqa: E402
from simulator import SimulationConfig, simulate  # noqa: E402
from tests.fuzz import RAW_TABLES, mart_rows  # noqa: E402

INGEST = [sys.executable, "-m", "cli.main", "ingest", "kafka", "--until-drained"]
TRANSFORM = [sys.executable, "-m", "cli.main", "transform", "--no-tests"]


def env_of(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOMART_")}
    env.update(
        {
            "INFOMART_PG_DSN": settings.pg_dsn or "",
            "INFOMART_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers or "",
            "INFOMART_HOME": str(settings.home),
            "INFOMART_METRICS_PORT": "0",
            "INFOMART_LOOKBACK_MINUTES": "0",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def staged(dsn: str) -> tuple[int, int, int]:
    """(distinct event ids in staging, ids staged more than once, raw rows)."""
    with psycopg.connect(dsn) as conn:
        ids = twice = raw = 0
        for t in RAW_TABLES:
            if conn.execute("select to_regclass(%s)", (f"staging.stg_events__{t}",)).fetchone() == (None,):
                continue
            n, d = conn.execute(
                "select count(distinct event_id), count(*) - count(distinct event_id)"
                f" from staging.stg_events__{t}"
            ).fetchone()  # type: ignore[misc]
            ids, twice = ids + n, twice + d
            raw += conn.execute(f"select count(*) from raw.{t}").fetchone()[0]  # type: ignore[index]
    return ids, twice, raw


def publish_all(settings: Settings, deliveries: list, bootstrap: str) -> None:  # type: ignore[type-arg]
    producer = make_producer(settings, bootstrap, client="confluent")
    publish(deliveries, producer, settings.topics.by_logical(), partitions=3)
    producer.close()


def run_killed(cmd: list[str], env: dict[str, str], rng: random.Random, log: Path) -> str:
    """Start `cmd`, SIGKILL it after a random 1-8 s unless it ends first; 'killed' or 'ended'."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, cwd=ROOT)
        try:
            proc.wait(timeout=rng.uniform(1.0, 8.0))
            return "ended"
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return "killed"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--agents", type=int, default=100)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--keep", action="store_true", help="leave both databases running and print their DSNs")
    args = p.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="imtchaos-", dir="/tmp"))
    log = tmp / "commands.log"
    broker_proc, broker = embedded.start_tansu()
    dsn = embedded.start_embedded_postgres(tmp / "chaos", "chaos")
    clean_dsn = embedded.start_embedded_postgres(tmp / "clean", "clean")
    started = time.monotonic()
    try:
        deliveries, day = [], 0
        while len(deliveries) < args.events:
            start = START + timedelta(days=day)
            config = SimulationConfig(
                seed=args.seed + day, agents=args.agents, duration_hours=24, start=start
            )
            sim = simulate(config)
            deliveries += sim.deliveries
            day += 1
        deliveries = deliveries[: args.events]
        ids = {orjson.loads(d.value)["id"] for d in deliveries}
        settings = Settings(
            pg_dsn=dsn,
            kafka_bootstrap_servers=broker.bootstrap,
            home=tmp / "home",
            metrics_port=0,
            lookback_minutes=0,
        )
        publish_all(settings, deliveries, broker.bootstrap)
        print(
            f"published {len(deliveries):,} events ({len(ids):,} ids) in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        env = env_of(settings)
        kills = {"ingest": 0, "transform": 0}
        broker_restarted = postgres_restarted = False
        step = 0
        while sum(kills.values()) < args.kills:
            step += 1
            which = "ingest" if step % 2 else "transform"
            outcome = run_killed(INGEST if which == "ingest" else TRANSFORM, env, rng, log)
            if outcome == "killed":
                kills[which] += 1
            done = sum(kills.values())
            if not broker_restarted and done >= args.kills // 3:
                broker_proc.terminate()
                broker_proc.wait(10)
                broker_proc, broker = embedded.start_tansu(port=broker.port)
                publish_all(settings, deliveries, broker.bootstrap)  # the in-memory topics were lost
                broker_restarted = True
                print(f"  broker restarted, {len(deliveries):,} events republished", flush=True)
            if not postgres_restarted and done >= 2 * args.kills // 3:
                # under a running transform: it fails (and is run again later), nothing is half-kept
                with open(log, "ab") as out:
                    proc = subprocess.Popen(TRANSFORM, env=env, stdout=out, stderr=out, cwd=ROOT)
                    time.sleep(rng.uniform(1.0, 4.0))
                    embedded.stop_embedded_postgres(tmp / "chaos")
                    time.sleep(1.0)
                    dsn = embedded.start_embedded_postgres(tmp / "chaos", "chaos")
                    proc.wait()
                postgres_restarted = True
                print(
                    f"  PostgreSQL restarted under a transform (its exit code {proc.returncode})", flush=True
                )
            print(f"  {which} {outcome}; kills so far {kills}; staged ids {staged(dsn)[0]:,}", flush=True)
        with open(log, "ab") as out:
            for cmd in (INGEST, TRANSFORM):
                subprocess.run(cmd, env=env, check=True, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        n_ids, twice, raw = staged(dsn)
        with psycopg.connect(dsn) as conn:
            staged_ids = set()
            for t in RAW_TABLES:
                staged_ids |= {r[0] for r in conn.execute(f"select event_id from staging.stg_events__{t}")}
        lost = len(ids - staged_ids)
        print(f"chaos run done in {time.monotonic() - started:.0f} s; clean run ...", flush=True)
        clean = settings.model_copy(update={"pg_dsn": clean_dsn, "home": tmp / "clean-home"})
        write(deliveries, tmp / "archives")
        land(clean, tmp / "archives")
        transform(clean, clean_dsn, full_refresh=True, tests=False)
        chaos_marts, clean_marts = mart_rows(dsn), mart_rows(clean_dsn)
        same = [t for t in clean_marts if chaos_marts.get(t) == clean_marts[t]]
        differ = sorted((set(clean_marts) | set(chaos_marts)) - set(same))
        print(f"events {len(ids):,}; SIGKILLs {kills}; broker restarts 1; PostgreSQL restarts 1", flush=True)
        print(
            f"events lost {lost}; events staged twice {twice}; raw copies beyond one per event"
            f" {raw - n_ids:,} (republished after the broker restart, kept once by staging)",
            flush=True,
        )
        print(
            f"tables compared {len(set(clean_marts) | set(chaos_marts))}; identical {len(same)};"
            f" differing {differ}",
            flush=True,
        )
        for table in differ:
            got, want = set(chaos_marts.get(table, [])), set(clean_marts.get(table, []))
            print(
                f"  {table}: {len(got - want)} rows only in the chaos run, {len(want - got)} only in"
                f" the clean run; e.g. chaos {sorted(got - want)[:1]}, clean {sorted(want - got)[:1]}",
                flush=True,
            )
        print(f"total {time.monotonic() - started:.0f} s", flush=True)
    finally:
        broker_proc.terminate()
        if args.keep:
            print(f"kept: chaos {dsn}; clean {clean_dsn} (servers under {tmp})")
        else:
            embedded.stop_embedded_postgres(tmp / "chaos")
            embedded.stop_embedded_postgres(tmp / "clean")
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
