"""Shared helpers of the tests that land hand-made or simulated events and build dbt models on a
database of their own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infomart.settings import S3Settings, Settings
from ingest.archive_ingester import ArchiveIngester, find_archives
from ingest.config.database import init_schema
from ingest.config.feed import FeedStats, feed_configuration
from ingest.config.writer import ObjectChange
from ingest.kafka_ingester import KafkaIngester
from pipeline.transform import run_dbt


def module_database(pg_server: str, home: Path, prefix: str, **settings: Any) -> Iterator[Settings]:
    """A database of its own for a test module (dbt re-parses the project whenever the profile's
    database changes, so one database per module saves a parse per test); dropped at the end."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    info = conninfo_to_dict(pg_server)
    info["dbname"] = name
    yield Settings(
        home=home,
        pg_dsn=make_conninfo(**info),
        tenant="t1",
        batch_size=5000,
        metrics_port=0,
        **settings,
    )
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def drop_all_schemas(settings: Settings) -> Settings:
    """Empties the database of every schema a previous test made (raw, staging, marts ...)."""
    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:  # type: ignore[arg-type]
        schemas = [
            r[0]
            for r in conn.execute(
                "select nspname from pg_namespace where nspname not like 'pg\\_%'"
                " and nspname not in ('information_schema', 'public')"
            )
        ]
        for schema in schemas:
            conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
    return settings


def write_events(folder: Path, by_topic: dict[str, list[dict]]) -> Path:
    """One NDJSON archive per topic in a new folder."""
    folder.mkdir(parents=True)
    for topic, events in by_topic.items():
        if events:
            (folder / f"{topic}.ndjson").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return folder


def land_folder(settings: Settings, folder: Path) -> int:
    """Ingests the folder's archives; every event must pass the contract. Returns the lines read."""
    ingester = ArchiveIngester(settings, settings.pg_dsn)  # type: ignore[arg-type]
    try:
        stats = ingester.ingest(find_archives([folder], settings))
    finally:
        ingester.close()
    assert stats.rejects == 0
    return stats.total


def land_events(settings: Settings, folder: Path, by_topic: dict[str, list[dict]]) -> None:
    land_folder(settings, write_events(folder, by_topic))


def build_models(
    settings: Settings, selection: list[str], tests: bool = True, full_refresh: bool = False
) -> None:
    """`dbt build` of a selection (with its data and unit tests unless ``tests`` is False) in a target
    folder of the settings' home, so dbt's partial parse stays valid between the runs."""
    args = ["build", "--indirect-selection", "cautious"]
    if not tests:
        args += ["--exclude-resource-type", "test", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    args += ["--target-path", str(settings.home / "dbt-target"), *selection]
    result = run_dbt(settings, settings.pg_dsn, args)  # type: ignore[arg-type]
    assert result.success and not result.failures()


def with_topics_of_its_own(settings: Settings, kafka_bootstrap: str) -> Settings:
    """The settings on the test broker, with topic names no other test uses."""
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    topics = settings.topics.model_copy(
        update={name: prefix + value for name, value in settings.topics.model_dump().items()}
    )
    return settings.model_copy(update={"kafka_bootstrap_servers": kafka_bootstrap, "topics": topics})


def configure_through_adapter(settings: Settings, cfg_dsn: str, changes: list[ObjectChange]) -> FeedStats:
    """Configuration the real way: the changes written into the Configuration Database at
    ``cfg_dsn`` at their times, published on gca-cfg by the config adapter, landed by the
    Kafka ingester (every message must pass the contract)."""
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        init_schema(conn, settings.tenant)
    fed = feed_configuration(settings, cfg_dsn, settings.kafka_bootstrap_servers, changes)  # type: ignore[arg-type]
    land_kafka(settings)
    return fed


def land_kafka(settings: Settings) -> None:
    """Consume the settings' topics until drained; every message must pass the contract."""
    ingester = KafkaIngester(settings, settings.pg_dsn, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    try:
        stats = ingester.run(until_drained=True)
    finally:
        ingester.close()
    assert stats.rejects == 0


def moto_s3(folder: Path, prefix: str = "") -> Iterator[S3Settings]:
    """moto_server on a free loopback port with a bucket, as the S3 peer; stopped at the end."""
    import boto3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(folder / "moto.log", "wb")  # noqa: SIM115
    binary = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert proc.poll() is None and time.monotonic() < deadline, "moto_server did not start"
        time.sleep(0.1)
    s3 = S3Settings(
        bucket="infomart-test",
        endpoint_url=f"http://127.0.0.1:{port}",
        access_key_id="testing",
        secret_access_key="testing",
        prefix=prefix,
    )
    boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        region_name=s3.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=s3.bucket)
    try:
        yield s3
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
