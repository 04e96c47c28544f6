"""Kafka -> raw tables, exactly once in effect.

Partitions are assigned by this process and positioned at the offsets stored in
``raw.consumer_offsets``; each batch of rows, rejects and the new offsets commit in one
PostgreSQL transaction. Killed at any point, a restart resumes where the last commit left
off: nothing is lost and nothing is landed twice.

An outage (PostgreSQL or the broker going away) makes :meth:`KafkaIngester.run` raise, and
leaves the ingester *broken*: the consumer may have read past what was committed. The next
``run`` first reconnects (a new database connection and consumer, positioned at the offsets
stored with the rows), so a caller that retries (``infomart run``) loses and repeats nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from infomart import metrics
from infomart.settings import Settings
from ingest.batch_writer import OrderedBatchWriter
from ingest.contract import Contract, limits_of
from ingest.kafka_client import Consumer, TopicPartition, make_consumer
from ingest.landing import Batch, Reject, ensure_raw_schema, write_batch

log = logging.getLogger(__name__)


@dataclass
class IngestStats:
    events: dict[str, int] = field(default_factory=dict)
    rejects: int = 0
    batches: int = 0
    missing_topics: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.events.values())


Progress = Callable[[IngestStats, int | None], None]  # stats so far, remaining messages (if known)


def load_offsets(conn: psycopg.Connection, consumer: str) -> dict[TopicPartition, int]:
    rows = conn.execute(
        "select topic, kafka_partition, next_offset from raw.consumer_offsets where consumer = %s",
        (consumer,),
    ).fetchall()
    return {(t, p): o for t, p, o in rows}


def _names(tps: list[TopicPartition]) -> str:
    return ", ".join(f"{t}[{p}]" for t, p in sorted(tps)) or "nothing"


class OffsetConflict(Exception):
    """A batch's partition was landed by another process since this one read its offset."""


@dataclass(frozen=True)
class Slice:
    """The bound of one cycle's ingest: a deadline, and the end offsets seen when it began."""

    deadline: float  # time.monotonic()
    ends: dict[TopicPartition, int] | None

    def done(self, submitted: dict[TopicPartition, int]) -> bool:
        if time.monotonic() >= self.deadline:
            return True
        return self.ends is not None and all(submitted.get(tp, 0) >= end for tp, end in self.ends.items())


