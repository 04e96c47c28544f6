"""Configuration changes through the real path: Configuration Database -> config adapter -> ``gca-cfg``.

Used by ``infomart demo`` and ``infomart simulate`` (the simulator's configuration changes) and by
the tests. The changes are written into the Configuration Database (``ingest/config/writer.py``)
one change time at a time, and after each time the config adapter polls and publishes what
changed. One poll per change time: the adapter coalesces the changes it finds in one poll into
each object's latest state (``ingest/config/adapter.py``), so writing a whole simulated day
before a single poll would lose the states in between (an agent's group before its move).
Before the first write the adapter polls once, which publishes what the Configuration Database
holds and the topic does not (the initial load when the topic is new).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import groupby

import psycopg

from infomart.objectstore import ObjectStore
from infomart.settings import Settings
from ingest.config.adapter import ConfigAdapter, PollStats, SnapshotInfo
from ingest.config.writer import ObjectChange, WriteStats, write_changes
from ingest.kafka_client import make_consumer, make_producer


@dataclass
class FeedStats:
    written: WriteStats = field(default_factory=WriteStats)
    polls: int = 0
    upserts: int = 0
    deletes: int = 0
    config_version: int = 0  # the Configuration Database's version after the last poll
    snapshot: SnapshotInfo | None = None

    def add(self, poll: PollStats) -> None:
        self.polls += 1
        self.upserts += poll.upserts
        self.deletes += poll.deletes
        self.config_version = poll.config_version

    @property
    def published(self) -> int:
        return self.upserts + self.deletes


def feed_changes(
    adapter: ConfigAdapter,
    conn: psycopg.Connection,
    changes: Iterable[ObjectChange],
    progress: Callable[[FeedStats], None] | None = None,
) -> FeedStats:
    """Write the changes (in the order given) and publish them, one change time at a time."""
    stats = FeedStats()
    adapter.start()
    stats.add(adapter.poll())
    for _at, group in groupby(changes, key=lambda c: c.changed_at):
        written = write_changes(conn, adapter.tenant, list(group))
        stats.written.add(written)
        if written.logged_objects:
            stats.add(adapter.poll())
        if progress:
            progress(stats)
    stats.snapshot = adapter.maybe_snapshot(stats.config_version, force=True)
    return stats


def feed_configuration(
    settings: Settings,
    config_dsn: str,
    bootstrap: str,
    changes: Iterable[ObjectChange],
    store: ObjectStore | None = None,
    progress: Callable[[FeedStats], None] | None = None,
) -> FeedStats:
    """:func:`feed_changes` with a config adapter of its own on ``settings.topics.gca_cfg``."""
    producer = make_producer(settings, bootstrap)
    consumer = make_consumer(settings, bootstrap)
    try:
        adapter = ConfigAdapter(settings, config_dsn, producer, consumer, store)
        try:
            with psycopg.connect(config_dsn, autocommit=True, connect_timeout=10) as conn:
                return feed_changes(adapter, conn, changes, progress)
        finally:
            adapter.close()
    finally:
        producer.close()
        consumer.close()
