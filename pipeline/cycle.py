"""The continuous loop of ``infomart run``: ingest what Kafka has, transform only what changed,
update the metrics, wait, repeat, until told to stop.

A cycle drains the Kafka topics into the raw tables, then runs dbt with ``only_changed`` (the
sources with new rows and everything downstream of them; nothing when no source has new rows).
A failed transform is reported and the loop goes on: the next cycle retries. The loop stops
after ``cycles`` cycles (0: never) or when the ingester's stop event is set, which
:func:`stop_on_signals` does on SIGTERM and SIGINT.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from infomart import metrics
from infomart.settings import Settings
from pipeline.transform import TransformError, TransformResult, transform

if TYPE_CHECKING:  # the CLI builds the ingester (and imports the Kafka clients) only when it runs
    from ingest.kafka_ingester import IngestStats, KafkaIngester


@dataclass(frozen=True)
class CycleReport:
    """What one cycle did: the events landed and the transform's result (or why it failed)."""

    number: int
    landed: IngestStats
    result: TransformResult | None
    error: TransformError | None
    seconds: float


def stop_on_signals(stop: threading.Event, on_signal: Callable[[], None] | None = None) -> None:
    """Set ``stop`` on SIGTERM and SIGINT (after calling ``on_signal``, e.g. to say so)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if on_signal is not None:
            on_signal()
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_cycles(
    settings: Settings,
    dsn: str,
    ingester: KafkaIngester,
    cycles: int = 0,
    tests: bool = False,
    on_cycle: Callable[[CycleReport], None] | None = None,
) -> int:
    """Run cycles until ``cycles`` are done (0: until ``ingester.stop`` is set); returns how many ran.

    Waits ``settings.cycle_seconds`` between cycles (cut short by the stop event). The ingester
    stays open: the caller closes it.
    """
    n = 0
    while not ingester.stop.is_set():
        n += 1
        started = time.monotonic()
        landed = ingester.run(until_drained=True)
        metrics.KAFKA_LAG.set(ingester.remaining())
        result: TransformResult | None = None
        error: TransformError | None = None
        try:
            result = transform(settings, dsn, tests=tests, only_changed=True)
        except TransformError as exc:
            error = exc
        else:
            metrics.CYCLES.inc()
            metrics.LAST_CYCLE_TS.set(time.time())
        if on_cycle is not None:
            on_cycle(CycleReport(n, landed, result, error, time.monotonic() - started))
        if cycles and n >= cycles:
            break
        ingester.stop.wait(settings.cycle_seconds)
    return n
