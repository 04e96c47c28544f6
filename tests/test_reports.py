"""The reports of `infomart serve`, in a real browser (Debian's headless Chromium) on a simulated
demo mart: every report renders a chart and a table whose numbers equal the aggregates' SQL, the
CSV equals the table, filters change the rows, links reproduce a view, an empty range says so,
the server reads through the read-only role, and /docs and /quality load. Screenshots are saved
in tests/artifacts/."""

from __future__ import annotations

import csv
import io
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cli.serve import serve_config
from infomart.settings import Settings
from pipeline.docs import generate_docs
from pipeline.transform import transform
from quality.run import run_quality
from reporting.app import create_app
from reporting.catalog import REPORTS
from simulator import SimulationConfig, simulate, write_ndjson
from tests.browser import chromium_page, off_loopback, screenshot, served
from tests.helpers import configure_through_adapter, land_folder, module_database, with_topics_of_its_own

pytestmark = pytest.mark.slow
DAY = "2026-11-23"  # the simulator's day
DAY_START = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())
DAY_END = DAY_START + 86_400


@dataclass
class Mart:
    settings: Settings
    dsn: str
    url: str


@pytest.fixture(scope="module")
def cfg_database(pg_server: str) -> Iterator[str]:
    name = f"cfg_rpt_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield make_conninfo(**{**conninfo_to_dict(pg_server), "dbname": name})
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def mart(
    pg_server: str, kafka_bootstrap: str, cfg_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Mart]:
    """The demo's contact center (3 h, 15 agents, configuration changes and per-queue thresholds)
    configured through the Configuration Database, landed, built, documented, and served."""
    home = tmp_path_factory.mktemp("reports-home")
    for base in module_database(pg_server, home, "t_rpt"):
        settings = with_topics_of_its_own(base, kafka_bootstrap)
        dsn: str = settings.pg_dsn  # type: ignore[assignment]
        result = simulate(
            SimulationConfig(seed=1, agents=15, duration_hours=3, config_changes=True, queue_thresholds=True)
        )
        configure_through_adapter(settings, cfg_database, result.config_changes)
        write_ndjson(result, home / "archive")
        land_folder(settings, home / "archive")
        # a cycle's transform: with no saved state it builds everything (and saves the state the
        # partial cycle of the last test compares with)
        assert transform(settings, dsn, tests=False, only_changed=True).success
        generate_docs(settings, dsn)
        assert run_quality(settings, dsn).failed == 0
        with served(create_app(serve_config(settings, dsn))) as url:
            yield Mart(settings, dsn, url)


@pytest.fixture(scope="module")
def page(mart: Mart) -> Iterator[Any]:
    with chromium_page() as p:
        yield p


def _sql(mart: Mart, query: str, *args: Any) -> Any:
    """One value; numeric as int (whole) or float."""
    with psycopg.connect(mart.dsn) as conn:
        value = conn.execute(query, args or None).fetchone()[0]  # type: ignore[index]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _open(page: Any, mart: Mart, path: str) -> None:
    page.requested.clear()
    page.goto(mart.url + path)
    page.wait_for_load_state("networkidle")


def _total(page: Any, column: str) -> str:
    return page.locator(f'#report-total td[data-column="{column}"]').inner_text()


def _table(page: Any) -> list[list[str]]:
    """The report table as the browser shows it: the header, the rows and the total."""
    header = [c.strip() for c in page.locator("#report-table thead th").all_inner_texts()]
    rows = [
        [c.strip() for c in row.locator("td").all_inner_texts()]
        for row in page.locator("#report-table tbody tr, #report-table tfoot tr").all()
    ]
    return [header, *rows]


# ------------------------------------------------------------------ every report renders
@pytest.mark.parametrize("report", REPORTS, ids=[r.slug for r in REPORTS])
def test_every_report_renders_a_chart_and_a_table_with_local_assets_only(page: Any, mart: Mart, report: Any):
    _open(page, mart, f"/reports/{report.slug}?from={DAY}")
    assert page.locator("#report-error").count() == 0
    assert page.locator("#report-empty").count() == 0, page.locator("#report-empty").inner_text()
    rows = page.locator("#report-table tbody tr").count()
    assert rows > 0
    # the chart rendered: Plotly drew its SVG with at least one trace of marks
    chart = page.locator("#report-chart .main-svg").first
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    marks = page.locator("#report-chart .trace path, #report-chart .trace .point path").count()
    assert marks > 0
    assert off_loopback(page.requested) == []
    shot = screenshot(page, f"reports/{report.slug}")
    assert shot.stat().st_size > 10_000


