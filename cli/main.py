"""The ``infomart`` command line.

Exit codes: 0 done; 1 the pipeline failed (the message says where); 2 bad settings or usage.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cli.common import fail, settings_or_exit
from cli.config import config_adapter, config_db_app
from cli.gdpr import gdpr_app
from cli.roles import connect_as, roles_app
from cli.serve import docs, serve
from cli.simulator_options import with_simulator_options
from infomart import embedded, metrics
from infomart.retry import backoff_seconds, wait_for
from infomart.settings import LOGICAL_TOPICS, Settings
from pipeline.cycle import CycleReport, run_cycles, stop_on_signals
from pipeline.schedule import ScheduledJob, Scheduler
from pipeline.transform import TransformError, TransformResult, transform

app = typer.Typer(
    help="Open contact-center Info Mart: events in, PostgreSQL facts out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # a traceback's locals would show DSNs and passwords
)
ingest_app = typer.Typer(help="Land events in the raw tables.", no_args_is_help=True)
embedded_app = typer.Typer(help="The embedded PostgreSQL and broker.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(embedded_app, name="embedded")
app.add_typer(config_db_app, name="config-db")
app.add_typer(gdpr_app, name="gdpr")
app.add_typer(roles_app, name="roles")
app.command("config-adapter")(config_adapter)
app.command("serve")(serve)
app.command("docs")(docs)

console = Console(stderr=True)
out = Console()
log = logging.getLogger("infomart")


# ------------------------------------------------------------------ helpers
def _dsn(settings: Settings, wait: bool = False) -> str:
    """The PostgreSQL DSN, checked; with `wait` (services) retried for INFOMART_STARTUP_WAIT_SECONDS."""

    def connect() -> str:
        dsn = embedded.resolve_pg_dsn(settings)
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.execute("select 1")
        return dsn

    seconds = settings.startup_wait_seconds if wait and not settings.embedded_pg else 0
    try:
        return wait_for("PostgreSQL", connect, seconds, retry_on=(psycopg.OperationalError,))
    except Exception as exc:
        where = "the embedded PostgreSQL" if settings.embedded_pg else "INFOMART_PG_DSN"
        raise fail(f"cannot connect to PostgreSQL ({where}): {exc}") from None


def _bootstrap(settings: Settings) -> str:
    try:
        return embedded.resolve_bootstrap(settings)
    except Exception as exc:
        raise fail(f"cannot start the embedded Kafka-compatible broker: {exc}") from None


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens in detail.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    for noisy in ("kafka", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)


# ------------------------------------------------------------------ simulate
def _simulation(cfg, progress: Progress):  # type: ignore[no-untyped-def]
    from simulator import simulate

    task = progress.add_task("simulating", total=100, info="")

    def on_progress(done_ms: int, total_ms: int) -> None:
        progress.update(task, completed=int(100 * done_ms / max(total_ms, 1)))

    started = time.perf_counter()
    result = simulate(cfg, progress=on_progress)
    seconds = time.perf_counter() - started
    n = len(result.deliveries)
    progress.update(task, completed=100, info=f"{n:,} events in {seconds:.1f} s ({n / seconds:,.0f}/s)")
    return result


OUTPUT = "Output"


@app.command()
@with_simulator_options
def simulate(
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Write NDJSON archives (and the ledger) here.", rich_help_panel=OUTPUT),
    ] = None,
    to_kafka: Annotated[
        bool,
        typer.Option("--to-kafka", help="Publish to Kafka (configured or embedded).", rich_help_panel=OUTPUT),
    ] = False,
    gzip: Annotated[
        bool, typer.Option("--gzip", help="Compress the archives.", rich_help_panel=OUTPUT)
    ] = False,
    configure: Annotated[
        bool,
        typer.Option(
            "--configure/--no-configure",
            help="Write the simulated configuration into the Configuration Database and publish it "
            "on gca-cfg with the config adapter.",
            rich_help_panel=OUTPUT,
        ),
    ] = True,
    simulation: dict[str, object] | None = None,
) -> None:
    """Simulate a contact center: events to NDJSON archives and/or Kafka, the ground-truth ledger, and
    its configuration through the Configuration Database and the config adapter (gca-cfg).

    Every setting of the simulator (SimulationConfig) is an option; those not given keep the
    simulator's defaults."""
    from simulator import SimulationConfig

    if out_dir is None and not to_kafka:
        raise fail("say where the events go: --out DIR and/or --to-kafka", 2)
    settings = settings_or_exit()
    try:
        cfg = SimulationConfig(**{**(simulation or {}), "tenant": settings.tenant})  # type: ignore[arg-type]
    except ValueError as exc:
        raise fail(f"simulator settings: {exc}", 2) from None
    with _progress() as progress:
        result = _simulation(cfg, progress)
        if out_dir is not None:
            from simulator import write_ndjson

            write_ndjson(result, out_dir, gzip=gzip)
        fed = _feed_config(settings, result.config_changes, progress) if configure else None
        if to_kafka:
            _publish(settings, result.deliveries, progress)
    _print_counts("events simulated", _count_by_topic(result.deliveries))
    if out_dir is not None:
        out.print(f"archives and ledger written to [bold]{out_dir}[/bold]")
    if fed is not None:
        _print_feed(fed)
        if not to_kafka:
            out.print(
                f"(land the configuration with `infomart ingest kafka`: it is on {settings.topics.gca_cfg})"
            )


