"""One small interface over the Kafka client library, so it can be swapped.

The ingester assigns partitions itself and seeks to the offsets stored in PostgreSQL
(offsets live in the database, committed with the rows), so no broker-side commits are
involved. With ``kafka_group_id`` set, several ingest processes share the partitions through a
Kafka consumer group instead: the group assigns them, and each process seeks to the offsets
stored in PostgreSQL when it is given a partition. Two implementations:

* ``kafka-python`` (default): pure Python.
* ``confluent``: confluent-kafka (librdkafka), an order of magnitude faster to consume.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from infomart.settings import Settings

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]
#: a group assignment: the partitions given -> the offsets to consume them from
OnAssign = Callable[[list[TopicPartition]], dict[TopicPartition, int | None]]
#: partitions taken away by the group (before they are given to another member)
OnRevoke = Callable[[list[TopicPartition]], None]
#: what a member of a group may go silent for before the group gives its partitions away
GROUP_SESSION_TIMEOUT_MS = 6000


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    timestamp_ms: int | None = None  # the record's Kafka timestamp (create or log-append time)


class Consumer(Protocol):
    def partitions(self, topic: str) -> list[int] | None:
        """Partition ids of ``topic``, or None when the topic does not exist."""

    def assign(self, positions: dict[TopicPartition, int | None]) -> None:
        """Consume these partitions from these offsets (None: from the earliest)."""

    def subscribe(self, topics: list[str], on_assign: OnAssign, on_revoke: OnRevoke) -> None:
        """Join the consumer group (``kafka_group_id``) for these topics; on each assignment
        consume from the offsets ``on_assign`` returns (None: from the earliest)."""

    def poll(self, max_records: int, timeout_s: float) -> list[Message]: ...

    def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]: ...

    def close(self) -> None: ...


class Producer(Protocol):
    def create_topics(self, names: list[str], partitions: int) -> None: ...

    def send(self, topic: str, key: bytes | None, value: bytes) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


# ----------------------------------------------------------------- option mapping
def _kafka_python_options(settings: Settings, bootstrap: str) -> dict[str, object]:
    sec = settings.kafka
    opts: dict[str, object] = {
        "bootstrap_servers": bootstrap.split(","),
        "security_protocol": sec.security_protocol,
    }
    if sec.sasl_mechanism:
        opts["sasl_mechanism"] = sec.sasl_mechanism
        opts["sasl_plain_username"] = sec.sasl_username
        opts["sasl_plain_password"] = sec.sasl_password
    for ours, theirs in (
        ("ssl_cafile", "ssl_cafile"),
        ("ssl_certfile", "ssl_certfile"),
        ("ssl_keyfile", "ssl_keyfile"),
    ):
        if getattr(sec, ours):
            opts[theirs] = getattr(sec, ours)
    opts.update(settings.kafka_extra)
    return opts


def _confluent_options(settings: Settings, bootstrap: str) -> dict[str, object]:
    sec = settings.kafka
    opts: dict[str, object] = {"bootstrap.servers": bootstrap, "security.protocol": sec.security_protocol}
    if sec.sasl_mechanism:
        opts["sasl.mechanism"] = sec.sasl_mechanism
        if sec.sasl_username:
            opts["sasl.username"] = sec.sasl_username
            opts["sasl.password"] = sec.sasl_password
    for ours, theirs in (
        ("ssl_cafile", "ssl.ca.location"),
        ("ssl_certfile", "ssl.certificate.location"),
        ("ssl_keyfile", "ssl.key.location"),
    ):
        if getattr(sec, ours):
            opts[theirs] = getattr(sec, ours)
    opts.update(settings.kafka_extra)
    return opts


# ----------------------------------------------------------------- kafka-python
class KafkaPythonConsumer:
    def __init__(self, settings: Settings, bootstrap: str) -> None:
        from kafka import KafkaConsumer

        group = settings.kafka_group_id
        self._consumer = KafkaConsumer(
            group_id=group,
            enable_auto_commit=False,
            **(
                {"session_timeout_ms": GROUP_SESSION_TIMEOUT_MS, "heartbeat_interval_ms": 1000}
                if group
                else {}
            ),
            auto_offset_reset="earliest",
            # reading a topic never creates it with the broker's default partition count (the
            # default of kafka-python, not of librdkafka): topics are created by who publishes
            allow_auto_create_topics=False,
            fetch_max_bytes=64 << 20,
            max_partition_fetch_bytes=16 << 20,
            max_poll_interval_ms=5000,
            **_kafka_python_options(settings, bootstrap),
        )

    def partitions(self, topic: str) -> list[int] | None:
        self._consumer.topics()  # refresh metadata
        parts = self._consumer.partitions_for_topic(topic)
        return sorted(parts) if parts else None

    def assign(self, positions: dict[TopicPartition, int | None]) -> None:
        from kafka import TopicPartition as KTP

        tps = {tp: KTP(*tp) for tp in positions}
        self._consumer.assign(list(tps.values()))
        for tp, offset in positions.items():
            if offset is None:
                self._consumer.seek_to_beginning(tps[tp])
            else:
                self._consumer.seek(tps[tp], offset)

    def subscribe(self, topics: list[str], on_assign: OnAssign, on_revoke: OnRevoke) -> None:
        from kafka import ConsumerRebalanceListener

        consumer = self._consumer

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked) -> None:  # type: ignore[no-untyped-def]
                on_revoke([(tp.topic, tp.partition) for tp in revoked])

            def on_partitions_assigned(self, assigned) -> None:  # type: ignore[no-untyped-def]
                given = {(tp.topic, tp.partition): tp for tp in assigned}
                for tp, offset in on_assign(list(given)).items():
                    if offset is None:
                        consumer.seek_to_beginning(given[tp])
                    else:
                        consumer.seek(given[tp], offset)

        consumer.subscribe(topics, listener=Listener())

    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        got = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        return [
            Message(tp.topic, tp.partition, rec.offset, rec.value, rec.timestamp)
            for tp, recs in got.items()
            for rec in recs
        ]

    def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        from kafka import TopicPartition as KTP

        ends = self._consumer.end_offsets([KTP(*tp) for tp in tps])
        return {(k.topic, k.partition): v for k, v in ends.items()}

    def close(self) -> None:
        self._consumer.close()


class KafkaPythonProducer:
    def __init__(self, settings: Settings, bootstrap: str) -> None:
        from kafka import KafkaProducer

        self._opts = _kafka_python_options(settings, bootstrap)
        self._producer = KafkaProducer(linger_ms=20, batch_size=1 << 20, acks="all", **self._opts)

    def create_topics(self, names: list[str], partitions: int) -> None:
        from kafka.admin import KafkaAdminClient, NewTopic
        from kafka.errors import TopicAlreadyExistsError

        admin = KafkaAdminClient(**self._opts)
        try:
            existing = set(admin.list_topics())
            new = [
                NewTopic(n, num_partitions=partitions, replication_factor=1)
                for n in names
                if n not in existing
            ]
            if new:
                with contextlib.suppress(TopicAlreadyExistsError):  # created meanwhile by another producer
                    admin.create_topics(new)
        finally:
            admin.close()

    def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        self._producer.send(topic, key=key, value=value)

    def flush(self) -> None:
        self._producer.flush()

    def close(self) -> None:
        self._producer.close()


# ----------------------------------------------------------------- confluent-kafka
class ConfluentConsumer:
    def __init__(self, settings: Settings, bootstrap: str) -> None:
        from confluent_kafka import Consumer as CConsumer

        self._consumer = CConsumer(
            {
                # librdkafka fetches in the background, also while the cycle transforms: with its
                # default of 1 byte a fetch returns at each new record, and under steady traffic
                # the broker answers fetches all the time (tansu used 4 times the CPU it does for
                # kafka-python, on the cores the transform needs); a fetch waits for 1 MiB or
                # fetch.wait.max.ms instead (kafka_extra may set both)
                "fetch.min.bytes": 1 << 20,
                "fetch.wait.max.ms": 500,
                **_confluent_options(settings, bootstrap),
                # required by librdkafka; joined only with kafka_group_id, never committed
                "group.id": settings.kafka_group_id or settings.offsets_consumer,
                **({"session.timeout.ms": GROUP_SESSION_TIMEOUT_MS} if settings.kafka_group_id else {}),
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
            }
        )

    def partitions(self, topic: str) -> list[int] | None:
        meta = self._consumer.list_topics(topic, timeout=10)
        t = meta.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            return None
        return sorted(t.partitions)

    def assign(self, positions: dict[TopicPartition, int | None]) -> None:
        from confluent_kafka import OFFSET_BEGINNING
        from confluent_kafka import TopicPartition as CTP

        self._consumer.assign(
            [CTP(t, p, OFFSET_BEGINNING if o is None else o) for (t, p), o in positions.items()]
        )

    def subscribe(self, topics: list[str], on_assign: OnAssign, on_revoke: OnRevoke) -> None:
        from confluent_kafka import OFFSET_BEGINNING
        from confluent_kafka import TopicPartition as CTP

        def assigned(consumer, partitions) -> None:  # type: ignore[no-untyped-def]
            offsets = on_assign([(tp.topic, tp.partition) for tp in partitions])
            consumer.assign(
                [CTP(t, p, OFFSET_BEGINNING if o is None else o) for (t, p), o in offsets.items()]
            )

        def revoked(consumer, partitions) -> None:  # type: ignore[no-untyped-def]
            on_revoke([(tp.topic, tp.partition) for tp in partitions])
            consumer.unassign()

        self._consumer.subscribe(topics, on_assign=assigned, on_revoke=revoked)

    def poll(self, max_records: int, timeout_s: float) -> list[Message]:
        out: list[Message] = []
        for m in self._consumer.consume(num_messages=max_records, timeout=timeout_s):
            if m.error():
                log.warning("kafka: %s", m.error())
                continue
            kind, ts = m.timestamp()
            out.append(Message(m.topic(), m.partition(), m.offset(), m.value(), ts if kind else None))
        return out

    def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        from confluent_kafka import TopicPartition as CTP

        # librdkafka keeps each partition's high watermark from its fetch responses; asking the
        # broker costs a round trip per partition (~0.25 s on tansu), so only where none is cached
        out: dict[TopicPartition, int] = {}
        for tp in tps:
            high = self._consumer.get_watermark_offsets(CTP(*tp), cached=True)[1]
            if high < 0:
                high = self._consumer.get_watermark_offsets(CTP(*tp), timeout=10)[1]
            out[tp] = high
        return out

    def close(self) -> None:
        self._consumer.close()


class ConfluentProducer:
    def __init__(self, settings: Settings, bootstrap: str) -> None:
        from confluent_kafka import Producer as CProducer

        self._opts = _confluent_options(settings, bootstrap)
        self._producer = CProducer(
            {**self._opts, "linger.ms": 20, "acks": "all", "queue.buffering.max.messages": 1_000_000}
        )

    def create_topics(self, names: list[str], partitions: int) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient(self._opts)
        existing = set(admin.list_topics(timeout=10).topics)
        new = [
            NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names if n not in existing
        ]
        for name, fut in admin.create_topics(new).items() if new else []:
            try:
                fut.result()
            except Exception as exc:  # already exists is fine
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise RuntimeError(f"could not create topic {name}: {exc}") from exc

    def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key)
                return
            except BufferError:
                self._producer.poll(0.1)

    def flush(self) -> None:
        remaining = self._producer.flush(60)
        if remaining:
            raise RuntimeError(f"{remaining} messages were not delivered within 60 s")

    def close(self) -> None:
        self.flush()


def make_consumer(settings: Settings, bootstrap: str) -> Consumer:
    if settings.kafka_client == "confluent":
        return ConfluentConsumer(settings, bootstrap)
    return KafkaPythonConsumer(settings, bootstrap)


def make_producer(settings: Settings, bootstrap: str, client: str | None = None) -> Producer:
    if (client or settings.kafka_client) == "confluent":
        return ConfluentProducer(settings, bootstrap)
    return KafkaPythonProducer(settings, bootstrap)
