"""Start-up retries (infomart/retry.py): services wait for PostgreSQL and the broker, commands do not."""

from __future__ import annotations

import time

import psycopg
import pytest

from infomart.retry import wait_for


class Flaky:
    """Fails `failures` times with `error`, then answers."""

    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "up"


def test_retries_until_the_service_is_up() -> None:
    flaky = Flaky(2, psycopg.OperationalError("connection refused"))
    started = time.monotonic()
    assert wait_for("PostgreSQL", flaky, 30, retry_on=(psycopg.OperationalError,)) == "up"
    assert flaky.calls == 3
    assert 1.0 <= time.monotonic() - started < 10  # back-off 0.5 s, then 1 s


def test_no_wait_fails_at_once_with_the_error() -> None:
    flaky = Flaky(1, psycopg.OperationalError("connection refused"))
    with pytest.raises(psycopg.OperationalError, match="connection refused"):
        wait_for("PostgreSQL", flaky, 0, retry_on=(psycopg.OperationalError,))
    assert flaky.calls == 1


def test_other_errors_are_not_retried() -> None:
    flaky = Flaky(1, ValueError("bad setting"))
    with pytest.raises(ValueError, match="bad setting"):
        wait_for("PostgreSQL", flaky, 30, retry_on=(psycopg.OperationalError,))
    assert flaky.calls == 1


def test_gives_up_after_the_wait() -> None:
    flaky = Flaky(1000, psycopg.OperationalError("connection refused"))
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError):
        wait_for("PostgreSQL", flaky, 2, retry_on=(psycopg.OperationalError,))
    assert 2 <= time.monotonic() - started < 8
    assert 2 <= flaky.calls <= 5
