"""CLI commands of the configuration side: ``infomart config-adapter`` and ``infomart config-db init``.

Registered in ``cli/main.py``; the logic is in ``ingest/config/adapter.py`` and
``ingest/config/database.py``. Exit codes as everywhere: 0 done, 1 failed, 2 bad settings or usage.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from cli.common import fail, settings_or_exit
from infomart import embedded

console = Console(stderr=True)
out = Console()

config_db_app = typer.Typer(
    help="The Configuration Database (Genesys Configuration Server objects) read by the config adapter.",
    no_args_is_help=True,
)


@config_db_app.command("init")
def config_db_init(
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo data set (the simulator's configuration).")
    ] = False,
    agents: Annotated[int, typer.Option(help="Agents in the demo data set.", min=0)] = 100,
    extra_queues: Annotated[
        int, typer.Option(help="Extra voice virtual queues in the demo data set.", min=0)
    ] = 0,
    changed_at: Annotated[
        datetime | None,
        typer.Option(
            "--changed-at",
            help="Change time of the demo data set, UTC (default: the simulator's default start).",
        ),
    ] = None,
) -> None:
    """Create the cfg schema (idempotent), the tenant and the read-only role; optionally the demo data.

    The demo data set is loaded only into a tenant without persons; a tenant that has them (the
    demo or the simulator configured it already) is left as it is."""
    from cli.config_demo import AlreadyConfigured, demo_changed_at, load_demo
    from ingest.config.database import ConfigDbError, init_schema, resolve_config_db_dsn

    settings = settings_or_exit()
    try:
        dsn = resolve_config_db_dsn(settings)
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            with console.status("creating the cfg schema"):
                tenant_dbid = init_schema(conn, settings.tenant)
            out.print(f"schema cfg ready; tenant {settings.tenant!r} has dbid {tenant_dbid}")
            if demo:
                at = demo_changed_at() if changed_at is None else changed_at.replace(tzinfo=UTC)
                try:
                    with console.status("loading the demo data set") as status:
                        counts = load_demo(
                            conn,
                            settings.tenant,
                            agents=agents,
                            extra_queues=extra_queues,
                            progress=lambda msg: status.update(f"loading the demo data set: {msg}"),
                            changed_at=at,
                        )
                except AlreadyConfigured as exc:
                    out.print(f"demo data set not loaded: {exc} (left as it is)")
                else:
                    out.print(
                        f"demo data set loaded: {counts.objects:,} objects, {counts.agents:,} agents,"
                        f" changed at {at.isoformat()}"
                    )
    except ConfigDbError as exc:
        raise fail(str(exc)) from None
    except psycopg.Error as exc:
        where = "INFOMART_CONFIG_DB_DSN" if settings.config_db_dsn else "the default Configuration Database"
        raise fail(f"{where}: {str(exc).strip()}") from None


def config_adapter(
    once: Annotated[bool, typer.Option("--once", help="Publish changes, write a snapshot, exit.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between polls when running continuously.", min=0.1)
    ] = 30.0,
    batch_size: Annotated[
        int, typer.Option(help="Events per producer batch (flushed and checked before the next).", min=1)
    ] = 1000,
    snapshot_interval: Annotated[
        float, typer.Option(help="At most one configuration snapshot per this many seconds.", min=0)
    ] = 60.0,
    snapshots: Annotated[
        bool, typer.Option("--snapshots/--no-snapshots", help="Write snapshots to object storage.")
    ] = True,
    partitions: Annotated[
        int, typer.Option(help="Partitions of the gca-cfg topic if it has to be created.", min=1)
    ] = 1,
) -> None:
    """Configuration Database -> gca-cfg (one event per changed object) + snapshots in object storage."""
    from cli.config_demo import demo_changed_at, load_demo
    from infomart.objectstore import make_object_store
    from ingest.config.adapter import AdapterError, ConfigAdapter, PollStats, SnapshotInfo
    from ingest.config.database import ConfigDbError, ensure_config_db
    from ingest.kafka_client import make_consumer, make_producer

    settings = settings_or_exit()

    def fill_with_demo(conn: psycopg.Connection) -> None:
        load_demo(conn, settings.tenant, agents=100, changed_at=demo_changed_at())

    try:
        config_dsn = ensure_config_db(settings, fill_with_demo)
        bootstrap = embedded.resolve_bootstrap(settings)
    except ConfigDbError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:
        raise fail(f"cannot start the embedded Kafka-compatible broker: {exc}") from None
    store = make_object_store(settings) if snapshots else None
    producer = make_producer(settings, bootstrap)
    consumer = make_consumer(settings, bootstrap)
    try:
        adapter = ConfigAdapter(
            settings,
            config_dsn,
            producer,
            consumer,
            store,
            batch_size=batch_size,
            snapshot_interval_s=snapshot_interval,
        )
    except ConfigDbError as exc:
        producer.close()
        consumer.close()
        raise fail(str(exc)) from None

    def stop(signum, frame) -> None:  # type: ignore[no-untyped-def]
        console.print("stopping after the current poll ...")
        adapter.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    totals = {"polls": 0, "upserts": 0, "deletes": 0}

    def on_poll(stats: PollStats, snap: SnapshotInfo | None) -> None:
        totals["polls"] += 1
        totals["upserts"] += stats.upserts
        totals["deletes"] += stats.deletes
        if stats.published or stats.already_published or stats.reconciled:
            console.print(
                f"config_version {stats.config_version}: {stats.upserts:,} upserts, {stats.deletes:,} deletes"
                + (f", {stats.already_published:,} already on the topic" if stats.already_published else "")
                + f" ({stats.seconds:.2f} s)"
            )
        if snap is not None:
            console.print(
                f"snapshot {snap.key} ({snap.bytes:,} bytes, {sum(snap.counts.values()):,} objects)"
                f" in {store.describe() if store else ''}"
            )

    try:
        with console.status("reading the gca-cfg position") as status:
            pos = adapter.start(topic_partitions=partitions)
            what = "empty topic: initial load" if pos.empty else f"published through {pos.watermark}"
            console.print(f"{settings.topics.gca_cfg} on {bootstrap}: {what}")
            status.update("publishing changes")

            def progress(stats: PollStats) -> None:
                status.update(f"publishing changes: {stats.published:,} of {stats.changed_objects:,} objects")

            last = adapter.run(once=once, interval_s=interval, progress=progress, on_poll=on_poll)
    except (AdapterError, ConfigDbError) as exc:
        raise fail(str(exc)) from None
    finally:
        adapter.close()
        producer.close()
        consumer.close()
    table = Table(title=f"config adapter ({settings.topics.gca_cfg})")
    table.add_column("polls", justify="right")
    table.add_column("upserts", justify="right")
    table.add_column("deletes", justify="right")
    table.add_column("config_version", justify="right")
    table.add_row(
        str(totals["polls"]), f"{totals['upserts']:,}", f"{totals['deletes']:,}", str(last.config_version)
    )
    out.print(table)
