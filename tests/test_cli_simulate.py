"""`infomart simulate`, the simulator's one command line: every SimulationConfig field is an option."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from cli.main import app
from simulator import SimulationConfig


def _simulate_options() -> set[str]:
    command = typer.main.get_command(app).commands["simulate"]  # type: ignore[attr-defined]
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)}


def test_every_simulator_setting_is_an_option():
    options = _simulate_options()
    fields = {f.name for f in dataclasses.fields(SimulationConfig)} - {"tenant"}  # tenant: INFOMART_TENANT
    missing = sorted(f for f in fields if "--" + f.replace("_", "-") not in options)
    assert missing == []
    assert "--tenant" not in options
    # the short names of the first version of the command
    assert {"--hours", "--redundant", "--no-redundant", "--out", "--to-kafka", "--no-configure"} <= options


def test_options_reach_the_simulation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INFOMART_TENANT", "acme")
    out = tmp_path / "out"
    args = [
        "simulate", "--out", str(out), "--no-configure",
        "--hours", "0.5", "--agents", "4", "--seed", "7", "--start", "2026-12-01T09:00",
        "--shuffle", "full", "--redundant", "--late-share", "0.1", "--anomalies", "2",
        "--talk-mean-s", "90", "--chat-capacity", "2", "--calls-per-hour", "30",
        "--voice-queues", "VQ_A,VQ_B", "--routing-points", "8101,8102", "--queue-weights", "3,1",
        "--campaigns", "CMP_A:Progressive", "--dial-result-weights", "Answered:0.6,Busy:0.4",
        "--not-ready-reasons", "Break", "--reporting-time-zone", "Europe/Paris",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    written = orjson.loads((out / "ledger" / "summary.json").read_bytes())["config"]
    expected = SimulationConfig(
        tenant="acme",
        duration_hours=0.5,
        agents=4,
        seed=7,
        start=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        shuffle="full",
        redundant_sources=True,
        late_share=0.1,
        anomalies=2,
        talk_mean_s=90.0,
        chat_capacity=2,
        calls_per_hour=30.0,
        voice_queues=("VQ_A", "VQ_B"),
        routing_points=("8101", "8102"),
        queue_weights=(3.0, 1.0),
        campaigns=(("CMP_A", "Progressive"),),
        dial_result_weights=(("Answered", 0.6), ("Busy", 0.4)),
        not_ready_reasons=("Break",),
        reporting_time_zone="Europe/Paris",
    )
    assert written == orjson.loads(orjson.dumps(expected.to_json()))
    # options not given keep the simulator's defaults
    assert written["email_capacity"] == SimulationConfig().email_capacity == 1
    assert written["config_changes"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agents", "1"], "at least 2 agents"),
        (["--shuffle", "sideways"], "'sideways' is not one of"),
        (["--dial-result-weights", "Answered:lots"], "'lots' is not a float"),
        (["--campaigns", "CMP_A"], "name:value pairs"),
    ],
)
def test_bad_simulator_settings_are_usage_errors(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path / "o"), "--no-configure", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
    assert not (tmp_path / "o").exists()