# ------------------------------------------------------------------ numbers equal the aggregates
def test_queue_summary_totals_equal_the_aggregate(page: Any, mart: Mart):
    _open(page, mart, f"/reports/queue-summary?from={DAY}&level=subhr")
    entered = _sql(
        mart,
        "select sum(entered) from infomart.ag2_queue_subhr where date_time_key between %s and %s",
        DAY_START,
        DAY_END - 1,
    )
    assert entered > 100
    assert _total(page, "entered") == str(entered)
    # the service level from summed parts (never an average of the rows' ratios)
    thr, base = (
        _sql(mart, "select sum(accepted_thr) from infomart.ag2_queue_day"),
        _sql(
            mart,
            "select sum(accepted + abandoned + abandoned_invite - abandoned_short)"
            " from infomart.ag2_queue_day",
        ),
    )
    assert _total(page, "service_level") == f"{round(100.0 * thr / base, 1):g}"
    shown = [
        float(v)
        for v in page.locator('#report-table tbody td[data-column="service_level"]').all_inner_texts()
        if v.strip()
    ]
    assert round(sum(shown) / len(shown), 1) != round(100.0 * thr / base, 1)  # it would differ here


def test_service_level_by_hour_and_the_target_line(page: Any, mart: Mart):
    _open(page, mart, f"/reports/service-level?from={DAY}&level=hour")
    body = _table(page)[1:-1]
    assert len(body) == 3  # 08:00, 09:00, 10:00
    for row in body:
        thr, base, level = int(row[3]), int(row[4]), row[5]
        assert level == f"{round(100.0 * thr / base, 1):g}"
    assert page.locator("#report-chart .shapelayer path").count() >= 1  # the target line
    assert "target 80%" in page.locator("#report-chart").inner_text()


def test_wait_distributions_equal_the_aggregates(page: Any, mart: Mart):
    _open(page, mart, f"/reports/abandon-delay?from={DAY}&level=day")
    assert _total(page, "segments") == str(
        _sql(mart, "select sum(abandoned) from infomart.ag2_queue_abn_day")
    )
    assert _total(page, "share") == "100"
    shown = [r[0] for r in _table(page)[1:-1]]
    ranges = [
        r[1] for r in csv.reader((Path(__file__).resolve().parents[1] / "seeds" / "time_range.csv").open())
    ][1:]
    assert shown == [r for r in ranges if r in shown]  # from the shortest waits up, not by name
    _open(page, mart, f"/reports/speed-of-accept?from={DAY}&level=hour")
    assert _total(page, "segments") == str(
        _sql(mart, "select sum(accepted) from infomart.ag2_queue_acc_agent_hour")
    )


def test_agent_reports_equal_the_aggregates(page: Any, mart: Mart):
    _open(page, mart, f"/reports/agent-summary?from={DAY}&level=hour")
    assert _total(page, "offered") == str(_sql(mart, "select sum(offered) from infomart.ag2_agent_hour"))
    handle, handled = (
        _sql(mart, "select sum(handle_time_ms) from infomart.ag2_agent_hour"),
        _sql(mart, "select sum(accepted + initiated) from infomart.ag2_agent_hour"),
    )
    assert _total(page, "aht") == f"{round(handle / 1000 / handled, 1):g}"
    _open(page, mart, f"/reports/agent-utilization?from={DAY}&level=subhr&by=agent_group")
    active = _sql(mart, "select sum(active_time_ms) from infomart.ag2_i_sess_state_grp_subhr")
    assert _total(page, "active_time") == str(round(active / 1000))
    _open(page, mart, f"/reports/agent-not-ready-reasons?from={DAY}&level=day")
    reasons = _sql(mart, "select sum(state_reason_time_ms) from infomart.ag2_i_state_rsn_day")
    assert _total(page, "state_reason_time") == str(round(reasons / 1000))


