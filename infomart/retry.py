"""Start-up retries: wait for PostgreSQL and the broker to come up instead of failing at once.

A service (``infomart run``, ``infomart ingest kafka --follow``) is often started together with its
database and broker; it retries the first connection with exponential back-off (0.5 s doubling up
to 5 s) for ``INFOMART_STARTUP_WAIT_SECONDS``, logging every failed attempt, then gives up with the
last error. One-shot commands do not wait (0 seconds): a wrong DSN is reported at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

__all__ = ["backoff_seconds", "wait_for"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def wait_for(
    what: str,
    attempt: Callable[[], T],
    seconds: float,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
) -> T:
    """``attempt()``, retried on `retry_on` for up to `seconds` (0: once); re-raises the last error."""

    def tell(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning("%s is not reachable yet (attempt %d): %s; retrying", what, state.attempt_number, error)

    retrying = Retrying(
        stop=stop_after_delay(seconds) if seconds > 0 else stop_after_attempt(1),
        wait=wait_exponential(multiplier=0.5, max=5),
        retry=retry_if_exception_type(retry_on),
        before_sleep=tell,
        reraise=True,
    )
    return retrying(attempt)


@dataclass(frozen=True)
class _Attempt:
    attempt_number: int  # what tenacity's wait strategies read of a retry state


def backoff_seconds(failures_in_a_row: int, max_seconds: float) -> float:
    """The pause after the n-th failure in a row of a long-running loop: 1 s, doubling, up to
    ``max_seconds`` (tenacity's exponential wait; ``infomart run``, ``ingest kafka --follow``, the
    config adapter)."""
    wait = wait_exponential(multiplier=1, max=max_seconds)
    return float(wait(_Attempt(max(1, failures_in_a_row))))  # type: ignore[arg-type]
