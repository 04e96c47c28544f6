"""Send simulated (or archived) events to Kafka, each on its topic with its key."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ingest.kafka_client import Producer
from simulator.emitter import Delivery

__all__ = ["Delivery", "publish"]


def publish(
    deliveries: Iterable[Delivery],
    producer: Producer,
    topic_names: dict[str, str],
    partitions: int = 4,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Create the topics if missing, send every delivery in order, flush. Returns counts per topic."""
    producer.create_topics(sorted(topic_names.values()), partitions)
    counts: dict[str, int] = {}
    for n, d in enumerate(deliveries, start=1):
        producer.send(topic_names[d.topic], d.key.encode(), d.value)
        counts[d.topic] = counts.get(d.topic, 0) + 1
        if progress and n % 5000 == 0:
            progress(5000)
    producer.flush()
    if progress:
        progress(sum(counts.values()) % 5000)
    return counts
