"""The filters of a report, read from the URL's query string and checked.

Dates are local dates of the reporting time zone; the range ``date_from`` .. ``date_to`` is
inclusive and becomes the UTC instants of the first local midnight and of the local midnight
after the last day. A report shows the intervals that start in that span (a week or a month
shows when it starts in the range).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

LEVELS: dict[str, str] = {
    "subhr": "Quarter hour",
    "hour": "Hour",
    "day": "Day",
    "week": "Week",
    "month": "Month",
}
BY: dict[str, str] = {"agent": "Agent", "agent_group": "Agent group"}
MAX_DAYS = 400


class FilterError(ValueError):
    """A filter value is wrong; the message says which and what is allowed."""


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date
    level: str = "subhr"
    queue: int | None = None
    agent_group: int | None = None
    agent: int | None = None
    media: int | None = None
    by: str = "agent"

    def span(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants of the local midnight starting ``date_from`` and ending ``date_to``."""
        start = datetime.combine(self.date_from, time(), zone).astimezone(UTC)
        end = datetime.combine(self.date_to + timedelta(days=1), time(), zone).astimezone(UTC)
        return start, end

    def first_day(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants of the local midnights starting and ending ``date_from`` (23 or 25
        hours apart on a DST day)."""
        return replace(self, date_to=self.date_from).span(zone)

    def query_string(self, **changes: object) -> str:
        """The URL query of these filters (with ``changes``), so a link reproduces the view."""
        shown = replace(self, **changes)  # type: ignore[arg-type]
        params = {
            "from": shown.date_from.isoformat(),
            "to": shown.date_to.isoformat(),
            "level": shown.level,
            "by": shown.by,
            **{k: getattr(shown, k) for k in ("queue", "agent_group", "agent", "media")},
        }
        return urlencode({k: v for k, v in params.items() if v is not None})


def _int(params: dict[str, str], name: str) -> int | None:
    value = params.get(name, "").strip()
    if value in ("", "all"):
        return None
    try:
        return int(value)
    except ValueError:
        raise FilterError(f"{name}={value!r}: expected a key (an integer) or 'all'") from None


def _date(params: dict[str, str], name: str, default: date) -> date:
    value = params.get(name, "").strip()
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name}={value!r}: expected a date as YYYY-MM-DD") from None


def parse_filters(params: dict[str, str], default_day: date) -> Filters:
    """The filters of a query string; missing dates default to ``default_day`` (the latest day
    with data), a missing level to quarter hours."""
    date_from = _date(params, "from", default_day)
    date_to = _date(params, "to", date_from)
    if date_to < date_from:
        raise FilterError(f"to={date_to} is before from={date_from}")
    if (date_to - date_from).days >= MAX_DAYS:
        raise FilterError(f"the date range is longer than {MAX_DAYS} days; choose a shorter one")
    level = params.get("level", "subhr") or "subhr"
    if level not in LEVELS:
        raise FilterError(f"level={level!r}: one of {', '.join(LEVELS)}")
    by = params.get("by", "agent") or "agent"
    if by not in BY:
        raise FilterError(f"by={by!r}: one of {', '.join(BY)}")
    return Filters(
        date_from=date_from,
        date_to=date_to,
        level=level,
        queue=_int(params, "queue"),
        agent_group=_int(params, "agent_group"),
        agent=_int(params, "agent"),
        media=_int(params, "media"),
        by=by,
    )