def test_interaction_volume_and_the_abandoned_list_agree_with_ag2_id(page: Any, mart: Mart):
    abandoned = _sql(mart, "select sum(abandoned) from infomart.ag2_id_subhr")
    _open(page, mart, f"/reports/interaction-volume?from={DAY}&level=subhr")
    assert _total(page, "entered") == str(_sql(mart, "select sum(entered) from infomart.ag2_id_subhr"))
    assert _total(page, "abandoned") == str(abandoned)
    _open(page, mart, f"/reports/abandoned-interactions?from={DAY}")
    assert page.locator("#report-table tbody tr").count() == abandoned
    assert _total(page, "abandoned") == str(abandoned)


def test_agent_state_details_show_the_agents_states_of_the_day(page: Any, mart: Mart):
    agent = _sql(
        mart,
        "select s.resource_key from infomart.sm_res_state_fact s"
        " join infomart.resource_ r using (resource_key) order by r.resource_name limit 1",
    )
    _open(page, mart, f"/reports/agent-state-details?from={DAY}&agent={agent}")
    # every state of the (single simulated) day, an open one up to the facts' data horizon
    expected_ms = _sql(
        mart,
        "with horizon as (select max(coalesce(end_ts, start_ts)) as ts from infomart.sm_res_state_fact)"
        " select sum(extract(epoch from coalesce(s.end_ts, horizon.ts) - s.start_ts) * 1000)"
        " from infomart.sm_res_state_fact s, horizon where s.resource_key = %s",
        agent,
    )
    assert _total(page, "seconds") == str(round(expected_ms / 1000))
    states = _sql(mart, "select count(*) from infomart.sm_res_state_fact where resource_key = %s", agent)
    lanes = page.locator("#report-table tbody td:first-child").all_inner_texts()
    assert sum(1 for lane in lanes if lane.endswith("state")) == states
    assert page.locator("#report-chart .trace path").count() > 10


# ------------------------------------------------------------------ CSV, filters, links, messages
def test_the_csv_holds_the_rows_of_the_table(page: Any, mart: Mart):
    for slug in ("queue-summary", "agent-summary", "abandoned-interactions"):
        _open(page, mart, f"/reports/{slug}?from={DAY}&level=hour")
        table = _table(page)
        href = page.locator("#csv-link").get_attribute("href")
        status, body = _get(mart.url + href)
        assert status == 200
        assert list(csv.reader(io.StringIO(body))) == table


def test_a_filter_changes_the_rows_and_the_link_reproduces_the_view(page: Any, mart: Mart):
    _open(page, mart, f"/reports/queue-summary?from={DAY}&level=hour")
    all_queues = {r[1] for r in _table(page)[1:-1]}
    # the voice queues and the interaction queues of the chats and emails
    with psycopg.connect(mart.dsn) as conn:
        segment_queues = {
            r[0] for r in conn.execute("select distinct queue_name from infomart.mediation_segment_fact")
        }
    assert all_queues == segment_queues and len(all_queues) > 3 and "VQ_Sales" in all_queues
    page.select_option('select[name="queue"]', label="VQ_Sales")
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")
    assert "queue=" in page.url and "level=hour" in page.url
    filtered = _table(page)
    assert {r[1] for r in filtered[1:-1]} == {"VQ_Sales"}
    sales = _sql(
        mart,
        "select sum(q.entered) from infomart.ag2_queue_hour q join infomart.resource_ r using (resource_key)"
        " where r.resource_name = 'VQ_Sales'",
    )
    assert _total(page, "entered") == str(sales)
    link = page.url
    _open(page, mart, link.removeprefix(mart.url))
    assert _table(page) == filtered

    # an agent group: only its members' rows
    _open(page, mart, f"/reports/agent-utilization?from={DAY}&level=day")
    everyone = len(_table(page)) - 2
    group = page.locator('select[name="agent_group"] option').nth(1).get_attribute("value")
    _open(page, mart, f"/reports/agent-utilization?from={DAY}&level=day&agent_group={group}")
    members = len(_table(page)) - 2
    assert 0 < members < everyone


def test_an_empty_range_and_a_wrong_filter_say_so(page: Any, mart: Mart):
    _open(page, mart, "/reports/queue-summary?from=2020-01-01&to=2020-01-02")
    assert "No data for 2020-01-01 to 2020-01-02" in page.locator("#report-empty").inner_text()
    status, body = _get(mart.url + "/reports/queue-summary?level=fortnight")
    assert status == 400 and "level=&#39;fortnight&#39;: one of subhr, hour, day, week, month" in body
    status, _ = _get(mart.url + "/reports/no-such-report")
    assert status == 404


