"""The continuous loop of ``infomart run``: ingest what Kafka has, transform only what changed,
update the metrics, wait, repeat, until told to stop.

A cycle drains the Kafka topics into the raw tables, then runs dbt with ``only_changed`` (the
sources with new rows and everything downstream of them; nothing when no source has new rows).
A failed transform is reported and the loop goes on: the next cycle retries. With
``quality_every_minutes`` set, the data-quality checkpoint runs after a cycle when that many
minutes have passed since its last run (:class:`QualitySchedule`); a failing or crashing quality
run is logged and never stops the loop. The loop stops
after ``cycles`` cycles (0: never) or when the ingester's stop event is set, which
:func:`stop_on_signals` does on SIGTERM and SIGINT.
"""

from __future__ import annotations

import logging
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
    from quality.run import QualityResult

log = logging.getLogger(__name__)


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


class QualitySchedule:
    """The data-quality checkpoint after a cycle, every ``settings.quality_every_minutes`` (0: never)."""

    def __init__(self, settings: Settings, dsn: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.dsn, self.clock = settings, dsn, clock
        self.last: float | None = None

    def after_cycle(self) -> QualityResult | None:
        """Runs the checkpoint when it is due; its result, or None (not due, or it crashed: logged)."""
        minutes = self.settings.quality_every_minutes
        now = self.clock()
        if not minutes or (self.last is not None and now - self.last < minutes * 60):
            return None
        self.last = now
        try:
            from quality.run import run_quality  # Great Expectations loads only when quality runs

            result = run_quality(self.settings, self.dsn)
        except Exception:
            log.exception("data quality: the run crashed; the loop goes on")
            return None
        if result.success:
            log.info("data quality: %d expectations passed (%s)", result.evaluated, result.index)
        else:
            failed = "; ".join(str(f) for f in result.failures)
            log.warning(
                "data quality: %d expectation(s) failed: %s (%s)", result.failed, failed, result.index
            )
        return result


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
    quality = QualitySchedule(settings, dsn)
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
        quality.after_cycle()
        if cycles and n >= cycles:
            break
        ingester.stop.wait(settings.cycle_seconds)
    return n