def _feed_config(settings: Settings, changes, progress: Progress):  # type: ignore[no-untyped-def]
    """The simulated configuration: Configuration Database -> config adapter -> gca-cfg."""
    from infomart.objectstore import make_object_store
    from ingest.config.adapter import AdapterError
    from ingest.config.database import ConfigDbError, prepare_config_db
    from ingest.config.feed import feed_configuration

    task = progress.add_task(
        "configuration -> Configuration Database -> gca-cfg", total=len(changes), info=""
    )

    def on_progress(stats) -> None:  # type: ignore[no-untyped-def]
        progress.update(
            task, completed=stats.written.changes, info=f"{stats.published:,} published on gca-cfg"
        )

    try:
        config_dsn = prepare_config_db(settings)
        bootstrap = _bootstrap(settings)
        fed = feed_configuration(
            settings, config_dsn, bootstrap, changes, make_object_store(settings), on_progress
        )
    except (AdapterError, ConfigDbError) as exc:
        raise fail(f"configuration: {exc}") from None
    except psycopg.Error as exc:
        raise fail(f"configuration: the Configuration Database: {str(exc).strip()}") from None
    progress.update(task, completed=len(changes), info=f"{fed.published:,} published on gca-cfg")
    return fed


def _print_feed(fed) -> None:  # type: ignore[no-untyped-def]
    w = fed.written
    out.print(
        f"configuration: {w.changes:,} simulated changes, {w.logged_objects:,} objects changed in the "
        f"Configuration Database, {fed.published:,} events published on gca-cfg by the config adapter "
        f"(config_version {fed.config_version})"
    )
    if w.outdated:
        out.print(
            f"[yellow]{w.outdated:,} changes not applied[/yellow]: older than their object's last change "
            "in the Configuration Database"
        )


def _count_by_topic(deliveries) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from simulator import TOPICS  # the simulator's topics (gca-cfg is the config adapter's)

    counts: dict[str, int] = dict.fromkeys(TOPICS, 0)
    for d in deliveries:
        counts[d.topic] += 1
    return counts


def _publish(settings: Settings, deliveries, progress: Progress) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from cli.publish import publish
    from ingest.kafka_client import make_producer

    bootstrap = _bootstrap(settings)
    task = progress.add_task("publishing to Kafka", total=len(deliveries), info=bootstrap)
    producer = make_producer(settings, bootstrap, client="confluent")
    try:
        return publish(
            deliveries, producer, settings.topics.by_logical(), progress=lambda n: progress.advance(task, n)
        )
    finally:
        producer.close()


def _print_counts(title: str, counts: dict[str, int]) -> None:
    table = Table(title=title)
    table.add_column("topic")
    table.add_column("events", justify="right")
    for topic, n in counts.items():
        table.add_row(topic, f"{n:,}")
    table.add_row("[bold]total", f"[bold]{sum(counts.values()):,}")
    out.print(table)


