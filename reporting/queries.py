"""The SQL of a report over its view, and its result: detail rows, chart rows and the total.

One query per report: ``group by grouping sets`` gives the detail rows (every dimension), the
chart's rows (the chart's dimension alone) and the total row (nothing), each computed by the
same measure expressions from the summed parts of the chosen rows, so a total is never an
average of ratios.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from reporting.catalog import INTERVAL, Column, Report
from reporting.filters import Filters

Row = dict[str, Any]


@dataclass
class ReportResult:
    columns: tuple[Column, ...]  # dimensions then measures, in table order
    rows: list[Row]  # detail rows
    chart_rows: list[Row]  # one per value of the chart's dimension
    total: Row | None  # None when no row matched
    seconds: float = 0.0  # time of the query


def _filter_conditions(report: Report, filters: Filters, params: dict[str, Any]) -> list[str]:
    """The SQL conditions of the filters this report offers (those set)."""
    conditions = []
    agent_key = report.agent_column
    if "queue" in report.filters and filters.queue is not None:
        conditions.append("queue_key = %(queue)s")
        params["queue"] = filters.queue
    if "media" in report.filters and filters.media is not None:
        conditions.append("media_type_key = %(media)s")
        params["media"] = filters.media
    by = filters.by if "by" in report.filters else "agent"
    if "by" in report.filters:
        # an agent chosen: that agent's rows, whatever the 'by'
        by = "agent" if filters.agent is not None else filters.by
        conditions.append("subject_kind = %(by)s")
        params["by"] = by
    if "agent" in report.filters and filters.agent is not None:
        conditions.append(f"{agent_key} = %(agent)s")
        params["agent"] = filters.agent
    if "agent_group" in report.filters and filters.agent_group is not None:
        params["agent_group"] = filters.agent_group
        if by == "agent_group":
            conditions.append(f"{agent_key} = %(agent_group)s")
        else:
            conditions.append(
                f"{agent_key} in (select members.resource_key from reports.rpt_agent_group_members as members"
                " where members.group_key = %(agent_group)s and coalesce(members.start_ts < %(to_ts)s, true)"
                " and coalesce(members.end_ts > %(from_ts)s, true))"
            )
    return conditions


def report_sql(report: Report, filters: Filters, zone: ZoneInfo) -> tuple[sql.Composed, dict[str, Any]]:
    """The query of an aggregate or list report and its parameters."""
    from_ts, to_ts = filters.span(zone)
    params: dict[str, Any] = {"from_ts": from_ts, "to_ts": to_ts}
    if report.kind == "aggregate":
        conditions = [
            "report_level = %(level)s",
            "date_time_key >= %(from_key)s",
            "date_time_key < %(to_key)s",
        ]
        params |= {
            "level": filters.level,
            "from_key": int(from_ts.timestamp()),
            "to_key": int(to_ts.timestamp()),
        }
    else:
        conditions = ["start_ts >= %(from_ts)s", "start_ts < %(to_ts)s"]
    conditions.append(report.where)
    conditions += _filter_conditions(report, filters, params)

    dims = report.dimensions
    dim_sql = [sql.SQL(d.sql) for d in dims]
    chart_dims = [sql.SQL(d.sql) for d in dims if d.name == report.chart.over]
    sets = [sql.SQL("({})").format(sql.SQL(", ").join(dim_sql))]
    if chart_dims and len(dims) > 1:
        sets.append(sql.SQL("({})").format(chart_dims[0]))
    sets.append(sql.SQL("()"))
    selected = [
        sql.SQL("{} as {}").format(s, sql.Identifier(d.name)) for s, d in zip(dim_sql, dims, strict=True)
    ]
    selected += [sql.SQL("{} as {}").format(sql.SQL(m.sql), sql.Identifier(m.name)) for m in report.measures]
    selected.append(sql.SQL("grouping({}) as grouping_set").format(sql.SQL(", ").join(dim_sql)))
    query = sql.SQL(
        "select {selected} from {view} where {where}"
        " group by grouping sets ({sets}) order by grouping_set, {order}"
    ).format(
        selected=sql.SQL(", ").join(selected),
        view=sql.Identifier("reports", report.view),
        where=sql.SQL(" and ").join(sql.SQL(c) for c in conditions),
        sets=sql.SQL(", ").join(sets),
        order=sql.SQL(report.order or ", ".join(str(i + 1) for i in range(len(dims)))),
    )
    return query, params


def _plain(value: Any) -> Any:
    """Decimals (PostgreSQL numeric) as int when whole, else float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def run_report(conn: psycopg.Connection, report: Report, filters: Filters, zone: ZoneInfo) -> ReportResult:
    """Runs an aggregate or list report: detail rows, chart rows, total."""
    query, params = report_sql(report, filters, zone)
    started = time.monotonic()
    cur = conn.execute(query, params)
    names = [c.name for c in cur.description or []]
    all_rows = [{k: _plain(v) for k, v in zip(names, r, strict=True)} for r in cur.fetchall()]
    seconds = time.monotonic() - started
    full = (1 << len(report.dimensions)) - 1
    rows = [r for r in all_rows if r["grouping_set"] == 0]
    totals = [r for r in all_rows if r["grouping_set"] == full]
    total = totals[0] if totals and rows else None
    if len(report.dimensions) == 1:
        chart_rows = rows
    else:
        chart_rows = [r for r in all_rows if r["grouping_set"] not in (0, full)]
    for measure in report.measures:
        if measure.share_of and total is not None:
            whole = total[measure.share_of] or 0
            for r in [*rows, *chart_rows, total]:
                part = Decimal(100 * (r[measure.share_of] or 0))
                r[measure.name] = _plain(round(part / Decimal(whole), 1)) if whole else None
    for r in [*rows, *chart_rows, *([total] if total else [])]:
        r.pop("grouping_set", None)
    return ReportResult(report.dimensions + report.measures, rows, chart_rows, total, seconds)