class KafkaIngester:
    def __init__(
        self, settings: Settings, dsn: str, bootstrap: str, consumer: Consumer | None = None
    ) -> None:
        self.settings, self.dsn, self.bootstrap = settings, dsn, bootstrap
        self.conn = psycopg.connect(dsn, autocommit=True)
        ensure_raw_schema(self.conn)
        self.contract = Contract(settings.tenant, limits_of(settings))
        self.logical = {name: logical for logical, name in settings.topics.by_logical().items()}
        self.consumer = consumer or make_consumer(settings, bootstrap)
        self.positions: dict[TopicPartition, int] = {}
        self.assigned: list[TopicPartition] = []
        self.stop = threading.Event()
        self.broken = False  # an outage interrupted run(): reconnect before reading on
        self.subscribed = False  # joined the consumer group (kafka_group_id)
        self.joined = False  # the group has assigned partitions to this process once
        self._writer: OrderedBatchWriter | None = None
        self._rebalance_error: Exception | None = None  # a landing that failed during a rebalance

    def reconnect(self) -> None:
        """A new database connection and consumer, at the offsets stored with the rows."""
        for close in (self.consumer.close, self.conn.close):
            try:
                close()
            except Exception as exc:  # the old connection is gone anyway
                log.debug("closing after an outage: %s", exc)
        self.conn = psycopg.connect(self.dsn, autocommit=True)
        ensure_raw_schema(self.conn)
        self.consumer = make_consumer(self.settings, self.bootstrap)
        self.positions, self.assigned = {}, []
        self.subscribed = self.joined = False
        self.broken = False
        log.info("reconnected to PostgreSQL and the broker; resuming at the stored offsets")

    # ------------------------------------------------------------ assignment
    def discover(self, stats: IngestStats) -> None:
        """Assign every partition of the configured topics, at the stored offsets; with a
        consumer group, join it (the group assigns, ``_assigned`` seeks)."""
        stored = load_offsets(self.conn, self.settings.offsets_consumer)
        assignment: dict[TopicPartition, int | None] = {}
        stats.missing_topics = []
        for topic in self.logical:
            parts = self.consumer.partitions(topic)
            if parts is None:
                stats.missing_topics.append(topic)
                continue
            for p in parts:
                tp = (topic, p)
                assignment[tp] = self.positions.get(tp, stored.get(tp))
        if stats.missing_topics:
            log.info("topics not found (yet): %s", ", ".join(stats.missing_topics))
        if self.settings.kafka_group_id is not None:
            if not self.subscribed:
                self.consumer.subscribe(sorted(self.logical), self._assigned, self._revoked)
                self.subscribed = True
            return
        if sorted(assignment) != self.assigned:
            self.consumer.assign(assignment)
            self.assigned = sorted(assignment)
            for tp, off in assignment.items():
                if off is not None:
                    self.positions[tp] = off

    def _assigned(self, given: list[TopicPartition]) -> dict[TopicPartition, int | None]:
        """The group gave this process ``given`` (inside poll): consume each from its stored offset."""
        self._wait_for_writer()
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            stored = load_offsets(conn, self.settings.offsets_consumer)
        offsets = {tp: stored.get(tp) for tp in given}
        self.positions = {tp: off for tp, off in offsets.items() if off is not None}
        self.assigned = sorted(given)
        self.joined = True
        log.info("consumer group %s: assigned %s", self.settings.kafka_group_id, _names(given))
        return offsets

    def _revoked(self, taken: list[TopicPartition]) -> None:
        """The group takes ``taken`` away: what is landing now commits (or fails its offset check)."""
        self._wait_for_writer()
        for tp in taken:
            self.positions.pop(tp, None)
        self.assigned = [tp for tp in self.assigned if tp not in taken]
        if taken:
            log.info("consumer group %s: revoked %s", self.settings.kafka_group_id, _names(taken))

    def _wait_for_writer(self) -> None:
        if self._writer is not None:
            try:
                self._writer.wait()
            except Exception as exc:  # raised again by the run loop after the poll (not in the listener)
                self._rebalance_error = exc

    def remaining(self) -> int:
        """Messages between our positions and the partitions' ends (0 = drained)."""
        return sum(self.partition_lags().values())

    def partition_lags(self) -> dict[TopicPartition, int]:
        """Messages between our position and the end, per assigned partition."""
        if not self.assigned:
            return {}
        ends = self.consumer.end_offsets(self.assigned)
        return {tp: max(0, end - self.positions.get(tp, 0)) for tp, end in ends.items()}

    # ------------------------------------------------------------ main loop
    def _save_offsets(self, batch_positions: dict[TopicPartition, int]) -> Callable[[psycopg.Cursor], None]:
        consumer = self.settings.offsets_consumer

        def save(cur: psycopg.Cursor) -> None:
            # compare-and-set: each partition's stored offset must still be where this process
            # read from; else another process (a group member the partition moved to, or one
            # started twice) landed it meanwhile, and this batch is rolled back, not landed twice
            for (topic, partition), offset in batch_positions.items():
                expected = self.positions.get((topic, partition))
                if expected is None:
                    cur.execute(
                        "insert into raw.consumer_offsets (consumer, topic, kafka_partition, next_offset)"
                        " values (%s, %s, %s, %s) on conflict do nothing",
                        (consumer, topic, partition, offset),
                    )
                else:
                    cur.execute(
                        "update raw.consumer_offsets set next_offset = %s, updated_at = now()"
                        " where consumer = %s and topic = %s and kafka_partition = %s and next_offset = %s",
                        (offset, consumer, topic, partition, expected),
                    )
                if cur.rowcount != 1:
                    raise OffsetConflict(
                        f"{topic}[{partition}]: the stored offset is no longer {expected}; another ingest"
                        " process landed this partition meanwhile: re-reading the stored offsets"
                    )

        return save

    def run(
        self,
        until_drained: bool = True,
        progress: Progress | None = None,
        rediscover_s: float = 30.0,
        max_batch_wait_s: float = 1.0,
        slice_seconds: float | None = None,
    ) -> IngestStats:
        """Consume and land until stopped, or until drained; with ``slice_seconds``, a bounded
        slice (a cycle of ``infomart run``): what the partitions held when it started, and for at
        most that long, so that a topic that never stops receiving still lets the cycle go on."""
        if self.broken:
            self.reconnect()
        stats = IngestStats()
        try:
            self.discover(stats)
            batch_size = self.settings.batch_size
            writer = self._writer = OrderedBatchWriter()
            ends = None
            if slice_seconds is not None and self.assigned:
                ends = self.consumer.end_offsets(self.assigned)
            try:
                self._loop(
                    stats,
                    writer,
                    until_drained,
                    progress,
                    rediscover_s,
                    max_batch_wait_s,
                    batch_size,
                    Slice(time.monotonic() + slice_seconds, ends) if slice_seconds is not None else None,
                )
            finally:
                writer.close()
        except BaseException:
            self.broken = True  # the consumer may be past the last commit
            raise
        return stats

    def _loop(
        self,
        stats: IngestStats,
        writer: OrderedBatchWriter,
        until_drained: bool,
        progress: Progress | None,
        rediscover_s: float,
        max_batch_wait_s: float,
        batch_size: int,
        bounded: Slice | None = None,
    ) -> None:
        last_discover = time.monotonic()
        submitted = dict(self.positions)
        while not self.stop.is_set():
            if bounded is not None and bounded.done(submitted):
                break
            batch = Batch("kafka")
            batch_positions: dict[TopicPartition, int] = {}
            newest: dict[TopicPartition, int] = {}  # Kafka timestamp of the newest record per partition
            started = time.monotonic()
            while len(batch) < batch_size and time.monotonic() - started < max_batch_wait_s:
                msgs = self.consumer.poll(max_records=batch_size - len(batch), timeout_s=0.2)
                if self._rebalance_error is not None:
                    error, self._rebalance_error = self._rebalance_error, None
                    raise error
                if not msgs:
                    break
                self._validate(msgs, batch, batch_positions)
                for m in msgs:
                    if m.timestamp_ms is not None and m.timestamp_ms > newest.get((m.topic, m.partition), -1):
                        newest[(m.topic, m.partition)] = m.timestamp_ms
            if batch_positions:
                submitted.update(batch_positions)
                writer.submit(
                    lambda b=batch, bp=batch_positions, nt=newest: self._land(b, bp, stats, progress, nt)
                )
                continue
            # nothing arrived in this round: let the last batch commit before looking at positions
            writer.wait()
            if time.monotonic() - last_discover > rediscover_s:
                self.discover(stats)
                last_discover = time.monotonic()
            if until_drained and (self.settings.kafka_group_id is None or self.joined):
                left = self.remaining()
                if progress:
                    progress(stats, left)
                if left == 0:
                    break

    def _land(
        self,
        batch: Batch,
        batch_positions: dict[TopicPartition, int],
        stats: IngestStats,
        progress: Progress | None,
        newest: dict[TopicPartition, int] | None = None,
    ) -> None:
        """Runs on the writer thread: commit rows, rejects and offsets, then account for them."""
        refused = write_batch(self.conn, batch, self._save_offsets(batch_positions))
        self.positions.update(batch_positions)
        self._count(stats, batch, refused)
        landed_ms = time.time() * 1000
        for (topic, partition), ts in (newest or {}).items():
            labels = (self.logical.get(topic, topic), str(partition))
            metrics.GIM_KAFKA_TIMESTAMP.labels(*labels).set(ts)
            metrics.GIM_KAFKA_BEHIND.labels(*labels).set(max(0.0, landed_ms - ts))
        if progress:
            progress(stats, None)

    def _validate(self, msgs: list, batch: Batch, batch_positions: dict[TopicPartition, int]) -> None:
        check = self.contract.check
        for m in msgs:
            topic = self.logical[m.topic]
            if m.value is None:
                batch.rejects.append(
                    Reject(topic, "empty_message: no value (tombstone)", None, m.partition, m.offset)
                )
            else:
                event, reason = check(topic, m.value)
                if event is not None:
                    batch.add(topic, m.value, m.partition, m.offset, event["ts"])
                else:
                    batch.rejects.append(Reject(topic, reason, m.value, m.partition, m.offset))
            batch_positions[(m.topic, m.partition)] = m.offset + 1

    @staticmethod
    def _count(stats: IngestStats, batch: Batch, refused: list[Reject]) -> None:
        stats.batches += 1
        for topic, rows in batch.events.items():
            n = len(rows) - sum(1 for r in refused if r.topic == topic)
            stats.events[topic] = stats.events.get(topic, 0) + n
            metrics.EVENTS_LANDED.labels(topic=topic, origin="kafka").inc(n)
            metrics.RECORDS_CONSUMED.labels(topic=topic).inc(len(rows))
            if topic == "voice-callthread":
                metrics.CALLS_CREATED.inc(sum(1 for row in rows if b'"CallCreated"' in row[0]))
        for r in [*batch.rejects, *refused]:
            metrics.EVENTS_REJECTED.labels(topic=r.topic, reason=r.reason.split(":", 1)[0]).inc()
            metrics.RECORDS_CONSUMED.labels(topic=r.topic).inc()
        if batch.rejects or refused:
            metrics.GIM_ISSUES.labels("rejected").inc(len(batch.rejects) + len(refused))
        stats.rejects += len(batch.rejects) + len(refused)

    def close(self) -> None:
        self.consumer.close()
        self.conn.close()