# ------------------------------------------------------------------ ingest
def _kafka_ingester(settings: Settings, dsn: str, wait: bool):  # type: ignore[no-untyped-def]
    """A Kafka ingester; with `wait` (services) its connections are retried at start."""
    from kafka.errors import KafkaError

    from ingest.kafka_ingester import KafkaIngester

    bootstrap = _bootstrap(settings)
    seconds = settings.startup_wait_seconds if wait and settings.kafka_bootstrap_servers else 0
    return wait_for(
        f"the Kafka broker {bootstrap}",
        lambda: KafkaIngester(settings, dsn, bootstrap),
        seconds,
        retry_on=(KafkaError, psycopg.OperationalError),
    )


def _ingest_kafka(settings: Settings, dsn: str, follow: bool, progress: Progress):  # type: ignore[no-untyped-def]
    ingester = _kafka_ingester(settings, dsn, wait=follow)
    task = progress.add_task("ingesting from Kafka", total=None, info="")

    def on_progress(stats, remaining: int | None) -> None:  # type: ignore[no-untyped-def]
        left = f", {remaining:,} left" if remaining is not None else ""
        progress.update(task, completed=stats.total, info=f"{stats.rejects:,} rejected{left}")

    _stop_on_signals(ingester.stop)
    try:
        stats = _follow(settings, ingester, on_progress) if follow else ingester.run(progress=on_progress)
    finally:
        ingester.close()
    progress.update(task, total=stats.total, completed=stats.total)
    return stats


def _follow(settings: Settings, ingester, on_progress):  # type: ignore[no-untyped-def]
    """Consume until stopped; an outage (PostgreSQL, the broker) is reported and retried with
    back-off, the ingester resuming at the offsets stored with the rows."""
    from ingest.kafka_ingester import IngestStats

    failures, total = 0, IngestStats()
    while not ingester.stop.is_set():
        try:
            stats = ingester.run(until_drained=False, progress=on_progress)
        except Exception as exc:
            failures += 1
            pause = backoff_seconds(failures, settings.outage_retry_max_seconds)
            metrics.GIM_SERVER_STATE.set(-min(failures, 3))
            console.print(f"[red]ingest failed[/red] ({failures} in a row): {exc}; retrying in {pause:.0f} s")
            ingester.stop.wait(pause)
            continue
        for topic, n in stats.events.items():
            total.events[topic] = total.events.get(topic, 0) + n
        total.rejects += stats.rejects
    return total


def _stop_on_signals(event: threading.Event) -> None:
    stop_on_signals(event, lambda: console.print("stopping after the current batch ..."))


@ingest_app.command("kafka")
def ingest_kafka(
    follow: Annotated[
        bool,
        typer.Option("--follow/--until-drained", help="Keep consuming, or stop when the topics are drained."),
    ] = False,
) -> None:
    """Consume the six topics into the raw tables (offsets stored in PostgreSQL)."""
    settings = settings_or_exit()
    dsn = connect_as(settings, _dsn(settings, wait=follow), "ingest")
    with _progress() as progress:
        stats = _ingest_kafka(settings, dsn, follow, progress)
    _print_counts("events landed from Kafka", {t: stats.events.get(t, 0) for t in LOGICAL_TOPICS})
    if stats.rejects:
        out.print(f"[yellow]{stats.rejects:,} messages rejected[/yellow]: see raw.rejects")


