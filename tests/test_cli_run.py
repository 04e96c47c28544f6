"""`infomart run` (one cycle with metrics) and a plain `dbt build` outside the Info Mart's CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg
import pytest
from prometheus_client import REGISTRY
from typer.testing import CliRunner

import pipeline.transform
from cli.main import app
from cli.publish import Delivery, publish
from infomart.embedded import free_port
from infomart.settings import Settings
from ingest.kafka_client import make_producer
from ingest.landing import ensure_raw_schema
from pipeline.transform import PROJECT_DIR, dbt_env
from tests.conftest import EventFactory, count


def _env_for(settings: Settings, monkeypatch: pytest.MonkeyPatch, metrics_port: int) -> None:
    monkeypatch.setenv("INFOMART_PG_DSN", settings.pg_dsn or "")
    monkeypatch.setenv("INFOMART_KAFKA_BOOTSTRAP_SERVERS", settings.kafka_bootstrap_servers or "")
    monkeypatch.setenv("INFOMART_HOME", str(settings.home))
    monkeypatch.setenv("INFOMART_METRICS_PORT", str(metrics_port))
    for logical, name in settings.topics.by_logical().items():
        monkeypatch.setenv(f"INFOMART_TOPICS__{logical.replace('-', '_').upper()}", name)


def test_run_one_cycle_lands_transforms_and_serves_metrics(
    settings: Settings, events: EventFactory, monkeypatch: pytest.MonkeyPatch
):
    deliveries = [
        Delivery(
            "voice-agentstate",
            "a1",
            orjson.dumps(events.make("AgentReady", "2026-11-23T10:00:00.000Z", agent_id="a1")),
        ),
        Delivery("voice-agentstate", "a1", b"{broken"),
    ]
    producer = make_producer(settings, settings.kafka_bootstrap_servers, client="confluent")  # type: ignore[arg-type]
    publish(deliveries, producer, settings.topics.by_logical(), partitions=1)
    producer.close()
    port = free_port()
    _env_for(settings, monkeypatch, port)
    monkeypatch.setenv("INFOMART_CYCLE_SECONDS", "1")
    # the newest event in the facts is the process's: forget the other tests' builds in this worker
    monkeypatch.setattr(pipeline.transform, "_newest_fact_event", 0.0)
    # process-wide counters: the other tests of this worker counted too
    consumed_before = (
        REGISTRY.get_sample_value("infomart_records_consumed_total", {"topic": "voice-agentstate"}) or 0
    )
    rejected_before = REGISTRY.get_sample_value("gim_issues_total", {"issue": "rejected"}) or 0
    result = CliRunner().invoke(app, ["run", "--cycles", "2"])
    assert result.exit_code == 0, result.output
    assert "cycle 1: 1 events landed, 1 rejected, built everything" in result.output
    # Nothing new: freshness only, no dbt build.
    assert "cycle 2: 0 events landed, 0 rejected, no new rows: nothing to build, 0 dbt nodes" in result.output
    assert "sources: digital_agentstate empty; digital_itx empty; gca_cfg empty" in result.output
    assert "voice_agentstate 20" in result.output
    assert count(settings.pg_dsn, "select count(*) from staging.stg_events__voice_agentstate") == 1  # type: ignore[arg-type]
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'infomart_events_landed_total{origin="kafka",topic="voice-agentstate"}' in body
    assert 'infomart_events_rejected_total{reason="invalid_json",topic="voice-agentstate"}' in body
    assert "infomart_cycles_total 2.0" in body
    assert 'infomart_source_fresher{source="voice_agentstate"} 0.0' in body  # the idle cycle built nothing
    assert 'infomart_source_max_loaded_at_timestamp_seconds{source="voice_agentstate"}' in body
    assert 'infomart_source_freshness_age_seconds{source="voice_agentstate"}' in body
    # GIM's names: version, Kafka timestamps per topic and partition, issues; the facts' freshness
    assert 'gim_version{gim_version="0.1.0",schema_version="0.1.0"} 1.0' in body
    assert "gim_server_state 1.0" in body
    assert 'gim_kafka_timestamp_millis{partition="0",topic="voice-agentstate"}' in body
    assert 'gim_kafka_timestamp_behind{partition="0",topic="voice-agentstate"}' in body
    assert f'gim_issues_total{{issue="rejected"}} {rejected_before + 1}' in body
    assert f'infomart_records_consumed_total{{topic="voice-agentstate"}} {consumed_before + 2}' in body
    newest = float(body.split("\ninfomart_facts_newest_event_timestamp_seconds ")[1].split()[0])
    assert newest == datetime(2026, 11, 23, 10, tzinfo=UTC).timestamp()
    assert "infomart_unknown_agents 1.0" in body  # a1 is in no configuration
    # the exposition passes Prometheus' own linter
    checked = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # the cycle's jobs are in the control tables
    jobs = {
        (job, status)
        for job, status in psycopg.connect(settings.pg_dsn).execute(  # type: ignore[arg-type]
            "select job_name, status from ctl.admin_etl_job_history"
        )
    }
    assert jobs == {("ingest", "succeeded"), ("transform", "succeeded")}


def test_plain_dbt_build_with_libpq_variables(settings: Settings, events: EventFactory, tmp_path: Path):
    """People who schedule dbt themselves run it with PG* variables and no Info Mart CLI (the
    staging models and their tests: the connection is what this shows; every other test builds
    the whole project through the same profile)."""
    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:  # type: ignore[arg-type]
        ensure_raw_schema(conn)
        ev = events.make("AgentLogout", "2026-11-23T10:00:00.000Z", agent_id="a9")
        conn.execute("insert into raw.voice_agentstate (payload) values (%s)", (orjson.dumps(ev).decode(),))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "INFOMART_"))}
    env.update(dbt_env(settings.pg_dsn, settings))  # type: ignore[arg-type]
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [
            str(dbt),
            "build",
            "--profiles-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
            "--select",
            "path:models/staging",
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:]
    assert "ERROR=0" in done.stdout
    assert count(settings.pg_dsn, "select count(*) from staging.stg_events__voice_agentstate") == 1  # type: ignore[arg-type]
