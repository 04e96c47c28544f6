"""Least privilege: the roles of `infomart roles init`, each component connecting as its own, and two
tenants side by side on one server (a database each) landing and transforming their own events.

The real embedded PostgreSQL; the admin DSN is the server's superuser over its socket (trust), so
the roles need no password here."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cli.serve import serve_config
from export.job import run_export
from infomart import embedded
from infomart.objectstore import LocalObjectStore
from infomart.roles import component_dsn, role_names
from infomart.settings import Settings
from ingest.archive_ingester import ArchiveIngester, find_archives
from ingest.kafka_ingester import KafkaIngester
from pipeline import freshness
from pipeline.roles import init_roles
from pipeline.transform import transform
from tests.conftest import EventFactory
from tests.helpers import build_models, write_events

#: staging and the agent-state session fact (with the intermediate models and dimensions it reads)
SELECTION = ["--select", "path:models/staging", "+sm_res_session_fact"]
DENIED = r"permission denied|must be owner"


def _agent_day(events: EventFactory, agent: str) -> dict[str, list[dict]]:
    at = "2026-11-23T09:{:02d}:00.000Z"
    return {
        "voice-agentstate": [
            events.make("AgentLogin", at.format(0), agent_id=agent, dn="7001", place="P1", queues=["VQ"]),
            events.make("AgentReady", at.format(1), agent_id=agent),
            events.make("AgentLogout", at.format(30), agent_id=agent),
        ]
    }


def _database(pg_server: str, name: str) -> Iterator[str]:
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield make_conninfo(**{**conninfo_to_dict(pg_server), "dbname": name})
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        for role in role_names(name).values():
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def _settings(home: Path, dsn: str, tenant: str = "t1", **more: object) -> Settings:
    return Settings(
        home=home, pg_dsn=dsn, tenant=tenant, batch_size=1000, metrics_port=0, db_roles=True, **more
    )  # type: ignore[arg-type]


def _land(settings: Settings, dsn: str, folder: Path, by_topic: dict[str, list[dict]]) -> int:
    ingester = ArchiveIngester(settings, dsn)
    try:
        return ingester.ingest(find_archives([write_events(folder, by_topic)], settings)).rejects
    finally:
        ingester.close()


def _build(settings: Settings, dsn: str) -> None:
    build_models(settings.model_copy(update={"pg_dsn": dsn}), SELECTION, tests=False)


def _denied(dsn: str, statement: str, match: str = DENIED) -> None:
    with psycopg.connect(dsn) as conn, pytest.raises(psycopg.errors.Error, match=match):
        conn.execute(statement)


class Mart:
    def __init__(self, settings: Settings, admin: str) -> None:
        self.settings, self.admin = settings, admin
        self.dsn = {
            c: component_dsn(settings, admin, c) for c in ("ingest", "transform", "reporting", "export")
        }


@pytest.fixture(scope="module")
def mart(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mart]:
    """A database built first as the admin (as before the roles), then handed over by `roles init`,
    then landed as the ingest role and built as the transform role."""
    home = tmp_path_factory.mktemp("roles")
    for admin in _database(pg_server, f"roles_{uuid.uuid4().hex[:8]}"):
        settings = _settings(home / "home", admin)
        events = EventFactory()
        assert _land(settings, admin, home / "before", _agent_day(events, "a-before")) == 0
        _build(settings, admin)  # the old way: everything owned by the admin
        report = init_roles(admin)
        assert report.handed_over > 0 and not report.warnings
        assert init_roles(admin).created == []  # idempotent: nothing new the second time
        mart = Mart(settings, admin)
        assert _land(settings, mart.dsn["ingest"], home / "after", _agent_day(events, "a-after")) == 0
        _build(settings, mart.dsn["transform"])
        yield mart


def test_every_component_connects_as_its_own_role(mart: Mart):
    database = conninfo_to_dict(mart.admin)["dbname"]
    for component, dsn in mart.dsn.items():
        suffix = "reader" if component == "reporting" else component
        assert conninfo_to_dict(dsn)["user"] == f"{database}_{suffix}"
    assert serve_config(mart.settings, mart.admin).reader_dsn == mart.dsn["reporting"]
    explicit = mart.settings.model_copy(update={"ingest_dsn": "host=elsewhere user=me"})
    assert component_dsn(explicit, mart.admin, "ingest") == "host=elsewhere user=me"
    off = mart.settings.model_copy(update={"db_roles": False})
    assert component_dsn(off, mart.admin, "transform") == mart.admin


def test_the_transform_role_built_and_owns_what_it_built(mart: Mart):
    with psycopg.connect(mart.dsn["transform"]) as conn:
        agents = {
            r[0] for r in conn.execute("select distinct agent_id from staging.stg_events__voice_agentstate")
        }
        assert agents == {"a-before", "a-after"}
        assert conn.execute("select count(*) from infomart.sm_res_session_fact").fetchone()[0] == 2  # type: ignore[index]
        owners = conn.execute(
            "select distinct pg_get_userbyid(c.relowner) from pg_class c join pg_namespace n"
            " on n.oid = c.relnamespace where n.nspname in ('staging', 'intermediate', 'infomart')"
            " and c.relkind in ('r', 'v')"
        ).fetchall()
        assert owners == [(conninfo_to_dict(mart.dsn["transform"])["user"],)]
    for statement in (
        "insert into raw.voice_agentstate (payload) values ('{}')",
        "delete from raw.voice_agentstate",
        "create table raw.scratch (x int)",
        "create schema scratch",
    ):
        _denied(mart.dsn["transform"], statement)


def test_the_ingest_role_writes_the_raw_tables_only(mart: Mart):
    ingest = mart.dsn["ingest"]
    for statement in (
        "select count(*) from infomart.sm_res_session_fact",
        "select count(*) from staging.stg_events__voice_agentstate",
        "insert into infomart.sm_res_session_fact default values",
        "delete from raw.voice_agentstate",
        "update raw.voice_agentstate set payload = '{}'",
        "select count(*) from raw.voice_agentstate",  # it appends; reading back events is not its job
        "create table raw.scratch (x int)",
        "create table public.scratch (x int)",
        "create table staging.scratch (x int)",
        "create schema scratch",
        "create temporary table scratch (x int)",
    ):
        _denied(ingest, statement)


def test_the_kafka_ingester_lands_as_the_ingest_role(mart: Mart, kafka_bootstrap: str, events: EventFactory):
    from ingest.kafka_client import make_producer
    from tests.helpers import with_topics_of_its_own

    settings = with_topics_of_its_own(mart.settings, kafka_bootstrap)
    producer = make_producer(settings, kafka_bootstrap)
    topic = settings.topics.voice_agentstate
    producer.create_topics([topic], 1)
    for e in _agent_day(events, "a-kafka")["voice-agentstate"]:
        producer.send(topic, None, EventFactory.dumps(e))
    producer.close()
    for _ in range(2):  # the second run starts at the offsets the first stored
        ingester = KafkaIngester(settings, mart.dsn["ingest"], kafka_bootstrap)
        try:
            stats = ingester.run(until_drained=True)
        finally:
            ingester.close()
        assert stats.rejects == 0
    with psycopg.connect(mart.admin) as conn:
        n = conn.execute("select count(*) from raw.voice_agentstate where payload->>'agent_id' = 'a-kafka'")
        assert n.fetchone()[0] == 3  # type: ignore[index]


def test_the_reporting_and_export_roles_read_and_never_write(mart: Mart):
    for role in ("reporting", "export"):
        with psycopg.connect(mart.dsn[role]) as conn:
            assert conn.execute("select count(*) from infomart.sm_res_session_fact").fetchone()[0] == 2  # type: ignore[index]
        for statement in (
            "delete from infomart.sm_res_session_fact",
            "create table infomart.scratch (x int)",
        ):
            _denied(mart.dsn[role], statement, match=r"read-only|permission denied")
        writable = psycopg.connect(mart.dsn[role], options="-c default_transaction_read_only=off")
        with writable as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from infomart.sm_res_session_fact")
        _denied(mart.dsn[role], "select count(*) from raw.voice_agentstate")
        _denied(mart.dsn[role], "select count(*) from staging.stg_events__voice_agentstate")
    _denied(mart.dsn["export"], "select * from reports.rpt_queue_summary")  # reports are the reader's


def test_the_export_job_reads_as_the_export_role_and_records_as_the_transform_role(
    mart: Mart, tmp_path: Path
):
    transform_settings = mart.settings.model_copy(update={"pg_dsn": mart.dsn["transform"]})
    transform(transform_settings, mart.dsn["transform"], tests=False, select=SELECTION[1:])
    store = LocalObjectStore(tmp_path / "objects")
    result = run_export(transform_settings, mart.dsn["transform"], mart.dsn["export"], store)
    with psycopg.connect(mart.dsn["export"]) as conn:
        sessions = conn.execute("select count(*) from infomart.sm_res_session_fact").fetchone()[0]  # type: ignore[index]
    assert result.folder is not None and result.tables["sm_res_session_fact"] == sessions > 0
    assert store.exists(f"export/{result.folder}/manifest.json")
    _denied(mart.dsn["export"], "select count(*) from ctl.ctl_etl_history")  # the jobs' tables are not its


def test_a_cycle_sees_the_ingest_roles_open_transaction(mart: Mart):
    """pipeline/freshness.py: rows an open ingest transaction commits later must not be skipped."""
    with psycopg.connect(mart.dsn["ingest"]) as conn:
        conn.execute("insert into raw.rejects (topic, reason) values ('voice-agentstate', 'test: open')")
        _, oldest = freshness.open_write_transactions(mart.dsn["transform"])
        assert oldest is not None
        conn.rollback()


# ------------------------------------------------------------------ two tenants side by side
def test_two_tenants_on_one_server_keep_their_own_rows(pg_server: str, tmp_path: Path):
    tenants = [f"ta{uuid.uuid4().hex[:6]}", f"tb{uuid.uuid4().hex[:6]}"]
    databases = [_database(pg_server, embedded.tenant_database(t)) for t in tenants]
    admins = [next(d) for d in databases]
    try:
        settings = [
            _settings(tmp_path / t, admin, tenant=t) for t, admin in zip(tenants, admins, strict=True)
        ]
        factories = {t: EventFactory(tenant=t) for t in tenants}
        for s, admin in zip(settings, admins, strict=True):
            init_roles(admin)
            ingest = component_dsn(s, admin, "ingest")
            # both tenants' events arrive at both: each database lands its own, rejects the other's
            rejects = 0
            for t in tenants:
                rejects += _land(s, ingest, tmp_path / s.tenant / t, _agent_day(factories[t], f"agent-{t}"))
            assert rejects == 3
            _build(s, component_dsn(s, admin, "transform"))
        for s, admin in zip(settings, admins, strict=True):
            other = next(t for t in tenants if t != s.tenant)
            with psycopg.connect(admin) as conn:
                staged = conn.execute("select distinct agent_id from staging.stg_events__voice_agentstate")
                assert [r[0] for r in staged] == [f"agent-{s.tenant}"]
                raw = conn.execute("select distinct payload->>'tenant' from raw.voice_agentstate")
                assert [r[0] for r in raw] == [s.tenant]
                reasons = conn.execute("select distinct split_part(reason, ':', 1) from raw.rejects")
                assert [r[0] for r in reasons] == ["wrong_tenant"]
                sessions = conn.execute("select distinct agent_id from infomart.sm_res_session_fact")
                assert [r[0] for r in sessions] == [f"agent-{s.tenant}"]
            # and a role of one tenant's database cannot even connect to the other's
            other_db = embedded.tenant_database(other)
            foreign = make_conninfo(component_dsn(s, admin, "reporting"), dbname=other_db)
            with pytest.raises(psycopg.OperationalError, match=r"permission denied|not permitted"):
                psycopg.connect(foreign).close()
    finally:
        for d in databases:
            next(d, None)


# ------------------------------------------------------------------ the embedded default
def test_the_embedded_default_makes_its_roles_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """With INFOMART_DB_ROLES on and the embedded PostgreSQL (ours, as its superuser), a command needs
    no `roles init` first: the ingester lands as the ingest role."""
    from typer.testing import CliRunner

    from cli.main import app

    home = Path(tempfile.mkdtemp(prefix="imt-roles-", dir="/tmp"))  # a short socket path
    monkeypatch.setenv("INFOMART_HOME", str(home))
    monkeypatch.setenv("INFOMART_DB_ROLES", "true")
    folder = write_events(tmp_path / "events", _agent_day(EventFactory(), "a-embedded"))
    try:
        result = CliRunner().invoke(app, ["ingest", "archive", str(folder)])
        assert result.exit_code == 0, result.output
        database = embedded.tenant_database("t1")
        admin = embedded.start_embedded_postgres(home, database)
        with psycopg.connect(admin) as conn:
            assert conn.execute("select count(*) from raw.voice_agentstate").fetchone()[0] == 3  # type: ignore[index]
            roles = conn.execute("select rolname from pg_roles where rolname like %s", (f"{database}\\_%",))
            assert {r[0] for r in roles} == set(role_names(database).values())
        _denied(make_conninfo(admin, user=f"{database}_ingest"), "select count(*) from raw.voice_agentstate")
        shown = CliRunner().invoke(app, ["roles", "init"])
        assert shown.exit_code == 0 and f"{database}_transform" in shown.output
    finally:
        embedded.stop_embedded_postgres(home)
        shutil.rmtree(home, ignore_errors=True)