def test_week_and_month_levels_follow_the_reporting_zone(page: Any, mart: Mart):
    _open(page, mart, "/reports/queue-summary?from=2026-11-01&to=2026-11-30&level=month")
    rows = _table(page)[1:]
    assert rows[0][0] == "2026-11"
    assert rows[-1][2] == str(_sql(mart, "select sum(entered) from infomart.ag2_queue_month"))
    _open(page, mart, "/reports/queue-summary?from=2026-11-22&to=2026-11-28&level=week")
    assert _table(page)[1][0] == "week of 2026-11-22"  # weeks start on Sunday


# ------------------------------------------------------------------ read-only, docs, quality
def test_the_server_reads_through_a_read_only_role(mart: Mart):
    reader = serve_config(mart.settings, mart.dsn).reader_dsn
    assert conninfo_to_dict(reader)["user"].endswith("_reader")
    with psycopg.connect(reader) as conn:
        assert conn.execute("select count(*) from reports.rpt_queue_summary").fetchone()[0] > 0  # type: ignore[index]
        for statement in (
            "delete from infomart.ag2_queue_day",
            "create table reports.scratch (x int)",
        ):
            with pytest.raises(psycopg.errors.Error, match=r"read-only|permission denied"):
                conn.execute(statement)
            conn.rollback()
    writable = psycopg.connect(reader, options="-c default_transaction_read_only=off")
    with writable as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("update infomart.ag2_queue_day set entered = 0")


def test_the_schema_reference_loads_with_the_overview_and_the_exposures(page: Any, mart: Mart):
    _open(page, mart, "/docs/")
    page.wait_for_selector("text=The Info Mart: schema reference", timeout=20_000)
    assert page.locator("text=How to read a fact").count() == 1
    assert off_loopback(page.requested) == []
    screenshot(page, "docs_overview")
    _open(page, mart, "/docs/#!/exposure/exposure.infomart.queue_summary")
    page.wait_for_selector("text=rpt_queue_summary", timeout=20_000)
    screenshot(page, "docs_exposure")
    import json

    manifest = json.loads(Path(mart.settings.home.resolve() / "docs" / "manifest.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == {r.slug.replace("-", "_") for r in REPORTS}
    for report in REPORTS:
        depends = exposures[report.slug.replace("-", "_")]["depends_on"]["nodes"]
        assert f"model.infomart.{report.view}" in depends


def test_the_data_quality_results_load_offline(page: Any, mart: Mart):
    _open(page, mart, "/quality/")
    page.wait_for_selector("text=Validation Results", timeout=20_000)
    assert page.locator("text=aggregates.ag2_queue_subhr").count() >= 1
    assert off_loopback(page.requested) == []
    assert page.evaluate("typeof window.jQuery") == "function"
    screenshot(page, "quality_from_serve")


# ------------------------------------------------------------------ last: it adds a day to the mart
def test_a_partial_cycle_keeps_the_report_views(page: Any, mart: Mart):
    """A cycle rebuilds the dimension tables the report views read, in place (the views would go
    with a dropped relation), and leaves the views alone: the reports still open, with the new day."""
    dsn = mart.dsn
    result = simulate(
        SimulationConfig(seed=2, agents=15, duration_hours=1, start=datetime(2026, 11, 24, 8, tzinfo=UTC))
    )
    write_ndjson(result, mart.settings.home / "day2")
    land_folder(mart.settings, mart.settings.home / "day2")
    cycle = transform(mart.settings, dsn, tests=False, only_changed=True)
    built = {n.name for n in cycle.nodes}
    assert cycle.built_sources and "resource_" in built  # group_ reads only configuration
    assert "rpt_queue_summary" not in built and "ag2_queue_week" not in built  # views are not rebuilt
    _open(page, mart, "/reports/queue-summary?from=2026-11-24&level=hour")
    day2 = _sql(
        mart,
        "select sum(entered) from infomart.ag2_queue_hour where interval_start_ts >= '2026-11-24'",
    )
    assert day2 > 0 and _total(page, "entered") == str(day2)
