"""The continuous loop of ``infomart run``: ingest what Kafka has, transform only what changed,
update the metrics, wait, repeat, until told to stop.

A cycle drains the Kafka topics into the raw tables, then runs dbt with ``only_changed`` (the
sources with new rows and everything downstream of them; nothing when no source has new rows).
No failure stops the loop: an outage of PostgreSQL or the broker (the ingester then reconnects at
the offsets stored with the rows, so nothing is lost or landed twice), a failed transform, any
error of a step, is reported with its step and the loop goes on, waiting 1 s after the first
failure in a row, doubling up to ``outage_retry_max_seconds`` (tenacity's exponential wait), at
least ``cycle_seconds``. ``gim_server_state`` says how it goes (0 starting, 1 running, -1, -2, -3
failing once, twice, three or more times in a row). With
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
from infomart.logs import log_context
from infomart.retry import backoff_seconds
from infomart.settings import Settings
from pipeline import control, gdpr
from pipeline.schedule import Scheduler
from pipeline.transform import TransformResult, transform

if TYPE_CHECKING:  # the CLI builds the ingester (and imports the Kafka clients) only when it runs
    from ingest.kafka_ingester import IngestStats, KafkaIngester
    from quality.run import QualityResult

log = logging.getLogger(__name__)
#: the least pause after a cycle that found nothing new (with cycle_seconds 0)
IDLE_PAUSE_SECONDS = 1.0


@dataclass(frozen=True)
class CycleReport:
    """What one cycle did: the events landed and the transform's result, or the step that failed
    (``ingest`` or ``transform``), why, and the pause before the next cycle."""

    number: int
    landed: IngestStats | None
    result: TransformResult | None
    error: Exception | None
    seconds: float
    failed_step: str | None = None
    failures_in_a_row: int = 0
    next_in_seconds: float = 0.0


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

            with control.job(self.dsn, "quality") as run:  # CTL_ETL_HISTORY: a crash is a failed run
                result = run_quality(self.settings, self.dsn)
                run.row_count = result.evaluated
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
    scheduler: Scheduler | None = None,
) -> int:
    """Run cycles until ``cycles`` are done (0: until ``ingester.stop`` is set); returns how many ran.

    Waits ``settings.cycle_seconds`` between cycles, longer after failures (cut short by the stop
    event). A failed cycle counts as a cycle. The ingester stays open: the caller closes it.
    """
    n, failures = 0, 0
    quality = QualitySchedule(settings, dsn)
    metrics.GIM_SERVER_STATE.set(0)
    while not ingester.stop.is_set():
        n += 1
        started = time.monotonic()
        with log_context(cycle=n):
            landed, result, error, step = _one_cycle(settings, dsn, ingester, tests)
        failures = failures + 1 if error is not None else 0
        metrics.GIM_SERVER_STATE.set(-min(failures, 3) if failures else 1)
        pause = float(settings.cycle_seconds)
        if error is None and landed is not None and landed.total + landed.rejects == 0:
            pause = max(pause, IDLE_PAUSE_SECONDS)
        if error is not None:
            metrics.CYCLE_FAILURES.labels(step).inc()
            pause = max(pause, backoff_seconds(failures, settings.outage_retry_max_seconds))
            log.warning(
                "cycle %d: %s failed (%d in a row): %s; next cycle in %.0f s", n, step, failures, error, pause
            )
        else:
            metrics.CYCLES.inc()
            metrics.LAST_CYCLE_TS.set(time.time())
        if on_cycle is not None:
            on_cycle(CycleReport(n, landed, result, error, time.monotonic() - started, step, failures, pause))
        if error is None:
            quality.after_cycle()
            gdpr.purge_expired(dsn, settings.gdpr_history_retention_days)
        if scheduler is not None:
            with log_context(cycle=n):
                scheduler.tick()  # the export (and any job on a cron schedule); a failure never stops us
            # a scheduled job failing in a row counts in the server state as a failing cycle does
            worst = max(failures, scheduler.failures_in_a_row())
            metrics.GIM_SERVER_STATE.set(-min(worst, 3) if worst else 1)
        if cycles and n >= cycles:
            break
        ingester.stop.wait(pause)
    return n


def _one_cycle(
    settings: Settings, dsn: str, ingester: KafkaIngester, tests: bool
) -> tuple[IngestStats | None, TransformResult | None, Exception | None, str | None]:
    """Ingest, then transform; (landed, result, error, the step that failed)."""
    try:
        with control.job(dsn, "ingest") as run:
            # a bounded slice, reconnecting first after an outage
            landed = ingester.run(until_drained=True, slice_seconds=settings.ingest_slice_seconds)
            run.row_count = landed.total + landed.rejects
        lags = ingester.partition_lags()
        metrics.KAFKA_LAG.set(sum(lags.values()))
        metrics.RECORDS_LAG_MAX.set(max(lags.values(), default=0))
    except Exception as exc:  # an outage, or anything else: reported, retried, never fatal
        log.debug("ingest failed", exc_info=True)
        return None, None, exc, "ingest"
    try:
        result = transform(settings, dsn, tests=tests, only_changed=True)
    except Exception as exc:
        log.debug("transform failed", exc_info=True)
        return landed, None, exc, "transform"
    return landed, result, None, None