@ingest_app.command("archive")
def ingest_archive(
    paths: Annotated[
        list[Path], typer.Argument(help="NDJSON files or folders (.ndjson, .jsonl, optionally .gz).")
    ],
    topic: Annotated[
        str | None, typer.Option(help="Topic of every file given (default: from the file name).")
    ] = None,
) -> None:
    """Replay NDJSON archives into the raw tables; re-running the same files adds nothing."""
    from ingest.archive_ingester import ArchiveError, ArchiveIngester, find_archives

    settings = settings_or_exit()
    skipped: list[Path] = []
    try:
        archives = find_archives(paths, settings, topic, skipped)
    except ArchiveError as exc:
        raise fail(str(exc), 2) from None
    dsn = connect_as(settings, _dsn(settings), "ingest")
    ingester = ArchiveIngester(settings, dsn)
    total = sum(a.size for a in archives)
    with _progress() as progress:
        task = progress.add_task("replaying archives", total=total, info="")
        base = {"bytes": 0}
        current = {"file": None}

        def on_progress(af, done_bytes, stats) -> None:  # type: ignore[no-untyped-def]
            if current["file"] is not af:
                if current["file"] is not None:
                    base["bytes"] += current["file"].size
                current["file"] = af
            progress.update(
                task,
                completed=min(total, base["bytes"] + done_bytes),
                info=f"{af.path.name}: {stats.total:,} events, {stats.rejects:,} rejected",
            )

        try:
            stats = ingester.ingest(archives, progress=on_progress)
        except ArchiveError as exc:
            raise fail(str(exc)) from None
        finally:
            ingester.close()
        progress.update(task, completed=total)
    _print_counts("events landed from archives", {t: stats.events.get(t, 0) for t in LOGICAL_TOPICS})
    if stats.skipped_files:
        out.print(f"{stats.skipped_files} file(s) already ingested earlier: skipped")
    if skipped:
        names = ", ".join(str(p) for p in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
        out.print(f"[yellow]{len(skipped)} file(s) left out: no topic in their name[/yellow]: {names}")
    if stats.rejects:
        out.print(f"[yellow]{stats.rejects:,} lines rejected[/yellow]: see raw.rejects")


# ------------------------------------------------------------------ transform
def _transform(
    settings: Settings, dsn: str, full_refresh: bool, tests: bool, dbt_log: bool, progress: Progress
):  # type: ignore[no-untyped-def]
    task = progress.add_task("transforming (dbt)", total=None, info="")
    counts = {"ok": 0, "failed": 0}

    def on_node(name: str, status: str) -> None:
        counts["failed" if status in {"error", "fail"} else "ok"] += 1
        progress.update(task, completed=counts["ok"] + counts["failed"], info=f"{name}: {status}")

    result = transform(
        settings, dsn, full_refresh=full_refresh, tests=tests, on_node=on_node, quiet=not dbt_log
    )
    done = len(result.nodes)
    progress.update(task, total=done, completed=done, info=f"{done} nodes in {result.seconds:.1f} s")
    return result


@app.command("transform")
def transform_cmd(
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild every model from raw.")
    ] = False,
    tests: Annotated[bool, typer.Option("--tests/--no-tests", help="Run the dbt data tests too.")] = True,
    dbt_log: Annotated[bool, typer.Option("--dbt-log", help="Show dbt's own log.")] = False,
) -> None:
    """Run dbt: staging -> intermediate -> marts -> aggregates (and the data tests)."""
    settings = settings_or_exit()
    dsn = connect_as(settings, _dsn(settings), "transform")
    try:
        with _progress() as progress:
            _transform(settings, dsn, full_refresh, tests, dbt_log, progress)
    except TransformError as exc:
        raise fail(str(exc)) from None
    _print_models(dsn)


def _print_models(dsn: str) -> None:
    table = Table(title="models built (staging, and the Info Mart's facts and dimensions)")
    table.add_column("model")
    table.add_column("rows", justify="right")
    with psycopg.connect(dsn) as conn:
        names = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('staging', 'infomart') order by 1 desc, 2"
        ).fetchall()
        for schema, name in names:
            n = conn.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]  # type: ignore[index]
            table.add_row(f"{schema}.{name}", f"{n:,}")
    out.print(table)


# ------------------------------------------------------------------ run (continuous)
@app.command()
def run(
    cycles: Annotated[int, typer.Option(help="Stop after this many cycles (0: run until stopped).")] = 0,
    tests: Annotated[
        bool, typer.Option("--tests/--no-tests", help="Run the dbt data tests every cycle.")
    ] = False,
) -> None:
    """Run continuously: ingest what Kafka has, transform, wait, repeat. Serves Prometheus metrics."""
    from prometheus_client import start_http_server

    settings = settings_or_exit()
    dsn = _dsn(settings, wait=True)
    if settings.metrics_port:
        metrics.publish_version()
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
        console.print(f"metrics on http://{settings.metrics_host}:{settings.metrics_port}/metrics")
    ingester = _kafka_ingester(settings, connect_as(settings, dsn, "ingest"), wait=True)
    _stop_on_signals(ingester.stop)
    try:
        transform_dsn = connect_as(settings, dsn, "transform")
        scheduler = _scheduler(settings, dsn, transform_dsn)
        run_cycles(
            settings,
            transform_dsn,
            ingester,
            cycles=cycles,
            tests=tests,
            on_cycle=_print_cycle,
            scheduler=scheduler,
        )
    finally:
        ingester.close()


