"""Data quality (Great Expectations 1.x): the checkpoint passes on a clean simulated mart, fails
on a corrupted row with `infomart quality` naming the expectation, keeps its results, and
builds Data Docs that render offline (headless Chromium, no request off the loopback)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from starlette.staticfiles import StaticFiles
from typer.testing import CliRunner

from cli.main import app
from infomart.settings import Settings
from pipeline.cycle import QualitySchedule
from pipeline.transform import transform
from quality import assets, suites
from quality.connection import sqlalchemy_url
from quality.paths import data_docs_dir, gx_dir
from quality.run import QualityResult, run_quality
from simulator import SimulationConfig, simulate, write_ndjson
from tests.browser import chromium_page, screenshot, served
from tests.helpers import land_folder, module_database

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def settings(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A small simulated mart (6 agents, 1 hour), landed from NDJSON and built without tests."""
    home = tmp_path_factory.mktemp("quality-home")
    for s in module_database(pg_server, home, "t_quality"):
        day = home / "day"
        write_ndjson(simulate(SimulationConfig(seed=3, agents=6, duration_hours=1)), day)
        land_folder(s, day)
        transform(s, s.pg_dsn, tests=False)  # type: ignore[arg-type]
        yield s


@pytest.fixture(scope="module")
def clean(settings: Settings) -> QualityResult:
    return run_quality(settings, settings.pg_dsn)  # type: ignore[arg-type]


def _execute(settings: Settings, statement: str) -> None:
    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(statement)


def _validation_runs(settings: Settings) -> set[str]:
    """The run times the validation results store holds (one folder per run under each suite)."""
    store = gx_dir(settings) / "uncommitted" / "validations"
    return {p.parent.name for p in store.rglob("*.json")}


# ------------------------------------------------------------------ unit
def test_sqlalchemy_url_of_a_socket_and_of_a_tcp_dsn():
    assert (
        sqlalchemy_url("postgresql://postgres:@/infomart_t1?host=/tmp/im/pg")
        == "postgresql+psycopg://postgres@/infomart_t1?host=%2Ftmp%2Fim%2Fpg"
    )
    assert (
        sqlalchemy_url("host=/run/pg port=5433 user=im dbname=x")
        == "postgresql+psycopg://im@/x?host=%2Frun%2Fpg&port=5433"
    )
    assert (
        sqlalchemy_url("host=db.example port=5433 user=im password=p@ss/w dbname=x sslmode=require")
        == "postgresql+psycopg://im:p%40ss%2Fw@db.example:5433/x?sslmode=require"
    )


