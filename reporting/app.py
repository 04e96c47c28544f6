"""`infomart serve`: the reports, the schema reference (dbt docs) at /docs and the data-quality
results (Great Expectations Data Docs) at /quality, in one small Starlette app.

The app reads through the read-only role of the project (macros/report_reader.sql) with
read-only sessions; every asset (plotly.js, the stylesheet, the dbt docs page, the Data Docs'
scripts) is served from this process, so pages render with no internet access.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from reporting import queries
from reporting.catalog import BY_SLUG, REPORTS, Column, Report
from reporting.charts import PLOTLY_JS, report_chart, timeline_chart
from reporting.filters import BY, LEVELS, FilterError, Filters, parse_filters

STATIC = Path(__file__).parent / "static"
CHOICE_FILTERS = {"queue": "Queue", "agent_group": "Agent group", "agent": "Agent", "media": "Media"}
SUBJECTS_SQL = "select subject_kind, subject_key, subject_name from reports.rpt_report_subjects order by 3"
MEDIA_SQL = "select media_type_key, media_name from infomart.media_type order by 1"
LATEST_DAY_SQL = "select max(interval_start_ts) from infomart.ag2_id_day"
#: rows a page shows (a list over a long range can have 100,000); the CSV has them all
MAX_SHOWN_ROWS = 2_000


@dataclass(frozen=True)
class ServeConfig:
    reader_dsn: str
    zone: ZoneInfo
    tenant: str
    service_level_target: float
    docs_dir: Path
    quality_dir: Path


class Unavailable(Exception):
    """The database cannot answer now (a relation is being rebuilt, or it is down)."""


def _connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(
        dsn, connect_timeout=10, options="-c default_transaction_read_only=on -c statement_timeout=60000"
    )


def _with_connection(dsn: str, work: Any) -> Any:
    """Runs ``work(conn)``; a relation missing while a build replaces it is retried once."""
    for attempt in (1, 2):
        try:
            with _connect(dsn) as conn:
                return work(conn)
        except psycopg.errors.UndefinedTable as exc:
            if attempt == 2:
                raise Unavailable(
                    f"a report table is being rebuilt or was never built ({exc.diag.message_primary});"
                    " reload in a moment, or run `infomart transform`"
                ) from exc
            time.sleep(1.0)
        except psycopg.OperationalError as exc:
            raise Unavailable(f"the database is not reachable: {exc}") from exc
    raise AssertionError("unreachable")


def _choices(conn: psycopg.Connection) -> dict[str, list[tuple[int, str]]]:
    kinds: dict[str, list[tuple[int, str]]] = {"queue": [], "agent": [], "agent_group": [], "media": []}
    for kind, key, name in conn.execute(SUBJECTS_SQL):
        kinds[kind].append((int(key), name or str(key)))
    kinds["media"] = [(int(k), n) for k, n in conn.execute(MEDIA_SQL)]
    return kinds


def _latest_day(conn: psycopg.Connection, zone: ZoneInfo) -> date:
    row = conn.execute(LATEST_DAY_SQL).fetchone()
    latest = row[0] if row else None
    return latest.astimezone(zone).date() if latest else datetime.now(zone).date()


@dataclass
class Page:
    """What a report page or its CSV shows."""

    report: Report
    filters: Filters
    columns: list[Any]
    rows: list[list[Any]]
    total: list[Any] | None
    chart: str
    seconds: float
    choices: dict[str, list[tuple[int, str]]]
    empty: str | None = None

    @property
    def shown_rows(self) -> list[list[Any]]:
        return self.rows[:MAX_SHOWN_ROWS]


def build_page(config: ServeConfig, report: Report, params: dict[str, str]) -> Page:
    """Runs the report for the query-string ``params`` (raises FilterError, Unavailable)."""

    def work(conn: psycopg.Connection) -> Page:
        filters = parse_filters(params, _latest_day(conn, config.zone))
        choices = _choices(conn)
        span = (
            f"{filters.date_from}"
            if filters.date_from == filters.date_to
            else f"{filters.date_from} to {filters.date_to}"
        )
        if report.kind == "timeline":
            return _timeline_page(conn, config, report, filters, choices, span)
        result = queries.run_report(conn, report, filters, config.zone)
        level = filters.level

        def shown(row: dict[str, Any]) -> list[Any]:
            return [queries.shown_value(c, row.get(c.name), level, config.zone) for c in result.columns]

        if not result.rows:
            empty = (
                f"No data for {span} ({config.zone.key}) with these filters:"
                " choose another date range or filter."
            )
            return Page(report, filters, list(result.columns), [], None, "", result.seconds, choices, empty)
        chart = report_chart(report, result, level, config.zone, config.service_level_target)
        total = shown(result.total) if result.total else None
        if total is not None:
            total[0] = "Total"
        return Page(
            report,
            filters,
            list(result.columns),
            [shown(r) for r in result.rows],
            total,
            chart,
            result.seconds,
            choices,
        )

    return _with_connection(config.reader_dsn, work)


def _timeline_page(
    conn: psycopg.Connection,
    config: ServeConfig,
    report: Report,
    filters: Filters,
    choices: dict[str, list[tuple[int, str]]],
    span: str,
) -> Page:
    started = time.monotonic()
    agent = (
        filters.agent
        if filters.agent is not None
        else queries.first_agent_with_states(conn, filters, config.zone)
    )
    if agent is not None and filters.agent is None:
        filters = replace(filters, agent=agent)
    spans = queries.agent_timeline(conn, agent, filters, config.zone) if agent is not None else []
    columns = [
        Column("lane", "Lane", "", "text"),
        Column("span_label", "State / reason", "", "text"),
        Column("start", "From", "", "text"),
        Column("end", "To", "", "text"),
        Column("seconds", "Duration (s)", "", "seconds"),
    ]
    seconds = time.monotonic() - started
    if not spans:
        empty = (
            f"No agent states on {filters.date_from} ({config.zone.key}) for this agent:"
            " choose another day or agent."
        )
        return Page(report, filters, columns, [], None, "", seconds, choices, empty)
    rows = [
        [
            s.lane,
            s.label + (" (open)" if s.open_ else ""),
            s.start.astimezone(config.zone).strftime("%H:%M:%S"),
            s.end.astimezone(config.zone).strftime("%H:%M:%S"),
            round(s.seconds),
        ]
        for s in spans
    ]
    state_ms = sum(round(s.seconds * 1000) for s in spans if s.lane.endswith("state"))
    total = ["Total (states)", "", "", "", round(state_ms / 1000)]
    return Page(report, filters, columns, rows, total, timeline_chart(spans, config.zone), seconds, choices)


def create_app(config: ServeConfig) -> Starlette:
    templates = Environment(loader=PackageLoader("reporting", "templates"), autoescape=select_autoescape())
    common = {"tenant": config.tenant, "zone": config.zone.key}

    def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**common, **context), status_code=status)

    async def index(request: Request) -> Response:
        return render("index.html", reports=REPORTS)

    def _report(request: Request) -> Report | None:
        return BY_SLUG.get(request.path_params["slug"])

    async def report_page(request: Request) -> Response:
        report = _report(request)
        if report is None:
            return render("message.html", status=404, title="No such report", message="See the report list.")
        params = dict(request.query_params)
        try:
            page = await run_in_threadpool(build_page, config, report, params)
        except (FilterError, Unavailable) as exc:
            today = datetime.now(config.zone).date()
            return render(
                "report.html",
                status=400 if isinstance(exc, FilterError) else 503,
                report=report,
                filters=Filters(today, today),
                levels=LEVELS,
                by=BY,
                choice_filters=[],
                error=str(exc),
            )
        choice_filters = [
            (name, label, page.choices[name], getattr(page.filters, name))
            for name, label in CHOICE_FILTERS.items()
            if name in report.filters
        ]
        return render(
            "report.html",
            report=report,
            filters=page.filters,
            levels=LEVELS,
            by=BY,
            choice_filters=choice_filters,
            empty=page.empty,
            chart=page.chart,
            columns=page.columns,
            rows=page.shown_rows,
            total=page.total,
            row_count=len(page.rows),
            shown_count=len(page.shown_rows),
            seconds=page.seconds,
            query=page.filters.query_string(),
        )

    async def report_csv(request: Request) -> Response:
        report = _report(request)
        if report is None:
            return Response("no such report\n", status_code=404, media_type="text/plain")
        try:
            page = await run_in_threadpool(build_page, config, report, dict(request.query_params))
        except (FilterError, Unavailable) as exc:
            return Response(f"{exc}\n", status_code=400 if isinstance(exc, FilterError) else 503)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([c.label for c in page.columns])
        writer.writerows(page.rows)
        if page.total:
            writer.writerow(page.total)
        name = f"{report.slug}_{page.filters.date_from}_{page.filters.date_to}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def plotly_js(request: Request) -> Response:
        return FileResponse(PLOTLY_JS, media_type="application/javascript")

    def folder(path: Path, what: str, command: str) -> Mount:
        """A generated site (dbt docs, Data Docs) served as files, or a page saying how to make it."""
        files = StaticFiles(directory=path, html=True, check_dir=False)

        async def site(scope: Any, receive: Any, send: Any) -> None:
            if (path / "index.html").is_file():
                await files(scope, receive, send)
                return
            page = render(
                "message.html",
                status=404,
                title=what,
                message=f"{path} is not generated yet: run `{command}`, then reload.",
            )
            await page(scope, receive, send)

        return Mount(f"/{what}", app=site, name=what)

    routes = [
        Route("/", index),
        Route("/reports/{slug}.csv", report_csv),
        Route("/reports/{slug}", report_page),
        Route("/static/plotly.min.js", plotly_js),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        Route("/docs", lambda request: RedirectResponse("/docs/")),
        Route("/quality", lambda request: RedirectResponse("/quality/")),
        folder(config.docs_dir, "docs", "infomart docs"),
        folder(config.quality_dir, "quality", "infomart quality"),
    ]
    return Starlette(routes=routes)
