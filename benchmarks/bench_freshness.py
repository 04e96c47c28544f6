"""Freshness benchmark (on demand):
``python benchmarks/bench_freshness.py --rate 2000 --minutes 10 --clients kafka-python,confluent``.

For each ingest client: an embedded PostgreSQL and a tansu broker on loopback, `infomart run` as
its own process (cycles back to back, `INFOMART_CYCLE_SECONDS=0`), and, once its first cycle is
done, a steady load published at ``--rate`` events/s for ``--minutes``: a simulated voice center
(short calls, one every ~10 ms at the default rate) whose event times are shifted to the moment
each event is published, so that event time and wall time agree as in production.

While it runs, every half second the benchmark reads the Info Mart:

* event-to-fact latency of a call thread: from the publication of its last event to the poll
  that first sees its INTERACTION_FACT row completed (END_TS set) with its IRF rows;
* event-to-aggregate latency: from the same publication to the poll that first sees
  ag2_queue_subhr built (ctl.ctl_model_build) by the transform run that completed the thread's
  fact, or a later one (the aggregates are built in the same dbt run as the facts);
* the run's metrics endpoint: `infomart_records_lag_max` (ingest lag) and
  `infomart_facts_newest_event_timestamp_seconds`, checked against the benchmark's own view (the
  newest end of a completed call it has seen must not be newer than the metric, and the metric
  not newer than the newest event published).

Prints p50/p95/p99 of both latencies (threads that ended after ``--warmup`` seconds), the cycle
durations (ingest and transform job runs of ctl.ctl_etl_history), the lag, the run process's peak
memory, and the slowest models of the last cycle (dbt's run_results.json).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infomart import embedded  # noqa: E402
from infomart.settings import Settings  # noqa: E402
from ingest.kafka_client import make_producer  # noqa: E402
from simulator import SimulationConfig, simulate  # noqa: E402

SIM_START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TAIL_SECONDS = 120.0
EVENTS_PER_CALL = 16  # about, for the short calls below (measured: printed as the rate reached)


def load(rate: int, minutes: float, seed: int) -> list[tuple[float, str, str, dict]]:
    """(seconds from the start, topic, key, event) of a voice center at about ``rate`` events/s."""
    calls_per_s = rate / EVENTS_PER_CALL
    talk, acw = 20.0, 5.0
    agents = max(20, int(calls_per_s * (talk + acw + 10) / 0.7))
    config = SimulationConfig(
        seed=seed,
        start=SIM_START,
        duration_hours=minutes / 60,
        agents=agents,
        shift_hours=max(1.0, minutes / 60 + 0.5),
        calls_per_hour=calls_per_s * 3600,
        talk_mean_s=talk,
        acw_mean_s=acw,
        ring_mean_s=2.0,
        ivr_mean_s=10.0,
        hold_mean_s=5.0,
        patience_mean_s=60.0,
        digital_agent_share=0.0,
        chats_per_hour=0.0,
        emails_per_hour=0.0,
        outbound_agent_share=0.0,
        campaigns=(),
        internal_calls_per_hour=0.0,
        manual_outbound_per_hour=0.0,
        relogin_share=0.0,
        relogin_without_logout_share=0.0,
    )
    out = []
    for d in simulate(config).deliveries:
        event = orjson.loads(d.value)
        when = datetime.fromisoformat(event["ts"]).replace(tzinfo=UTC) if "ts" in event else SIM_START
        out.append(((when - SIM_START).total_seconds(), d.topic, d.key, event))
    out.sort(key=lambda x: x[0])
    # the calls in progress at the horizon end within two minutes, but for a few stragglers
    return [e for e in out if e[0] <= minutes * 60 + TAIL_SECONDS]


@dataclass
class Observed:
    last_published: dict[str, float] = field(default_factory=dict)  # thread -> wall time
    newest_published_ts: float = 0.0
    thread_of_call: dict[str, str] = field(default_factory=dict)
    fact_seen: dict[str, tuple[float, int]] = field(default_factory=dict)  # thread -> (time, audit key)
    aggregate_seen: dict[int, float] = field(default_factory=dict)  # audit key -> time first seen built
    lag: list[int] = field(default_factory=list)
    # (poll time, newest call end seen in the facts so far, the metric, newest event time published)
    metric_checks: list[tuple[float, float, float, float]] = field(default_factory=list)
    done: bool = False


def publisher(settings: Settings, events: list, observed: Observed, start_wall: float) -> None:
    producer = make_producer(settings, settings.kafka_bootstrap_servers, client="confluent")  # type: ignore[arg-type]
    names = settings.topics.by_logical()
    producer.create_topics(sorted(names.values()), 4)
    for offset, topic, key, event in events:
        wait = start_wall + offset - time.time()
        if wait > 0:
            time.sleep(wait)
        when = datetime.fromtimestamp(start_wall + offset, UTC)
        event["ts"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        producer.send(names[topic], key.encode(), orjson.dumps(event))
        if topic == "voice-callthread":
            call = event.get("call_id")
            if event.get("type") == "CallCreated":
                observed.thread_of_call[call] = event.get("thread_id") or call
            thread = observed.thread_of_call.get(call, call)
            observed.last_published[thread] = time.time()
        observed.newest_published_ts = start_wall + offset
    producer.flush()
    producer.close()


def metric(text: str, name: str) -> float | None:
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def poller(dsn: str, metrics_url: str, observed: Observed) -> None:
    pending_irf: dict[str, int] = {}
    watermark = 0
    newest_end = 0.0
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not observed.done:
            time.sleep(0.5)
            now = time.time()
            try:
                rows = conn.execute(
                    "select media_server_root_ixn_id, update_audit_key, extract(epoch from end_ts)"
                    " from infomart.interaction_fact where end_ts is not null"
                    " and (update_audit_key > %s or media_server_root_ixn_id = any(%s))",
                    (watermark, list(pending_irf)),
                ).fetchall()
                with_irf = {
                    r[0]
                    for r in conn.execute(
                        "select distinct media_server_root_ixn_id from infomart.interaction_resource_fact"
                        " where media_server_root_ixn_id = any(%s)",
                        ([r[0] for r in rows],),
                    )
                }
                built = conn.execute(
                    "select max(audit_key) from ctl.ctl_model_build where model_name = 'ag2_queue_subhr'"
                ).fetchone()
            except psycopg.errors.UndefinedTable:
                continue
            for root, key, end in rows:
                watermark = max(watermark, key)
                if root in observed.fact_seen:
                    continue
                if root in with_irf:
                    observed.fact_seen[root] = (now, key)
                    pending_irf.pop(root, None)
                    newest_end = max(newest_end, float(end))
                else:
                    pending_irf[root] = key
            if built and built[0] is not None and built[0] not in observed.aggregate_seen:
                observed.aggregate_seen[built[0]] = now
            try:
                text = urllib.request.urlopen(metrics_url, timeout=2).read().decode()
            except OSError:
                continue
            lag = metric(text, "infomart_records_lag_max")
            if lag is not None:
                observed.lag.append(int(lag))
            newest = metric(text, "infomart_facts_newest_event_timestamp_seconds")
            if newest and newest_end:
                observed.metric_checks.append((now, newest_end, newest, observed.newest_published_ts))


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    q = statistics.quantiles(values, n=100)
    top = max(values)
    return f"p50 {q[49]:.1f} s, p95 {q[94]:.1f} s, p99 {q[98]:.1f} s, max {top:.1f} s (n={len(values):,})"


def peak_rss_mb(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    m = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(m.group(1)) / 1024 if m else float("nan")


def run_one(client: str, events: list, args: argparse.Namespace) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="imtfresh-", dir="/tmp"))
    dsn = embedded.start_embedded_postgres(tmp / "pg", "fresh")
    broker_proc, broker = embedded.start_tansu(log_file=tmp / "tansu.log")
    port = embedded.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "INFOMART_"))}
    env |= {
        "INFOMART_PG_DSN": dsn,
        "INFOMART_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "INFOMART_HOME": str(tmp / "home"),
        "INFOMART_KAFKA_CLIENT": client,
        "INFOMART_CYCLE_SECONDS": "0",
        "INFOMART_METRICS_PORT": str(port),
        "INFOMART_EXPORT_SCHEDULE": "",
        "INFOMART_MAINTAIN_SCHEDULE": "",
    }
    settings = Settings(
        pg_dsn=dsn, kafka_bootstrap_servers=broker.bootstrap, home=tmp / "home", metrics_port=0
    )
    log = open(tmp / "run.log", "wb")  # noqa: SIM115
    run = subprocess.Popen([str(ROOT / ".venv/bin/infomart"), "run"], env=env, stdout=log, stderr=log)
    observed = Observed()
    try:
        producer = make_producer(settings, broker.bootstrap, client="confluent")
        producer.create_topics(sorted(settings.topics.by_logical().values()), 4)
        producer.close()
        deadline = time.monotonic() + 300
        with psycopg.connect(dsn, autocommit=True) as conn:  # the first (whole) build done
            while time.monotonic() < deadline and run.poll() is None:
                try:
                    row = conn.execute(
                        "select count(*) from ctl.ctl_etl_history where job_name = 'transform'"
                        " and status = 'succeeded'"
                    ).fetchone()
                    if row and row[0] > 0:
                        break
                except psycopg.errors.UndefinedTable:
                    pass
                time.sleep(1)
        print(f"[{client}] first cycle done; publishing {len(events):,} events", flush=True)
        start_wall = time.time() + 2
        poll = threading.Thread(target=poller, args=(dsn, f"http://127.0.0.1:{port}/metrics", observed))
        poll.start()
        publisher(settings, events, observed, start_wall)
        published_at = time.time()
        while (
            time.time() - published_at < 60 and len(observed.fact_seen) < len(observed.last_published) * 0.99
        ):
            time.sleep(1)
        observed.done = True
        poll.join()
        memory = peak_rss_mb(run.pid)

        warm = start_wall + args.warmup
        fact_lat, agg_lat = [], []
        aggregate_times = sorted(observed.aggregate_seen.items())
        for thread, (seen, key) in observed.fact_seen.items():
            pub = observed.last_published.get(thread)
            if pub is None or pub < warm:
                continue
            fact_lat.append(seen - pub)
            later = [t for k, t in aggregate_times if k >= key]
            if later:
                agg_lat.append(min(later) - pub)
        with psycopg.connect(dsn) as conn:
            cycles = conn.execute(
                "select job_name, extract(epoch from ended_at - started_at) from ctl.ctl_etl_history"
                " where started_at >= to_timestamp(%s) and status = 'succeeded' order by started_at",
                (warm,),
            ).fetchall()
        durations = {job: [float(s) for j, s in cycles if j == job] for job in ("ingest", "transform")}
        # the metric is set when a build ends, its facts are visible as each model commits: it may
        # trail the facts by one build, never lead them, and never name an event not yet published
        slowest_build = max(durations["transform"] or [0.0])
        ahead = [c for c in observed.metric_checks if c[2] > c[3] + 1]
        stale = [c for c in observed.metric_checks if c[2] < c[1] - slowest_build - 1]
        metric_age = [c[0] - c[2] for c in observed.metric_checks if c[0] >= warm]
        own_age = [c[0] - c[1] for c in observed.metric_checks if c[0] >= warm]
        horizon = args.minutes * 60
        rate = sum(1 for e in events if e[0] <= horizon) / horizon
        print(
            f"[{client}] load: {len(events):,} events, {rate:,.0f} events/s over the {horizon:.0f} s of"
            f" arrivals (the last calls end {events[-1][0] - horizon:.0f} s after)"
        )
        print(f"[{client}] event-to-fact:       {percentiles(fact_lat)}")
        print(f"[{client}] event-to-aggregate:  {percentiles(agg_lat)}")
        for job, values in durations.items():
            print(f"[{client}] {job} job runs:       {percentiles(values)}")
        print(
            f"[{client}] ingest lag (records_lag_max): median {statistics.median(observed.lag or [0]):,.0f},"
            f" max {max(observed.lag or [0]):,}"
        )
        print(
            f"[{client}] freshness metric: {len(observed.metric_checks)} scrapes; {len(ahead)} ahead of the"
            f" newest event published, {len(stale)} behind the newest call end seen in the facts by more"
            f" than the slowest build ({slowest_build:.1f} s); age time()-metric {percentiles(metric_age)};"
            f" age of the newest call end seen {percentiles(own_age)}"
        )
        print(f"[{client}] peak memory of `infomart run`: {memory:,.0f} MB")
        print(
            f"[{client}] threads seen completed: {len(observed.fact_seen):,} of"
            f" {len(observed.last_published):,} published"
        )
        slow = [line.strip() for line in (tmp / "run.log").read_text().splitlines() if "slowest:" in line]
        for line in slow[-3:]:
            print(f"[{client}] a cycle's {line}")
        results = tmp / "home" / "dbt-target" / "run_results.json"
        if results.exists():
            timings = sorted(
                (
                    (r["unique_id"].split(".")[-1], r["execution_time"])
                    for r in json.loads(results.read_text())["results"]
                ),
                key=lambda x: -x[1],
            )
            print(
                f"[{client}] slowest models of the last cycle: "
                + ", ".join(f"{n} {t:.2f}s" for n, t in timings[:8])
            )
        return {"fact": fact_lat, "aggregate": agg_lat}
    finally:
        observed.done = True
        run.send_signal(signal.SIGTERM)
        try:
            run.wait(60)
        except subprocess.TimeoutExpired:
            run.kill()
        log.close()
        broker_proc.terminate()
        broker_proc.wait(10)
        embedded.stop_embedded_postgres(tmp / "pg")
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=int, default=2000, help="events per second (default 2,000)")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--clients", default="kafka-python,confluent")
    p.add_argument("--warmup", type=float, default=60.0, help="seconds of load not measured")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    started = time.monotonic()
    events = load(args.rate, args.minutes, args.seed)
    print(f"simulated {len(events):,} events in {time.monotonic() - started:.0f} s", flush=True)
    for client in args.clients.split(","):
        run_one(client, [(o, t, k, dict(e)) for o, t, k, e in events], args)


if __name__ == "__main__":
    main()
