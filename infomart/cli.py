"""The ``infomart`` command line.

Exit codes: 0 done; 1 the pipeline failed (the message says where); 2 bad settings or usage.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from datetime import UTC, datetime
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

from infomart import embedded
from infomart.cli_config import config_adapter, config_db_app
from infomart.settings import LOGICAL_TOPICS, Settings, SettingsError, load_settings
from infomart.transform import TransformError, transform

app = typer.Typer(
    help="Open contact-center Info Mart: events in, PostgreSQL facts out.",
    no_args_is_help=True,
    add_completion=False,
)
ingest_app = typer.Typer(help="Land events in the raw tables.", no_args_is_help=True)
embedded_app = typer.Typer(help="The embedded PostgreSQL and broker.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(embedded_app, name="embedded")
app.add_typer(config_db_app, name="config-db")
app.command("config-adapter")(config_adapter)

console = Console(stderr=True)
out = Console()
log = logging.getLogger("infomart")


# ------------------------------------------------------------------ helpers
def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _fail(msg: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/red] {msg}")
    return typer.Exit(code)


def _dsn(settings: Settings) -> str:
    try:
        dsn = embedded.resolve_pg_dsn(settings)
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.execute("select 1")
        return dsn
    except Exception as exc:
        where = "the embedded PostgreSQL" if settings.embedded_pg else "INFOMART_PG_DSN"
        raise _fail(f"cannot connect to PostgreSQL ({where}): {exc}") from None


def _bootstrap(settings: Settings) -> str:
    try:
        return embedded.resolve_bootstrap(settings)
    except Exception as exc:
        raise _fail(f"cannot start the embedded Kafka-compatible broker: {exc}") from None


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
def _simulation(
    hours: float,
    agents: int,
    seed: int,
    start: datetime | None,
    calls_per_hour: float | None,
    redundant: bool,
    shuffle: bool,
    late_share: float,
    tenant: str,
    progress: Progress,
    omit_routed_initiator: bool = False,
):  # type: ignore[no-untyped-def]
    from infomart.simulator import SimulationConfig, simulate

    kwargs: dict[str, object] = {
        "seed": seed,
        "tenant": tenant,
        "duration_hours": hours,
        "agents": agents,
        "redundant_sources": redundant,
        "shuffle": shuffle,
        "late_share": late_share,
        "omit_routed_initiator": omit_routed_initiator,
    }
    if start is not None:
        kwargs["start"] = start.replace(tzinfo=UTC) if start.tzinfo is None else start
    if calls_per_hour is not None:
        kwargs["calls_per_hour"] = calls_per_hour
    cfg = SimulationConfig(**kwargs)  # type: ignore[arg-type]
    task = progress.add_task("simulating", total=100, info="")

    def on_progress(done_ms: int, total_ms: int) -> None:
        progress.update(task, completed=int(100 * done_ms / max(total_ms, 1)))

    result = simulate(cfg, progress=on_progress)
    progress.update(task, completed=100, info=f"{len(result.deliveries):,} events")
    return result


@app.command()
def simulate(
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write NDJSON archives (and the ledger) here.")
    ] = None,
    to_kafka: Annotated[
        bool, typer.Option("--to-kafka", help="Publish to Kafka (configured or embedded).")
    ] = False,
    hours: Annotated[float, typer.Option(help="Simulated hours.")] = 8.0,
    agents: Annotated[int, typer.Option(help="Agents.")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same events.")] = 1,
    start: Annotated[datetime | None, typer.Option(help="Simulated start, UTC.")] = None,
    calls_per_hour: Annotated[float | None, typer.Option(help="Inbound call arrival rate.")] = None,
    redundant: Annotated[bool, typer.Option(help="A second, redundant source repeats voice events.")] = False,
    shuffle: Annotated[bool, typer.Option(help="Shuffle delivery order.")] = False,
    late_share: Annotated[float, typer.Option(help="Share of events delivered hours late.")] = 0.0,
    omit_routed_initiator: Annotated[
        bool,
        typer.Option(
            help="Leave initiator_party_id null on routed parties; routing points then emit Diverted."
        ),
    ] = False,
    gzip: Annotated[bool, typer.Option("--gzip", help="Compress the archives.")] = False,
) -> None:
    """Simulate a contact center: events to NDJSON archives and/or Kafka, plus the ground-truth ledger."""
    if out_dir is None and not to_kafka:
        raise _fail("say where the events go: --out DIR and/or --to-kafka", 2)
    settings = _settings()
    with _progress() as progress:
        result = _simulation(
            hours,
            agents,
            seed,
            start,
            calls_per_hour,
            redundant,
            shuffle,
            late_share,
            settings.tenant,
            progress,
            omit_routed_initiator,
        )
        if out_dir is not None:
            from infomart.simulator import write_ndjson

            write_ndjson(result, out_dir, gzip=gzip)
        if to_kafka:
            _publish(settings, result.deliveries, progress)
    _print_counts("events simulated", _count_by_topic(result.deliveries))
    if out_dir is not None:
        out.print(f"archives and ledger written to [bold]{out_dir}[/bold]")


def _count_by_topic(deliveries) -> dict[str, int]:  # type: ignore[no-untyped-def]
    counts: dict[str, int] = dict.fromkeys(LOGICAL_TOPICS, 0)
    for d in deliveries:
        counts[d.topic] += 1
    return counts


def _publish(settings: Settings, deliveries, progress: Progress) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from infomart.publish import publish
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
def _ingest_kafka(settings: Settings, dsn: str, follow: bool, progress: Progress):  # type: ignore[no-untyped-def]
    from ingest.kafka_ingester import KafkaIngester

    ingester = KafkaIngester(settings, dsn, _bootstrap(settings))
    task = progress.add_task("ingesting from Kafka", total=None, info="")

    def on_progress(stats, remaining: int | None) -> None:  # type: ignore[no-untyped-def]
        left = f", {remaining:,} left" if remaining is not None else ""
        progress.update(task, completed=stats.total, info=f"{stats.rejects:,} rejected{left}")

    _stop_on_signals(ingester.stop)
    try:
        stats = ingester.run(until_drained=not follow, progress=on_progress)
    finally:
        ingester.close()
    progress.update(task, total=stats.total, completed=stats.total)
    return stats


def _stop_on_signals(event) -> None:  # type: ignore[no-untyped-def]
    def handler(signum, frame) -> None:  # type: ignore[no-untyped-def]
        console.print("stopping after the current batch ...")
        event.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


@ingest_app.command("kafka")
def ingest_kafka(
    follow: Annotated[
        bool,
        typer.Option("--follow/--until-drained", help="Keep consuming, or stop when the topics are drained."),
    ] = False,
) -> None:
    """Consume the six topics into the raw tables (offsets stored in PostgreSQL)."""
    settings = _settings()
    dsn = _dsn(settings)
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

    settings = _settings()
    skipped: list[Path] = []
    try:
        archives = find_archives(paths, settings, topic, skipped)
    except ArchiveError as exc:
        raise _fail(str(exc), 2) from None
    dsn = _dsn(settings)
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
            raise _fail(str(exc)) from None
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
    settings = _settings()
    dsn = _dsn(settings)
    try:
        with _progress() as progress:
            _transform(settings, dsn, full_refresh, tests, dbt_log, progress)
    except TransformError as exc:
        raise _fail(str(exc)) from None
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

    from infomart import metrics
    from ingest.kafka_ingester import KafkaIngester

    settings = _settings()
    dsn = _dsn(settings)
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
        console.print(f"metrics on http://{settings.metrics_host}:{settings.metrics_port}/metrics")
    ingester = KafkaIngester(settings, dsn, _bootstrap(settings))
    _stop_on_signals(ingester.stop)
    n = 0
    try:
        while not ingester.stop.is_set():
            n += 1
            started = time.monotonic()
            stats = ingester.run(until_drained=True)
            metrics.KAFKA_LAG.set(ingester.remaining())
            try:
                result = transform(settings, dsn, tests=tests)
            except TransformError as exc:
                console.print(f"[red]cycle {n}: transform failed[/red]: {exc}")
            else:
                metrics.CYCLES.inc()
                metrics.LAST_CYCLE_TS.set(time.time())
                console.print(
                    f"cycle {n}: {stats.total:,} events landed, {stats.rejects:,} rejected, "
                    f"{len(result.nodes)} dbt nodes in {result.seconds:.1f} s "
                    f"(cycle {time.monotonic() - started:.1f} s)"
                )
            if cycles and n >= cycles:
                break
            ingester.stop.wait(settings.cycle_seconds)
    finally:
        ingester.close()


# ------------------------------------------------------------------ demo
@app.command()
def demo(
    hours: Annotated[float, typer.Option(help="Simulated hours.")] = 3.0,
    agents: Annotated[int, typer.Option(help="Agents.")] = 15,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Start the embedded services, simulate a small contact center, ingest, transform, report."""
    settings = _settings()
    started = time.monotonic()
    console.print("[bold]1/4[/bold] starting services")
    dsn = _dsn(settings)
    bootstrap = _bootstrap(settings)
    console.print(f"    PostgreSQL: {_describe_dsn(dsn)}\n    Kafka: {bootstrap}")
    try:
        with _progress() as progress:
            console.print(
                f"[bold]2/4[/bold] simulating {hours:g} h with {agents} agents and publishing to Kafka"
            )
            result = _simulation(
                hours, agents, seed, None, None, False, False, 0.0, settings.tenant, progress
            )
            _publish(settings, result.deliveries, progress)
            console.print("[bold]3/4[/bold] ingesting from Kafka until drained")
            stats = _ingest_kafka(settings, dsn, False, progress)
            console.print("[bold]4/4[/bold] transforming with dbt (models and data tests)")
            _transform(settings, dsn, False, True, False, progress)
    except TransformError as exc:
        raise _fail(str(exc)) from None
    _print_counts("events landed in raw", {t: stats.events.get(t, 0) for t in LOGICAL_TOPICS})
    _print_models(dsn)
    out.print(f"rejected: {stats.rejects:,} (raw.rejects)")
    out.print(f"database: [bold]{_describe_dsn(dsn)}[/bold]")
    if settings.embedded_pg:
        host = dsn.split("host=")[-1]
        out.print(f"    psql -h {host} -U postgres {embedded.tenant_database(settings.tenant)}")
        out.print("    (stop the embedded services with: infomart embedded stop)")
    out.print(f"demo finished in {time.monotonic() - started:.0f} s")


def _describe_dsn(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(dsn)
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())


# ------------------------------------------------------------------ embedded services
@embedded_app.command("status")
def embedded_status() -> None:
    """Show the embedded services' state."""
    settings = _settings()
    pid = settings.home.resolve() / "pg" / "postmaster.pid"
    out.print(f"home: {settings.home.resolve()}")
    out.print(f"PostgreSQL: {'running' if pid.exists() else 'stopped'}")
    state = settings.home / "tansu.json"
    out.print(f"Kafka (tansu): {state.read_text() if state.exists() else 'stopped'}")


@embedded_app.command("stop")
def embedded_stop() -> None:
    """Stop the embedded PostgreSQL and broker (the broker's in-memory topics are lost)."""
    settings = _settings()
    pg = embedded.stop_embedded_postgres(settings.home)
    kafka = embedded.stop_embedded_kafka(settings.home)
    out.print(
        f"PostgreSQL {'stopped' if pg else 'was not running'}; "
        f"Kafka {'stopped' if kafka else 'was not running'}"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
