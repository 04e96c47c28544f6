"""The scheduled jobs of ``infomart run`` besides the transform of every cycle: each has a cron
expression (croniter) in the reporting time zone, runs after the first cycle that ends at or past
its next due time, and is never run twice for the same due time. Jobs run one after the other on
the loop's thread, so two of them (the export and the maintenance) never run at the same time.

A job that fails (it raises) is logged and recorded by the job itself in CTL_ETL_HISTORY (and
``gim_failed_jobsteps``); it is retried after ``retry_seconds`` (doubling, at most its next due
time) rather than waiting for its next due time, and never stops the loop or another job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

log = logging.getLogger(__name__)


@dataclass
class ScheduledJob:
    """One job: its name, cron expression, and what to run."""

    name: str
    cron: str
    run: Callable[[], object]
    time_zone: str = "UTC"
    retry_seconds: float = 300.0
    next_due: datetime | None = None
    failures: int = 0
    last_outcome: str | None = None  # "succeeded" / "failed"
    runs: list[tuple[datetime, str]] = field(default_factory=list)  # (when, outcome), the last 20

    def _next_after(self, when: datetime) -> datetime:
        zone = ZoneInfo(self.time_zone)
        return croniter(self.cron, when.astimezone(zone)).get_next(datetime).astimezone(UTC)

    def start(self, now: datetime) -> None:
        self.next_due = self._next_after(now)

    def tick(self, now: datetime) -> str | None:
        """Run the job if it is due at ``now``; its outcome, or None when not due."""
        if self.next_due is None:
            self.start(now)
        assert self.next_due is not None
        if now < self.next_due:
            return None
        try:
            self.run()
        except Exception as exc:  # a job never stops the loop
            self.failures += 1
            retry = timedelta(seconds=self.retry_seconds * 2 ** (self.failures - 1))
            self.next_due = min(now + retry, self._next_after(now))
            log.warning(
                "%s failed (%d in a row): %s; retried at %s", self.name, self.failures, exc, self.next_due
            )
            outcome = "failed"
        else:
            self.failures = 0
            self.next_due = self._next_after(now)
            outcome = "succeeded"
        self.last_outcome = outcome
        self.runs = [*self.runs[-19:], (now, outcome)]
        return outcome


class Scheduler:
    """The scheduled jobs, ticked after every cycle with the current time (a fake clock in tests)."""

    def __init__(self, jobs: list[ScheduledJob], clock: Callable[[], datetime] | None = None) -> None:
        self.jobs = jobs
        self.clock = clock or (lambda: datetime.now(UTC))
        now = self.clock()
        for job in jobs:
            job.start(now)

    def tick(self) -> dict[str, str]:
        """Run every due job, one after the other; job name -> outcome of those that ran."""
        now = self.clock()
        outcomes = {}
        for job in self.jobs:
            outcome = job.tick(now)
            if outcome is not None:
                outcomes[job.name] = outcome
        return outcomes

    def failures_in_a_row(self) -> int:
        """The most failures in a row of any job (0: the last run of each succeeded)."""
        return max((job.failures for job in self.jobs), default=0)