def test_the_sets_are_the_seeds():
    with (ROOT / "seeds" / "technical_descriptor.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert set(suites.RESOURCE_ROLES) == {r["resource_role"] for r in rows}
    assert set(suites.IRF_RESULTS) == {r["technical_result"] for r in rows}
    assert set(suites.RESULT_REASONS) == {r["result_reason"] for r in rows}


def test_every_cdn_url_of_the_templates_is_vendored():
    import great_expectations

    templates = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    page = "\n".join(p.read_text() for p in sorted(templates.glob("*.j2")))
    site = Path("/nonexistent")
    rewritten = assets.rewrite_page(page, "../", site)
    left = [u for u in assets.CDN_FILES if u in rewritten]
    assert left == []
    for rel in assets.CDN_FILES.values():
        assert (assets.NODE_MODULES / rel).is_file(), rel


def test_an_unknown_cdn_url_is_named():
    with pytest.raises(assets.AssetsError, match=r"https://cdn\.example/x\.js"):
        assets.rewrite_page('<script src="https://cdn.example/x.js"></script>', "", Path("/nonexistent"))


def test_the_schedule_runs_when_due_and_a_crash_never_escapes(monkeypatch: pytest.MonkeyPatch, pg_dsn: str):
    import quality.run

    calls: list[float] = []

    def crash(settings: Settings, dsn: str) -> QualityResult:
        calls.append(now[0])
        raise RuntimeError("the database went away")

    monkeypatch.setattr(quality.run, "run_quality", crash)
    now = [0.0]
    off = QualitySchedule(Settings(home=Path("/nonexistent")), pg_dsn, clock=lambda: now[0])
    assert off.after_cycle() is None and calls == []  # 0: off
    schedule = QualitySchedule(
        Settings(home=Path("/nonexistent"), quality_every_minutes=5), pg_dsn, clock=lambda: now[0]
    )
    for t in (0.0, 60.0, 299.0, 300.0, 400.0, 600.0):
        now[0] = t
        assert schedule.after_cycle() is None  # crashed: logged, not raised
    assert calls == [0.0, 300.0, 600.0]
    with psycopg.connect(pg_dsn) as conn:  # each crashed run is a failed job run in CTL_ETL_HISTORY
        runs = conn.execute(
            "select status, error_message from ctl.ctl_etl_history where job_name = 'quality'"
        ).fetchall()
    assert runs == [("failed", "RuntimeError: the database went away")] * 3


# ------------------------------------------------------------------ the checkpoint
@pytest.mark.slow
def test_the_checkpoint_passes_on_clean_simulated_data(settings: Settings, clean: QualityResult):
    assert clean.failures == ()
    assert clean.success and clean.failed == 0
    assert {s.area for s in clean.suites} == {"raw", "staging", "marts", "aggregates"}
    assert len(clean.suites) == len(suites.all_suites())  # every table exists: no suite left out
    assert all(s.evaluated == len(d.checks) for s, d in zip(clean.suites, suites.all_suites(), strict=True))
    assert clean.evaluated > 80
    assert clean.index.is_file() and clean.data_docs == data_docs_dir(settings).resolve()


@pytest.mark.slow
def test_a_corrupted_row_fails_its_expectation_and_the_command_exits_1(
    settings: Settings, clean: QualityResult
):
    before = _validation_runs(settings)
    _execute(
        settings,
        "update infomart.interaction_resource_fact set talk_duration = -5"
        " where interaction_resource_id = (select min(interaction_resource_id)"
        " from infomart.interaction_resource_fact)",
    )
    _execute(
        settings,
        "update infomart.ag2_queue_subhr set entered = entered + 1"
        " where date_time_key = (select min(date_time_key) from infomart.ag2_queue_subhr)",
    )
    try:
        runner = CliRunner()
        done = runner.invoke(
            app, ["quality"], env={"INFOMART_PG_DSN": settings.pg_dsn, "INFOMART_HOME": str(settings.home)}
        )
        output = " ".join(done.output.split())
        assert done.exit_code == 1, output
        assert "marts.interaction_resource_fact: talk_duration is not negative" in output
        assert "aggregates.ag2_queue_subhr: entered = accepted + abandoned" in output
        assert "2 expectation(s) failed" in output
    finally:
        _execute(
            settings,
            "update infomart.interaction_resource_fact set talk_duration = round(talk_ms / 1000.0)"
            " where talk_duration = -5",
        )
        _execute(
            settings,
            "update infomart.ag2_queue_subhr set entered = entered - 1"
            " where date_time_key = (select min(date_time_key) from infomart.ag2_queue_subhr)",
        )
    # the failing run is kept beside the clean one
    after = _validation_runs(settings)
    assert before < after and len(after - before) == 1


@pytest.mark.slow
def test_an_event_time_out_of_range_fails_its_staging_suite(settings: Settings, clean: QualityResult):
    table = "staging.stg_events__voice_agentstate"
    _execute(settings, f"create table public.kept as select * from {table} order by event_id limit 1")
    _execute(
        settings,
        f"update {table} set event_ts = '1970-01-01Z' where event_id = (select event_id from public.kept)",
    )
    try:
        only = [s for s in suites.all_suites() if s.name == "staging.stg_events__voice_agentstate"]
        result = run_quality(settings, settings.pg_dsn, only)  # type: ignore[arg-type]
    finally:
        _execute(
            settings,
            f"update {table} as t set event_ts = k.event_ts from public.kept as k"
            " where t.event_id = k.event_id",
        )
        _execute(settings, "drop table public.kept")
    assert [(f.suite, f.description) for f in result.failures] == [
        ("staging.stg_events__voice_agentstate", "event_ts between 2000-01-01 and 2100-01-01")
    ]
    assert result.failures[0].detail == "1 unexpected value(s)"
    assert [(s.name, s.evaluated, s.failed) for s in result.suites] == [
        ("staging.stg_events__voice_agentstate", 5, 1)
    ]


@pytest.mark.slow
def test_a_missing_table_or_a_broken_check_fails_and_says_why(settings: Settings, clean: QualityResult):
    broken = suites.TableSuite(
        "marts",
        "infomart",
        "interaction_resource_fact",
        (suites.not_null("no_such_column"),),
        name="probe.broken",
    )
    missing = suites.TableSuite("marts", "infomart", "no_such_table", (suites.not_null("x"),))
    result = run_quality(settings, settings.pg_dsn, [broken, missing])  # type: ignore[arg-type]
    assert [(s.name, s.evaluated, s.failed) for s in result.suites] == [
        ("probe.broken", 1, 1),
        ("marts.no_such_table", 0, 1),
    ]
    assert [str(f) for f in result.failures] == [
        "probe.broken: no_such_column is set (expect_column_values_to_not_be_null: error: Error: The column"
        ' "no_such_column" in BatchData does not exist.)',
        "marts.no_such_table: the table exists (table: infomart.no_such_table not found)",
    ]


@pytest.mark.slow
def test_results_are_kept_run_after_run(settings: Settings, clean: QualityResult):
    before = _validation_runs(settings)
    again = run_quality(settings, settings.pg_dsn)  # type: ignore[arg-type]
    assert again.success
    after = _validation_runs(settings)
    assert before < after and len(after - before) == 1
    # the index lists the runs (one row per validation result)
    assert "aggregates.freshness" in again.index.read_text()


# ------------------------------------------------------------------ Data Docs offline
@pytest.fixture(scope="module")
def data_docs_url(clean: QualityResult) -> Iterator[str]:
    """The Data Docs folder served as static files on loopback."""
    with served(StaticFiles(directory=clean.data_docs, html=True)) as url:
        yield url


@pytest.mark.slow
def test_no_page_loads_anything_from_the_network(clean: QualityResult):
    pages = list(clean.data_docs.rglob("*.html"))
    assert len(pages) > len(suites.all_suites())  # the index, the suites and the validation results
    assert assets.network_assets(clean.data_docs) == []
    for page in pages:
        text = page.read_text()
        assert "integrity=" not in text and "crossorigin" not in text, page
    assert (clean.data_docs / "_vendor/@fortawesome/fontawesome-free/webfonts/fa-solid-900.woff2").is_file()


@pytest.mark.slow
def test_data_docs_render_offline_in_chromium(clean: QualityResult, data_docs_url: str):
    failed: list[str] = []
    with chromium_page() as page:
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(f"{data_docs_url}/index.html", wait_until="networkidle")
        assert page.evaluate("typeof window.jQuery") == "function"
        assert page.evaluate("typeof jQuery.fn.bootstrapTable") == "function"
        # Bootstrap's CSS applied: its .navbar is a flex box (unstyled: a block)
        assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"
        # the validation results table has a row per suite run
        page.locator("td", has_text="marts.interaction_resource_fact").first.wait_for(state="visible")
        assert page.locator("table tbody tr").count() >= 10  # the table pages its rows
        screenshot(page, "quality_index")

        # a row opens its validation result page
        page.locator("td", has_text="marts.interaction_resource_fact").first.click()
        page.wait_for_url("**/validations/marts/interaction_resource_fact/**")
        page.wait_for_load_state("networkidle")
        page.get_by_text("talk_duration is not negative").first.wait_for(state="visible")
        assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"
        screenshot(page, "quality_validation")
        requests = list(page.requested)
    hosts = {urlparse(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, sorted(u for u in requests if urlparse(u).hostname != "127.0.0.1")
    assert failed == [], failed
    assert any("_vendor/bootstrap/dist/css/bootstrap.min.css" in u for u in requests)