def interval_label(value: datetime, level: str, zone: ZoneInfo) -> str:
    """An interval start shown in the reporting time zone at the report's level."""
    local = value.astimezone(zone)
    if level in ("subhr", "hour"):
        return local.strftime("%Y-%m-%d %H:%M")
    if level == "day":
        return local.strftime("%Y-%m-%d")
    if level == "week":
        return "week of " + local.strftime("%Y-%m-%d")
    return local.strftime("%Y-%m")


def shown_value(column: Column, value: Any, level: str, zone: ZoneInfo) -> Any:
    """A cell as the table and the CSV show it: intervals and instants in the reporting time zone."""
    if value is None:
        return ""
    if column.name == INTERVAL.name and isinstance(value, datetime):
        return interval_label(value, level, zone)
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    return value


# ---------------------------------------------------------------- Agent State Details
@dataclass
class Span:
    lane: str
    label: str
    start: datetime
    end: datetime
    open_: bool

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


TIMELINE_SQL = """
select lane_kind, media_name, span_label, start_ts, end_ts
from reports.rpt_agent_state_details
where agent_key = %(agent)s and start_ts < %(day_end)s and coalesce(end_ts > %(day_start)s, true)
order by lane_kind desc, media_name, start_ts
"""
# the facts' data horizon: the latest state instant, read off the last day of states (index range)
HORIZON_SQL = """
select greatest(max(start_ts), max(end_ts)) from infomart.sm_res_state_fact
where start_ts >= (select max(start_ts) from infomart.sm_res_state_fact) - interval '1 day'
"""


def first_agent_with_states(conn: psycopg.Connection, filters: Filters, zone: ZoneInfo) -> int | None:
    day_start, day_end = filters.first_day(zone)
    row = conn.execute(
        "select agent_key from reports.rpt_agent_state_details"
        " where start_ts < %s and coalesce(end_ts > %s, true) order by agent_name limit 1",
        (day_end, day_start),
    ).fetchone()
    return None if row is None else int(row[0])


def agent_timeline(conn: psycopg.Connection, agent: int, filters: Filters, zone: ZoneInfo) -> list[Span]:
    """The state and reason spans of one agent on ``filters.date_from``, clipped to that local day;
    an open span runs to the facts' data horizon (the latest state instant landed)."""
    day_start, day_end = filters.first_day(zone)
    found = conn.execute(
        TIMELINE_SQL, {"agent": agent, "day_start": day_start, "day_end": day_end}
    ).fetchall()
    data_horizon = day_end
    if any(end is None for *_, end in found):  # an open span runs to the horizon
        row = conn.execute(HORIZON_SQL).fetchone()
        data_horizon = (row[0] if row else None) or day_end
    spans = []
    for lane_kind, media, label, start, end in found:
        lane = f"{media} state" if lane_kind == "state" else f"{media} reason"
        shown_end = min(end or data_horizon, day_end)
        shown_start = max(start, day_start)
        if shown_end > shown_start:
            spans.append(Span(lane, label, shown_start, shown_end, end is None))
    return spans
