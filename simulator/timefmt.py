"""Integer milliseconds since the epoch <-> the contract's ``YYYY-MM-DDTHH:MM:SS.mmmZ`` text.

The simulator keeps time as integer milliseconds everywhere, so every duration is exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_EPOCH_DATE = date(1970, 1, 1)
_DAYS: dict[int, str] = {}

MS_PER_S = 1000
MS_PER_MIN = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000


_SECONDS: dict[int, str] = {}


def ts_str(ms: int) -> str:
    """Format epoch milliseconds as ``2026-11-23T10:00:00.123Z`` (fast: the second's text is cached)."""
    sec, milli = divmod(ms, 1000)
    head = _SECONDS.get(sec)
    if head is None:
        if len(_SECONDS) > 200_000:
            _SECONDS.clear()
        day, rem = divmod(sec, 86_400)
        d = _DAYS.get(day)
        if d is None:
            d = (_EPOCH_DATE + timedelta(days=day)).isoformat()
            _DAYS[day] = d
        h, s = divmod(rem, 3600)
        m, s = divmod(s, 60)
        head = f"{d}T{h:02d}:{m:02d}:{s:02d}."
        _SECONDS[sec] = head
    return f"{head}{milli:03d}Z"


def ts_opt(ms: int | None) -> str | None:
    return None if ms is None else ts_str(ms)


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime (exact, no float rounding)."""
    delta = dt.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def parse_ts(text: str) -> int:
    """Inverse of :func:`ts_str`."""
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return to_ms(dt)
