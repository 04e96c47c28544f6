"""Structured logs (infomart/logs.py): with INFOMART_LOG_FORMAT=json every line is one JSON object
with the tenant and the job, cycle and job run it belongs to; a wrong value stops at start."""

from __future__ import annotations

import io
import logging

import orjson
import pytest

from infomart.logs import log_context, use_json_logs
from infomart.settings import SettingsError, load_settings


@pytest.fixture
def json_lines():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    stream = io.StringIO()
    use_json_logs("t7", stream)
    root.setLevel(logging.INFO)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved:
        root.addHandler(handler)
    root.setLevel(level)


def test_each_line_is_a_json_object_with_tenant_job_and_cycle(json_lines: io.StringIO) -> None:
    log = logging.getLogger("infomart.test")
    log.info("outside")
    with log_context(cycle=3):
        with log_context(job="transform", job_run_id=41):
            log.warning("built %d models", 12)
        try:
            raise RuntimeError("PostgreSQL went away")
        except RuntimeError:
            log.exception("ingest failed")
    lines = [orjson.loads(line) for line in json_lines.getvalue().splitlines()]
    assert [(x["level"], x["message"]) for x in lines] == [
        ("info", "outside"),
        ("warning", "built 12 models"),
        ("error", "ingest failed"),
    ]
    assert all(x["tenant"] == "t7" and x["logger"] == "infomart.test" for x in lines)
    assert "cycle" not in lines[0] and "job" not in lines[0]
    assert lines[1]["cycle"] == 3 and lines[1]["job"] == "transform" and lines[1]["job_run_id"] == 41
    assert lines[2]["cycle"] == 3 and "job" not in lines[2]
    assert "RuntimeError: PostgreSQL went away" in lines[2]["error"]
    assert lines[0]["ts"].endswith("+00:00")


def test_a_wrong_log_format_stops_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOMART_LOG_FORMAT", "xml")
    with pytest.raises(SettingsError, match="INFOMART_LOG_FORMAT"):
        load_settings()
