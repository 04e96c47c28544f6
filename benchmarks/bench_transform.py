"""Transform benchmark (on demand, not a test):
``python benchmarks/bench_transform.py --history 1000000,5000000 --cycle 10000``.

For each history size: simulates consecutive days until the history is reached, lands them
(archives), runs one full refresh (events/s), then lands one more simulated slice of ``--cycle``
events (the next day's first events) and times the incremental transform that processes it.
The cost of a cycle should follow the new events, not the history. Three cycles are timed (each
with the next ``--cycle`` events), plus an idle one, each with its slowest models.
With ``--aggregates-every 3600`` the cycles build the facts only (the aggregates on their own
cadence) and a last, due cycle with no new events builds the aggregates they left pending.
Cycles run as ``infomart run`` runs them (``only_changed``: dbt source freshness, then only the
models downstream of sources with new rows); each line gives the freshness check's share.

The whole history lands within minutes here, so the look-back window is set to 0 (a 60-minute
look-back would count all of it as new); in production the look-back covers ingest lag.

The configuration takes the real path: each day's configuration changes are written into a
Configuration Database (database ``cfgdb_bench`` on the same server) and published by the config
adapter on an embedded tansu broker, then landed by the Kafka ingester. The days share one
configuration, so only the first day publishes it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_ingest import peak_rss_mb  # noqa: E402
from infomart import embedded  # noqa: E402
from infomart.settings import LOGICAL_TOPICS, Settings  # noqa: E402
from ingest.archive_ingester import ArchiveIngester, find_archives  # noqa: E402
from ingest.config.database import init_schema  # noqa: E402
from ingest.config.feed import feed_configuration  # noqa: E402
from ingest.kafka_ingester import KafkaIngester  # noqa: E402
from pipeline import cadence  # noqa: E402
from pipeline.transform import TransformResult, run_dbt, transform  # noqa: E402
from simulator import SimulationConfig, simulate  # noqa: E402

START = datetime(2026, 1, 5, tzinfo=UTC)


def simulate_days(events: int, agents: int, seed: int):  # type: ignore[no-untyped-def]
    """Whole simulated days from START until ``events`` events (the last day cut there):
    (the deliveries, the number of days)."""
    deliveries, day = [], 0
    while len(deliveries) < events:
        config = SimulationConfig(
            seed=seed + day, agents=agents, duration_hours=24, start=START + timedelta(days=day)
        )
        deliveries += simulate(config).deliveries
        day += 1
    return deliveries[:events], day


def write(deliveries, folder: Path) -> None:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True)
    handles = {t: open(folder / f"{t}.ndjson", "wb") for t in LOGICAL_TOPICS}  # noqa: SIM115
    for d in deliveries:
        handles[d.topic].write(d.value + b"\n")
    for h in handles.values():
        h.close()


def land(settings: Settings, folder: Path) -> None:
    ing = ArchiveIngester(settings, settings.pg_dsn)  # type: ignore[arg-type]
    ing.ingest(find_archives([folder], settings))
    ing.close()


def configure(settings: Settings, cfg_dsn: str, changes) -> int:  # type: ignore[no-untyped-def]
    """Configuration Database -> config adapter -> gca-cfg -> raw; returns the events published."""
    fed = feed_configuration(settings, cfg_dsn, settings.kafka_bootstrap_servers, changes)  # type: ignore[arg-type]
    ing = KafkaIngester(settings, settings.pg_dsn, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    ing.run(until_drained=True)
    ing.close()
    return fed.published


def slowest(result: TransformResult, n: int = 6) -> str:
    nodes = sorted(result.nodes, key=lambda node: node.seconds, reverse=True)[:n]
    return ", ".join(f"{node.name} {node.seconds:.1f}" for node in nodes)


def aggregates_share(result: TransformResult) -> str:
    """Seconds the aggregate models (ag2_*) took of the dbt work, and how many of them ran."""
    ag2 = [node for node in result.nodes if node.name.startswith("ag2_")]
    total = sum(node.seconds for node in result.nodes)
    spent = sum(node.seconds for node in ag2)
    share = spent / total if total else 0.0
    return f"aggregates {spent:.1f} s of {total:.1f} s dbt work ({share:.0%}, {len(ag2)} models)"


# the models of issue 14 (digital IRF/MSF inputs, media-neutral state, outbound, campaign, user
# data): their share of each run is what those facts add (the digital branches inside
# interaction_resource_fact and mediation_segment_fact are not counted here)
ISSUE_14_MODELS = (
    "int_digital__",
    "sm_media_neutral_state_fact",
    "contact_attempt_fact",
    "campaign_group_session_fact",
    "ag2_campaign_",
    "campaign",
    "int_user_data__",
    "irf_user_data_",
    "user_data_cust_dim_1",
    "dq_user_data_truncations",
)


def issue_14_share(result: TransformResult) -> str:
    """Seconds the digital, outbound and user-data models took of the dbt work."""
    mine = [node for node in result.nodes if node.name.startswith(ISSUE_14_MODELS)]
    spent = sum(node.seconds for node in mine)
    total = sum(node.seconds for node in result.nodes)
    top = ", ".join(
        f"{n.name} {n.seconds:.1f}" for n in sorted(mine, key=lambda n: n.seconds, reverse=True)[:4]
    )
    return f"digital/outbound/user-data models {spent:.1f} s of {total:.1f} s ({len(mine)} nodes: {top})"


def measure(history: int, args: argparse.Namespace, tmp: Path) -> None:
    dsn = embedded.start_embedded_postgres(tmp / f"h{history}", "bench")
    cfg_dsn = embedded.start_embedded_postgres(tmp / f"h{history}", "cfgdb_bench")
    broker_proc, broker = embedded.start_tansu()
    try:
        settings = Settings(
            pg_dsn=dsn,
            kafka_bootstrap_servers=broker.bootstrap,
            metrics_port=0,
            home=tmp,
            lookback_minutes=0,
            aggregates_every_seconds=args.aggregates_every,
        )
        with psycopg.connect(cfg_dsn, autocommit=True) as conn:
            init_schema(conn, settings.tenant)
        landed, day = 0, 0
        while landed < history:
            start = START + timedelta(days=day)
            result = simulate(
                SimulationConfig(seed=day + 1, agents=args.agents, duration_hours=24, start=start)
            )
            part = result.deliveries[: history - landed]
            write(part, tmp / f"d{history}-{day}")
            land(settings, tmp / f"d{history}-{day}")
            landed += len(part) + configure(settings, cfg_dsn, result.config_changes)
            day += 1
            print(f"[{history:,}] landed day {day}: {landed:,} events", flush=True)
        if args.facts_only:
            # the models the Info Mart had before the aggregates and reports: the comparable figure
            t0 = time.perf_counter()
            result = run_dbt(
                settings,
                dsn,
                [
                    "build",
                    "--full-refresh",
                    "--exclude-resource-type",
                    "test",
                    "unit_test",
                    "--exclude",
                    cadence.AGGREGATES,
                    "path:models/reports",
                ],
            )
            full = time.perf_counter() - t0
            print(
                f"[{history:,}] full refresh of the facts and dimensions alone ({len(result.nodes)} nodes):"
                f" {full:.1f} s = {history / full:,.0f} events/s; slowest: {slowest(result)}",
                flush=True,
            )
            return
        t0 = time.perf_counter()
        result = transform(settings, dsn, full_refresh=True, tests=False, only_changed=True)
        full = time.perf_counter() - t0
        print(
            f"[{history:,}] full refresh: {full:.1f} s = {history / full:,.0f} events/s"
            f" (of which vacuum analyze {result.vacuum_seconds:.1f} s);"
            f" {aggregates_share(result)}; {issue_14_share(result)}; slowest: {slowest(result)}",
            flush=True,
        )
        nxt = simulate(
            SimulationConfig(
                seed=9999, agents=args.agents, duration_hours=6, start=START + timedelta(days=day)
            )
        )
        for n in (1, 2, 3):
            part = nxt.deliveries[(n - 1) * args.cycle : n * args.cycle]
            write(part, tmp / f"cycle{history}-{n}")
            land(settings, tmp / f"cycle{history}-{n}")
            t0 = time.perf_counter()
            result = transform(settings, dsn, tests=False, only_changed=True)
            cycle = time.perf_counter() - t0
            print(
                f"[{history:,}] cycle {n} with {len(part):,} new events on top: {cycle:.1f} s"
                f" (freshness {result.freshness_seconds:.1f} s, {len(result.nodes)} nodes;"
                f" {aggregates_share(result)}); {issue_14_share(result)}; slowest: {slowest(result)}",
                flush=True,
            )
        t0 = time.perf_counter()
        result = transform(settings, dsn, tests=False, only_changed=True)
        idle = time.perf_counter() - t0
        print(
            f"[{history:,}] idle cycle (nothing new): {idle:.1f} s"
            f" (freshness {result.freshness_seconds:.1f} s, {len(result.nodes)} nodes)",
            flush=True,
        )
        if args.aggregates_every:
            # the aggregates the cycles above left pending, built by the next due cycle (no new events)
            time.sleep(1.1)
            due = settings.model_copy(update={"aggregates_every_seconds": 1})
            t0 = time.perf_counter()
            result = transform(due, dsn, tests=False, only_changed=True)
            print(
                f"[{history:,}] aggregates catch-up cycle (no new events): {time.perf_counter() - t0:.1f} s"
                f" ({len(result.nodes)} nodes; {aggregates_share(result)}; {issue_14_share(result)});"
                f" slowest: {slowest(result)}",
                flush=True,
            )
        print(
            f"[{history:,}] peak RSS of this process (simulator + dbt): {peak_rss_mb():,.0f} MB",
            flush=True,
        )
    finally:
        broker_proc.terminate()
        broker_proc.wait(10)
        if args.keep:
            print(f"[{history:,}] kept running: psql '{dsn}'", flush=True)
        else:
            embedded.stop_embedded_postgres(tmp / f"h{history}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--history", default="1000000", help="comma-separated history sizes (events)")
    p.add_argument("--cycle", type=int, default=10_000, help="new events per measured cycle")
    p.add_argument("--agents", type=int, default=100)
    p.add_argument(
        "--aggregates-every",
        type=int,
        default=0,
        help="INFOMART_AGGREGATES_EVERY_SECONDS of the cycles (0: the aggregates in every cycle); above 0"
        " the three cycles build the facts only, and a catch-up cycle then builds the aggregates",
    )
    p.add_argument(
        "--facts-only",
        action="store_true",
        help="time only a full refresh of the facts and dimensions (no aggregates, no reports), the"
        " scope of the figures measured before the aggregates existed; no cycles",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="leave the last database running (to inspect plans); prints its DSN",
    )
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="imtbench-", dir="/tmp"))
    try:
        for history in [int(x) for x in args.history.split(",")]:
            measure(history, args, tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
