"""Transport security and secrets.

* PostgreSQL over TLS (tests/tls.py: a test-only server on 127.0.0.1 with a certificate of a CA
  made here, plain TCP rejected): ``sslmode=verify-full`` connects, a wrong CA is refused, and
  ingest and a dbt run work over it.
* Kafka: the SASL/TLS settings reach both client libraries, for the ingester and the config
  adapter alike (no broker test: with the embedded tansu 0.6 no SASL user could be made to
  authenticate and no TLS listener started; DECISIONLOG.md).
* Secrets: commands run with passwords in their DSNs and a Kafka SASL password, some of them
  failing to connect; no password appears in their output, the home's files or dbt's log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infomart.settings import Settings
from pipeline.transform import PROJECT_DIR, TransformError, run_dbt
from tests.conftest import EventFactory
from tests.helpers import build_models, land_folder, write_events
from tests.tls import Authority, TlsPostgres, make_authority, remove, start_tls_postgres

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = f"pg-{uuid.uuid4().hex}"  # unique: a hit in any output can only be a leak


@pytest.fixture(scope="module")
def ca() -> Authority:
    return make_authority("infomart test CA")


@pytest.fixture(scope="module")
def tls_pg(ca: Authority, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TlsPostgres, Path]]:
    # not under pytest's basetemp: another pytest session makes its parent 0700 again, which locks
    # the server's own user out of its data folder
    folder = Path(tempfile.mkdtemp(prefix="imt-tls-", dir="/tmp"))
    server = start_tls_postgres(folder / "server", ca, PASSWORD)
    yield server, ca.write(tmp_path_factory.mktemp("tls") / "ca.pem")
    server.stop()
    remove(folder)


@pytest.fixture
def tls_db(tls_pg: tuple[TlsPostgres, Path]) -> Iterator[str]:
    """A new database on the TLS server: its DSN (verify-full, the superuser's password)."""
    server, rootcert = tls_pg
    name = f"tls_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.dsn(rootcert), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield server.dsn(rootcert, dbname=name)
    with psycopg.connect(server.dsn(rootcert), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def _events() -> dict[str, list[dict]]:
    ev = EventFactory()
    at = "2026-11-23T09:{:02d}:00.000Z"
    return {
        "voice-agentstate": [
            ev.make("AgentLogin", at.format(0), agent_id="a1", dn="7001", place="P1", queues=["VQ"]),
            ev.make("AgentReady", at.format(1), agent_id="a1"),
            ev.make("AgentLogout", at.format(30), agent_id="a1"),
        ]
    }


# ------------------------------------------------------------------ PostgreSQL over TLS
def test_verify_full_connects_over_tls_and_a_wrong_ca_is_refused(
    tls_pg: tuple[TlsPostgres, Path], tmp_path: Path
):
    server, rootcert = tls_pg
    sessions = server.terminator.sessions
    for host in ("localhost", "127.0.0.1"):
        with psycopg.connect(server.dsn(rootcert, host=host)) as conn:
            assert conn.pgconn.ssl_in_use  # what libpq negotiated (the server behind sees its relay)
            assert conn.execute("select current_user").fetchone() == ("postgres",)
    assert server.terminator.sessions == sessions + 2  # two TLS handshakes done
    wrong = make_authority("somebody else's CA").write(tmp_path / "wrong.pem")
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(server.dsn(wrong)).close()
    with pytest.raises(psycopg.OperationalError, match="no encryption"):  # plain TCP is rejected
        psycopg.connect(server.dsn(rootcert, sslmode="disable")).close()


def test_ingest_and_a_dbt_run_over_tls(tls_db: str, tmp_path: Path):
    settings = Settings(home=tmp_path / "home", pg_dsn=tls_db, tenant="t1", metrics_port=0)
    land_folder(settings, write_events(tmp_path / "events", _events()))
    build_models(settings, ["--select", "path:models/staging"], tests=False)
    with psycopg.connect(tls_db) as conn:
        assert conn.execute("select count(*) from staging.stg_events__voice_agentstate").fetchone()[0] == 3  # type: ignore[index]
    # the DSN's password and TLS files were dbt's for that run only (pipeline/transform.py)
    assert os.environ.get("PGPASSWORD") != PASSWORD
    assert os.environ.get("PGSSLROOTCERT") != conninfo_to_dict(tls_db)["sslrootcert"]
    wrong = make_authority("somebody else's CA").write(tmp_path / "wrong.pem")
    with pytest.raises(TransformError, match="certificate verify failed"):
        run_dbt(
            settings,
            make_conninfo(tls_db, sslrootcert=str(wrong)),
            ["run", "--select", "stg_events__voice_agentstate"],
        )


# ------------------------------------------------------------------ Kafka security options
KAFKA_SECRET = f"kafka-{uuid.uuid4().hex}"


def _sasl_settings(tmp_path: Path, **more: Any) -> Settings:
    return Settings(
        home=tmp_path,
        kafka_bootstrap_servers="127.0.0.1:1",
        kafka={  # type: ignore[arg-type]
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": "infomart",
            "sasl_password": KAFKA_SECRET,
            "ssl_cafile": "/etc/ca.pem",
            "ssl_certfile": "/etc/client.pem",
            "ssl_keyfile": "/etc/client.key",
        },
        **more,
    )


class _Recorded(Exception):
    """Raised by a stand-in client library after it recorded its options."""


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Stand-ins for the four client classes that record what they were given and stop there."""
    import confluent_kafka
    import kafka

    seen: list[tuple[str, dict[str, Any]]] = []

    def stand_in(name: str):  # type: ignore[no-untyped-def]
        def make(*args: Any, **kwargs: Any) -> None:
            seen.append((name, args[0] if args else kwargs))
            raise _Recorded(name)

        return make

    for module, name in ((kafka, "KafkaConsumer"), (kafka, "KafkaProducer")):
        monkeypatch.setattr(module, name, stand_in(f"kafka-python {name}"))
    for module, name in ((confluent_kafka, "Consumer"), (confluent_kafka, "Producer")):
        monkeypatch.setattr(module, name, stand_in(f"confluent {name}"))
    return seen


KAFKA_PYTHON = {
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_plain_username": "infomart",
    "sasl_plain_password": KAFKA_SECRET,
    "ssl_cafile": "/etc/ca.pem",
    "ssl_certfile": "/etc/client.pem",
    "ssl_keyfile": "/etc/client.key",
}
CONFLUENT = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "SCRAM-SHA-512",
    "sasl.username": "infomart",
    "sasl.password": KAFKA_SECRET,
    "ssl.ca.location": "/etc/ca.pem",
    "ssl.certificate.location": "/etc/client.pem",
    "ssl.key.location": "/etc/client.key",
}


@pytest.mark.parametrize("client", ["kafka-python", "confluent"])
def test_the_kafka_security_settings_reach_both_clients(client: str, tmp_path: Path, recorded: list):
    from ingest.kafka_client import make_consumer, make_producer

    settings = _sasl_settings(tmp_path, kafka_client=client)
    for make in (make_consumer, make_producer):
        with pytest.raises(_Recorded):
            make(settings, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    expected = KAFKA_PYTHON if client == "kafka-python" else CONFLUENT
    assert len(recorded) == 2
    for _, options in recorded:
        assert {k: options.get(k) for k in expected} == expected


def test_the_config_adapter_gets_the_same_kafka_security(tmp_path: Path, recorded: list):
    """The adapter's producer and consumer are the clients of ingest/kafka_client.py (the feed, and
    `infomart config-adapter`, make them with the settings)."""
    from ingest.config.feed import feed_configuration

    settings = _sasl_settings(tmp_path)
    with pytest.raises(_Recorded):
        feed_configuration(settings, "host=unused", settings.kafka_bootstrap_servers, [])  # type: ignore[arg-type]
    name, options = recorded[0]
    assert name == "kafka-python KafkaProducer"
    assert {k: options.get(k) for k in KAFKA_PYTHON} == KAFKA_PYTHON
    cli_config = (ROOT / "cli" / "config.py").read_text()
    assert (
        "make_producer(settings, bootstrap)" in cli_config
        and "make_consumer(settings, bootstrap)" in cli_config
    )


# ------------------------------------------------------------------ secrets
def _infomart(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cli.main import app; app()", "-v", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_no_password_in_output_logs_or_dbt_logs(tls_db: str, kafka_bootstrap: str, tmp_path: Path):
    from pipeline.roles import init_roles

    init_roles(tls_db)
    database = conninfo_to_dict(tls_db)["dbname"]
    role_password = f"role-{uuid.uuid4().hex}"
    with psycopg.connect(tls_db, autocommit=True) as conn:
        for role in ("ingest", "transform"):
            conn.execute(
                sql.SQL("alter role {} password {}").format(
                    sql.Identifier(f"{database}_{role}"), sql.Literal(role_password)
                )
            )
    secrets = (PASSWORD, role_password, KAFKA_SECRET)
    home = tmp_path / "home"
    as_role = {
        r: make_conninfo(tls_db, user=f"{database}_{r}", password=role_password)
        for r in ("ingest", "transform")
    }
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("INFOMART_", "PG"))},
        "PYTHONPATH": str(ROOT),
        "INFOMART_HOME": str(home),
        "INFOMART_PG_DSN": tls_db,
        "INFOMART_DB_ROLES": "true",
        "INFOMART_INGEST_DSN": as_role["ingest"],
        "INFOMART_TRANSFORM_DSN": as_role["transform"],
        "INFOMART_METRICS_PORT": "0",
        "INFOMART_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "INFOMART_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "INFOMART_KAFKA__SASL_MECHANISM": "PLAIN",
        "INFOMART_KAFKA__SASL_USERNAME": "infomart",
        "INFOMART_KAFKA__SASL_PASSWORD": KAFKA_SECRET,
        "INFOMART_KAFKA_CLIENT": "confluent",
    }
    folder = write_events(tmp_path / "events", _events())
    dbt_log = PROJECT_DIR / "logs" / "dbt.log"
    dbt_log_start = dbt_log.stat().st_size if dbt_log.exists() else 0
    wrong_password = make_conninfo(as_role["ingest"], password="not-the-password")
    runs = {
        "roles init": ({}, ["roles", "init"], 0),
        "ingest archive": ({}, ["ingest", "archive", str(folder)], 0),
        "transform": ({}, ["transform", "--no-tests", "--dbt-log"], 0),
        "ingest, wrong password": (
            {"INFOMART_INGEST_DSN": wrong_password},
            ["ingest", "archive", str(folder)],
            1,
        ),
        "transform, wrong password": (
            {"INFOMART_TRANSFORM_DSN": make_conninfo(as_role["transform"], password="wrong")},
            ["transform", "--no-tests"],
            1,
        ),
        "ingest, no server": (
            {"INFOMART_PG_DSN": make_conninfo(tls_db, port="1"), "INFOMART_INGEST_DSN": ""},
            ["ingest", "archive", str(folder)],
            1,
        ),
        "quality": ({}, ["quality"], None),  # the Great Expectations context and results in the home
        "ingest kafka, SASL": ({}, ["ingest", "kafka"], None),  # tansu without authentication
        "ingest kafka, no broker": (
            {"INFOMART_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"},
            ["ingest", "kafka"],
            1,
        ),
    }
    outputs = {}
    for what, (changes, args, code) in runs.items():
        done = _infomart({**env, **changes}, *args)
        outputs[what] = done.stdout + done.stderr
        if os.environ.get("INFOMART_TEST_SHOW"):
            print(f"===== {what}: {done.returncode}\n{outputs[what][-1500:]}")
        assert code is None or done.returncode == code, f"{what}: {done.returncode}\n{outputs[what][-3000:]}"
    assert "Finished running" in outputs["transform"]  # dbt's own log is in the output
    texts = {f"output of {what}": text for what, text in outputs.items()}
    if dbt_log.exists():
        with dbt_log.open("rb") as f:
            f.seek(dbt_log_start)
            texts["dbt.log"] = f.read().decode(errors="replace")
    for path in home.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_bytes().decode(errors="replace")
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a password in {where}"
