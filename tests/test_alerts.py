"""The Prometheus alert rules (monitoring/infomart-alerts.yml) pass `promtool check rules`, and each
alert fires in its `promtool test rules` unit test (monitoring/infomart-alerts.test.yml) when it
should and not before; every alert has a test."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

MONITORING = Path(__file__).resolve().parents[1] / "monitoring"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def test_rules_pass_promtool_check() -> None:
    done = subprocess.run(
        [PROMTOOL, "check", "rules", "infomart-alerts.yml"], cwd=MONITORING, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 7 rules found" in done.stdout


def test_every_alert_fires_in_its_promtool_unit_test() -> None:
    rules = yaml.safe_load((MONITORING / "infomart-alerts.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    tests = yaml.safe_load((MONITORING / "infomart-alerts.test.yml").read_text())
    fired = {
        t["alertname"] for case in tests["tests"] for t in case["alert_rule_test"] if t.get("exp_alerts")
    }
    assert fired == alerts, f"alerts without a firing test: {sorted(alerts - fired)}"
    done = subprocess.run(
        [PROMTOOL, "test", "rules", "infomart-alerts.test.yml"],
        cwd=MONITORING,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