def _scheduler(settings: Settings, dsn: str, transform_dsn: str) -> Scheduler:
    """The cron-scheduled jobs of `infomart run`: the export (INFOMART_EXPORT_SCHEDULE) and the
    maintenance (INFOMART_MAINTAIN_SCHEDULE), run one after the other after a cycle."""
    from export.job import run_export
    from infomart.objectstore import make_object_store

    jobs = []
    if settings.export_schedule:
        reader = connect_as(settings, dsn, "export")
        store = make_object_store(settings)
        jobs.append(
            ScheduledJob(
                "export",
                settings.export_schedule,
                lambda: run_export(settings, transform_dsn, reader, store),
                time_zone=settings.reporting_time_zone,
            )
        )
    if settings.maintain_schedule:
        from pipeline.maintain import maintain

        jobs.append(
            ScheduledJob(
                "maintenance",
                settings.maintain_schedule,
                lambda: maintain(settings, transform_dsn),
                time_zone=settings.reporting_time_zone,
            )
        )
    return Scheduler(jobs)


def _print_cycle(report: CycleReport) -> None:
    n, stats, result = report.number, report.landed, report.result
    if result is None or stats is None:
        console.print(
            f"[red]cycle {n}: {report.failed_step} failed[/red] ({report.failures_in_a_row} in a row):"
            f" {report.error}; next cycle in {report.next_in_seconds:.0f} s",
            soft_wrap=True,
        )
        return
    console.print(
        f"cycle {n}: {stats.total:,} events landed, {stats.rejects:,} rejected, "
        f"{_built(result)}, {len(result.nodes)} dbt nodes in {result.seconds:.1f} s "
        f"(freshness {result.freshness_seconds:.1f} s, cycle {report.seconds:.1f} s)",
        soft_wrap=True,
    )
    console.print(f"    {_freshness_line(result)}", soft_wrap=True)
    slowest = sorted((n for n in result.nodes if n.seconds), key=lambda n: -n.seconds)[:6]
    if slowest:
        console.print(
            "    slowest: " + ", ".join(f"{n.name} {n.seconds:.1f} s" for n in slowest), soft_wrap=True
        )


def _built(result: TransformResult) -> str:
    if result.built_sources is None:
        return "built everything"
    if not result.built_sources:
        return "no new rows: nothing to build"
    return f"new rows in {', '.join(result.built_sources)}"


def _freshness_line(result: TransformResult) -> str:
    """Each source's latest landed_at (dbt source freshness), as of this cycle."""
    parts = []
    for name, source in sorted(result.sources.items()):
        if source.max_loaded_at is None:
            parts.append(f"{name} {'empty' if source.status != 'runtime error' else 'not measured'}")
        else:
            parts.append(f"{name} {source.max_loaded_at:%Y-%m-%d %H:%M:%S} ({source.status})")
    return "sources: " + ("; ".join(parts) or "not measured")


