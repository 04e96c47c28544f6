"""Settings: defaults, environment, TOML file, and errors that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from infomart.settings import SettingsError, load_settings


def test_defaults_are_the_embedded_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.embedded_pg and s.embedded_kafka
    assert s.tenant == "t1"
    assert s.offsets_consumer == "infomart-t1"
    assert s.topics.by_logical() == {
        "voice-callthread": "voice-callthread",
        "voice-agentstate": "voice-agentstate",
        "digital-itx": "digital-itx",
        "digital-agentstate": "digital-agentstate",
        "voice-outbound": "voice-outbound",
        "gca-cfg": "gca-cfg",
    }
    assert s.local_objects == Path(".infomart/objects")


def test_environment_overrides_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    cfg = tmp_path / "im.toml"
    cfg.write_text(
        'tenant = "acme"\nkafka_bootstrap_servers = "k1:9092,k2:9092"\n'
        '[topics]\nvoice_callthread = "prod.voice"\n[kafka]\nsecurity_protocol = "SASL_SSL"\n'
        'sasl_mechanism = "SCRAM-SHA-512"\nsasl_username = "u"\nsasl_password = "p"\n'
    )
    monkeypatch.setenv("INFOMART_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("INFOMART_TENANT", "acme2")
    monkeypatch.setenv("INFOMART_TOPICS__GCA_CFG", "prod.cfg")
    s = load_settings()
    assert s.tenant == "acme2"  # environment wins
    assert s.kafka_bootstrap_servers == "k1:9092,k2:9092"  # from the file
    assert s.topics.voice_callthread == "prod.voice"
    assert s.topics.gca_cfg == "prod.cfg"
    assert s.kafka.sasl_mechanism == "SCRAM-SHA-512"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INFOMART_BATCH_SIZE": "lots"}, "INFOMART_BATCH_SIZE (got 'lots')"),
        ({"INFOMART_PG_DNS": "postgresql://x"}, "unknown setting(s) INFOMART_PG_DNS"),
        ({"INFOMART_KAFKA_BOOTSTRAP_SERVERS": "nohostport"}, "'nohostport' is not host:port"),
        ({"INFOMART_TENANT": "a b"}, "INFOMART_TENANT"),
        ({"INFOMART_KAFKA__SECURITY_PROTOCOL": "SASL_SSL"}, "needs INFOMART_KAFKA__SASL_MECHANISM"),
        ({"INFOMART_TOPICS__GCA_CFG": "voice-callthread"}, "topic names must be distinct"),
        ({"INFOMART_CONFIG_FILE": "/nonexistent/im.toml"}, "no such file"),
    ],
)
def test_bad_settings_say_what_to_fix(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert message in str(err.value)


def test_cli_exits_2_on_bad_settings(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("INFOMART_BATCH_SIZE", "0")
    result = CliRunner().invoke(app, ["transform"])
    assert result.exit_code == 2
    assert "INFOMART_BATCH_SIZE" in result.output


def test_cli_archive_without_topic_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "calls.ndjson").write_text("{}\n")
    result = CliRunner().invoke(app, ["ingest", "archive", str(tmp_path / "calls.ndjson")])
    assert result.exit_code == 2
    assert "cannot tell its topic" in result.output
