"""The chart of a report, drawn with Plotly from the same rows as its table.

The page loads plotly.js from the server itself (``/static/plotly.min.js``, the file shipped in
the plotly wheel), so a chart renders with no internet access.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import plotly
import plotly.graph_objects as go

from reporting.catalog import Report
from reporting.queries import ReportResult, Span, shown_value

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 30, "b": 80},
    "height": 380,
    "legend": {"orientation": "h", "y": 1.12},
    "template": "plotly_white",
}


def _html(fig: go.Figure, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False})


def report_chart(
    report: Report, result: ReportResult, level: str, zone: ZoneInfo, target_percent: float
) -> str:
    """The chart of an aggregate or list report (an HTML div), from ``result.chart_rows``."""
    over = next(c for c in result.columns if c.name == report.chart.over)
    xs = [str(shown_value(over, r[over.name], level, zone)) for r in result.chart_rows]
    by_name = {c.name: c for c in result.columns}
    fig = go.Figure()
    for name in report.chart.measures:
        column = by_name[name]
        ys = [r[name] for r in result.chart_rows]
        if report.chart.style == "line":
            fig.add_trace(go.Scatter(x=xs, y=ys, name=column.label, mode="lines+markers"))
        else:
            fig.add_trace(go.Bar(x=xs, y=ys, name=column.label))
    if report.chart.style == "stacked":
        fig.update_layout(barmode="stack")
    if report.chart.target_line:
        fig.add_hline(
            y=target_percent,
            line_dash="dash",
            line_color="firebrick",
            annotation_text=f"target {target_percent:g}%",
            annotation_position="top left",
        )
        fig.update_yaxes(range=[0, 105], title="%")
    fig.update_layout(**LAYOUT, xaxis={"type": "category", "title": over.label})
    return _html(fig, "report-chart")


STATE_COLORS = {
    "Ready": "#2e7d32",
    "NotReady": "#c62828",
    "Busy": "#1565c0",
    "AfterCallWork": "#f9a825",
    "LoggedOut": "#9e9e9e",
}


def timeline_chart(spans: list[Span], zone: ZoneInfo) -> str:
    """Agent State Details: one horizontal bar per span on its lane, over the day's clock."""
    fig = go.Figure()
    for label in sorted({s.label for s in spans}):
        mine = [s for s in spans if s.label == label]
        fig.add_trace(
            go.Bar(
                orientation="h",
                name=label,
                y=[s.lane for s in mine],
                base=[s.start.astimezone(zone).replace(tzinfo=None).isoformat() for s in mine],
                x=[s.seconds * 1000 for s in mine],
                marker_color=STATE_COLORS.get(label),
                hovertext=[
                    f"{label}: {s.start.astimezone(zone):%H:%M:%S} - {s.end.astimezone(zone):%H:%M:%S}"
                    f" ({s.seconds:.0f} s{', open' if s.open_ else ''})"
                    for s in mine
                ],
                hoverinfo="text",
            )
        )
    fig.update_layout(**LAYOUT, barmode="overlay", xaxis={"type": "date", "title": "time"})
    return _html(fig, "report-chart")