# ------------------------------------------------------------------ demo
@app.command()
def demo(
    hours: Annotated[float, typer.Option(help="Simulated hours.")] = 3.0,
    agents: Annotated[int, typer.Option(help="Agents.")] = 15,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    config_changes: Annotated[
        bool,
        typer.Option(
            "--config-changes",
            help="Configuration changes during the run (new agent, group move, ...) and per-queue"
            " thresholds, one of them changed mid-run.",
        ),
    ] = False,
    serve_reports: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then generate the schema reference and serve the reports (as `infomart serve`) until"
            " stopped with Ctrl-C.",
        ),
    ] = False,
) -> None:
    """Start the embedded services, simulate a small contact center, configure it through the
    Configuration Database and the config adapter, ingest, transform, report."""
    settings = settings_or_exit()
    started = time.monotonic()
    console.print("[bold]1/5[/bold] starting services")
    dsn = _dsn(settings)
    bootstrap = _bootstrap(settings)
    console.print(f"    PostgreSQL: {_describe_dsn(dsn)}\n    Kafka: {bootstrap}")
    try:
        with _progress() as progress:
            console.print(f"[bold]2/5[/bold] simulating {hours:g} h with {agents} agents")
            from simulator import SimulationConfig

            cfg = SimulationConfig(
                seed=seed,
                tenant=settings.tenant,
                duration_hours=hours,
                agents=agents,
                config_changes=config_changes,
                queue_thresholds=config_changes,
            )
            result = _simulation(cfg, progress)
            console.print(
                "[bold]3/5[/bold] configuration: into the Configuration Database, "
                "published on gca-cfg by the config adapter"
            )
            fed = _feed_config(settings, result.config_changes, progress)
            console.print("[bold]4/5[/bold] publishing the events to Kafka, ingesting until drained")
            _publish(settings, result.deliveries, progress)
            stats = _ingest_kafka(settings, connect_as(settings, dsn, "ingest"), False, progress)
            console.print("[bold]5/5[/bold] transforming with dbt (models and data tests)")
            _transform(settings, connect_as(settings, dsn, "transform"), False, True, False, progress)
    except TransformError as exc:
        raise fail(str(exc)) from None
    _print_counts("events landed in raw", {t: stats.events.get(t, 0) for t in LOGICAL_TOPICS})
    _print_models(dsn)
    _print_feed(fed)
    _print_queue_summary(dsn)
    out.print(f"rejected: {stats.rejects:,} (raw.rejects)")
    out.print(f"database: [bold]{_describe_dsn(dsn)}[/bold]")
    if settings.embedded_pg:
        host = dsn.split("host=")[-1]
        out.print(f"    psql -h {host} -U postgres {embedded.tenant_database(settings.tenant)}")
        if not settings.config_db_dsn:
            from ingest.config.database import config_db_name

            out.print(
                f"    Configuration Database: psql -h {host} -U postgres {config_db_name(settings.tenant)}"
            )
        out.print("    (stop the embedded services with: infomart embedded stop)")
    out.print(f"demo finished in {time.monotonic() - started:.0f} s")
    url = f"http://{settings.serve_host}:{settings.serve_port}/"
    if not serve_reports:
        out.print(
            f"reports: [bold]infomart docs && infomart serve[/bold], then open {url}"
            " (or run the demo with --serve)"
        )
        return
    docs()
    serve(host=None, port=None)


QUEUE_SUMMARY = """
select r.resource_name, sum(q.entered), sum(q.accepted), sum(q.abandoned),
       sum(q.accepted_thr)::float
       / nullif(sum(q.accepted + q.abandoned + q.abandoned_invite - q.abandoned_short), 0)
from infomart.ag2_queue_day q join infomart.resource_ r using (resource_key)
group by r.resource_name order by r.resource_name
"""


def _print_queue_summary(dsn: str) -> None:
    """Entered, accepted, abandoned and service level per queue, from ag2_queue_day (the
    service level recomputed from the summed parts, never an average of ratios)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(QUEUE_SUMMARY).fetchall()
    table = Table(title="queues (ag2_queue_day)")
    for name in ("queue", "entered", "accepted", "abandoned", "service level"):
        table.add_column(name, justify="left" if name == "queue" else "right")
    for queue, entered, accepted, abandoned, level in rows:
        shown = "-" if level is None else f"{level:.1%}"
        table.add_row(str(queue), f"{entered:,}", f"{accepted:,}", f"{abandoned:,}", shown)
    out.print(table)


def _describe_dsn(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(dsn)
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())


# ------------------------------------------------------------------ embedded services
@embedded_app.command("status")
def embedded_status() -> None:
    """Show the embedded services' state."""
    settings = settings_or_exit()
    pid = settings.home.resolve() / "pg" / "postmaster.pid"
    out.print(f"home: {settings.home.resolve()}")
    out.print(f"PostgreSQL: {'running' if pid.exists() else 'stopped'}")
    state = settings.home / "tansu.json"
    out.print(f"Kafka (tansu): {state.read_text() if state.exists() else 'stopped'}")


