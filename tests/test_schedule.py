"""The scheduler of `infomart run` (pipeline/schedule.py) with a fake clock: each job runs at its
cron times and only then, a failed job is retried later and never stops the others, the server
state shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infomart.settings import SettingsError, load_settings
from pipeline.schedule import ScheduledJob, Scheduler


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def run_day(scheduler: Scheduler, clock: Clock, minutes: int = 24 * 60, step: int = 1) -> None:
    for _ in range(0, minutes, step):
        clock.now += timedelta(minutes=step)
        scheduler.tick()


def test_export_runs_at_gims_default_times_and_only_then() -> None:
    clock = Clock(datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    ran: list[datetime] = []
    job = ScheduledJob("export", "20 0/8 * * *", lambda: ran.append(clock.now))
    run_day(Scheduler([job], clock), clock)
    assert ran == [
        datetime(2026, 12, 3, 8, 20, tzinfo=UTC),
        datetime(2026, 12, 3, 16, 20, tzinfo=UTC),
        datetime(2026, 12, 4, 0, 20, tzinfo=UTC),
    ]


def test_a_late_cycle_runs_a_job_once_for_the_time_it_missed() -> None:
    clock = Clock(datetime(2026, 12, 3, 8, 0, tzinfo=UTC))
    ran: list[datetime] = []
    scheduler = Scheduler([ScheduledJob("export", "20 0/8 * * *", lambda: ran.append(clock.now))], clock)
    clock.now = datetime(2026, 12, 3, 9, 5, tzinfo=UTC)  # a long cycle: 08:20 passed meanwhile
    scheduler.tick()
    scheduler.tick()
    assert ran == [datetime(2026, 12, 3, 9, 5, tzinfo=UTC)]


def test_schedule_in_the_reporting_time_zone() -> None:
    clock = Clock(datetime(2026, 12, 3, 0, 0, tzinfo=UTC))
    ran: list[datetime] = []
    job = ScheduledJob(
        "maintenance", "30 2 * * *", lambda: ran.append(clock.now), time_zone="America/New_York"
    )
    run_day(Scheduler([job], clock), clock, minutes=24 * 60, step=5)
    assert ran == [datetime(2026, 12, 3, 7, 30, tzinfo=UTC)]  # 02:30 EST


def test_a_failed_job_is_retried_later_and_never_stops_the_others() -> None:
    clock = Clock(datetime(2026, 12, 3, 8, 0, tzinfo=UTC))
    calls: list[tuple[str, datetime]] = []

    def export() -> None:
        calls.append(("export", clock.now))
        if len([c for c in calls if c[0] == "export"]) <= 2:
            raise ConnectionError("S3 unreachable")

    jobs = [
        ScheduledJob("export", "20 0/8 * * *", export, retry_seconds=300),
        ScheduledJob("quality", "20 * * * *", lambda: calls.append(("quality", clock.now))),
    ]
    scheduler = Scheduler(jobs, clock)
    run_day(scheduler, clock, minutes=60)
    # 08:20 failed: retried 5 minutes later (failed again), then 10 minutes after that
    assert [t for name, t in calls if name == "export"] == [
        datetime(2026, 12, 3, 8, 20, tzinfo=UTC),
        datetime(2026, 12, 3, 8, 25, tzinfo=UTC),
        datetime(2026, 12, 3, 8, 35, tzinfo=UTC),
    ]
    assert ("quality", datetime(2026, 12, 3, 8, 20, tzinfo=UTC)) in calls  # ran beside the failure
    assert jobs[0].last_outcome == "succeeded" and scheduler.failures_in_a_row() == 0
    assert [o for _, o in jobs[0].runs] == ["failed", "failed", "succeeded"]


def test_failures_in_a_row_count_for_the_server_state() -> None:
    clock = Clock(datetime(2026, 12, 3, 8, 0, tzinfo=UTC))

    def boom() -> None:
        raise RuntimeError("down")

    scheduler = Scheduler([ScheduledJob("export", "* * * * *", boom, retry_seconds=60)], clock)
    seen = []
    for _ in range(6):
        clock.now += timedelta(minutes=5)
        scheduler.tick()
        seen.append(scheduler.failures_in_a_row())
    assert seen == [1, 2, 3, 4, 5, 6]


def test_a_bad_cron_expression_stops_at_start_with_what_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOMART_EXPORT_SCHEDULE", "20 0/8 * *")
    with pytest.raises(SettingsError, match=r"INFOMART_EXPORT_SCHEDULE.*not a cron expression"):
        load_settings()