@embedded_app.command("stop")
def embedded_stop() -> None:
    """Stop the embedded PostgreSQL and broker (the broker's in-memory topics are lost)."""
    settings = settings_or_exit()
    pg = embedded.stop_embedded_postgres(settings.home)
    kafka = embedded.stop_embedded_kafka(settings.home)
    out.print(
        f"PostgreSQL {'stopped' if pg else 'was not running'}; "
        f"Kafka {'stopped' if kafka else 'was not running'}"
    )


# ------------------------------------------------------------------ quality
@app.command("quality")
def quality_cmd() -> None:
    """Run the data-quality checkpoint (Great Expectations): keep its results, build the Data Docs."""
    from rich.markup import escape

    from quality.run import run_quality

    settings = settings_or_exit()
    dsn = _dsn(settings)
    result = run_quality(settings, dsn)
    table = Table(title="data quality (Great Expectations)")
    for name in ("suite", "evaluated", "failed"):
        table.add_column(name, justify="left" if name == "suite" else "right")
    for suite in result.suites:
        shown = f"[red]{suite.failed}[/red]" if suite.failed else "0"
        table.add_row(suite.name, str(suite.evaluated), shown)
    out.print(table)
    out.print(f"Data Docs: {result.index}")
    if not result.success:
        failures = "\n".join(f"  {escape(str(f))}" for f in result.failures)
        raise fail(f"{result.failed} expectation(s) failed:\n{failures}")
    out.print(f"{result.evaluated} expectations passed in {result.seconds:.1f} s")


# ------------------------------------------------------------------ maintenance
@app.command("maintain")
def maintain_cmd() -> None:
    """Purge what is past its retention (facts, configuration facts, rejects, discards, job history),
    keep DATE_TIME at least 183 days ahead, VACUUM what was purged (pipeline/maintain.py)."""
    from pipeline.maintain import maintain

    settings = settings_or_exit()
    dsn = connect_as(settings, _dsn(settings), "transform")
    try:
        result = maintain(settings, dsn)
    except (psycopg.Error, TransformError) as exc:
        raise fail(f"maintenance failed: {exc}") from None
    table = Table(title="maintenance: rows purged")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for relation, rows in result.purged.items():
        if rows:
            table.add_row(relation, f"{rows:,}")
    out.print(table)
    ahead = result.date_time_days_ahead
    shown = "not built yet" if ahead is None else f"{ahead:.0f} days ahead"
    out.print(
        f"{result.rows:,} rows purged in {result.seconds:.1f} s; DATE_TIME {shown}"
        + (" (extended)" if result.date_time_rebuilt else "")
    )


# ------------------------------------------------------------------ export
@app.command("export")
def export_cmd() -> None:
    """Export the facts changed since the last export, and the dimensions, to object storage
    (S3 or the local folder): a zip of CSVs, Parquet files and a manifest (export/job.py)."""
    from export.job import ExportError, run_export
    from infomart.objectstore import make_object_store

    settings = settings_or_exit()
    dsn = _dsn(settings)
    owner = connect_as(settings, dsn, "transform")  # writes the control tables
    reader = connect_as(settings, dsn, "export")
    store = make_object_store(settings)
    try:
        result = run_export(settings, owner, reader, store)
    except (ExportError, psycopg.Error, OSError) as exc:
        raise fail(f"export failed: {exc}") from None
    if result.adopted:
        out.print(f"recorded {result.adopted}, an export finished by a run that stopped before recording it")
    if result.folder is None:
        out.print(f"nothing new to export (audit keys up to {result.audit_range[1]} already exported)")
    else:
        table = Table(title=f"{store.describe()}/{settings.export_prefix}/{result.folder}")
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in result.tables.items():
            table.add_row(name, f"{rows:,}")
        out.print(table)
        out.print(
            f"{result.rows:,} rows, {result.bytes_written / 1e6:.1f} MB in {result.seconds:.1f} s"
            f" (audit keys {result.audit_range[0] + 1} to {result.audit_range[1]})"
        )
    for folder in result.removed:
        out.print(f"removed {folder} (older than {settings.export_keep_days} days)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
