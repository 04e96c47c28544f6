"""The export job (export/job.py) against moto_server as the S3 peer: a round trip (the CSVs and
the Parquet files read back from S3 hold exactly the tables' rows, the manifest's checksums match),
an incremental export after a second cycle holds exactly the rows that cycle created or changed,
an export killed mid-upload is resumed with no row missing and none twice, and old output is
removed after its retention."""

from __future__ import annotations

import csv
import io
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
import pyarrow.parquet as pq
import pytest

from export.job import SCHEMA, run_export
from export.package import Column, TableExtract
from infomart.objectstore import LocalObjectStore, S3ObjectStore
from infomart.settings import LOGICAL_TOPICS, S3Settings, Settings
from pipeline.transform import transform
from simulator import SimulationConfig, simulate
from tests import helpers

ROOT = Path(__file__).resolve().parents[1]
DAY = dict(seed=11, agents=12, duration_hours=3, calls_per_hour=120)
BOOKKEEPING = ("create_audit_key", "update_audit_key")


@pytest.fixture(scope="module")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Settings]:
    yield from helpers.moto_s3(tmp_path_factory.mktemp("moto"), prefix="contact-center")


@pytest.fixture(scope="module")
def two_cycles(
    tmp_path_factory: pytest.TempPathFactory, pg_server: str
) -> Iterator[tuple[Settings, list[Path]]]:
    """A database and the simulated day cut in two deliveries (archive folders), not landed yet."""
    tmp = tmp_path_factory.mktemp("export")
    deliveries = simulate(SimulationConfig(**DAY)).deliveries  # type: ignore[arg-type]
    half = len(deliveries) // 2
    folders = []
    for n, part in enumerate((deliveries[:half], deliveries[half:])):
        folder = tmp / f"cycle{n}"
        folder.mkdir()
        for topic in LOGICAL_TOPICS:
            (folder / f"{topic}.ndjson").write_bytes(
                b"".join(d.value + b"\n" for d in part if d.topic == topic)
            )
        folders.append(folder)
    for settings in helpers.module_database(pg_server, tmp / "home", "export", lookback_minutes=0):
        yield settings, folders


def table_rows(
    dsn: str, table: str, columns: tuple[Column, ...], audit_range: tuple[int, int] | None = None
) -> list[tuple]:
    """The rows as the export writes them (its formats), sorted."""
    extract = TableExtract(table, columns, audit_range)
    with psycopg.connect(dsn) as conn:
        buf = io.StringIO()
        with conn.cursor().copy(
            f"copy ({extract.query(SCHEMA).as_string(conn)}) to stdout with (format csv)"
        ) as cp:
            for block in cp:
                buf.write(bytes(block).decode())
    return sorted(tuple(r) for r in csv.reader(io.StringIO(buf.getvalue())))


def read_export(
    store: S3ObjectStore | LocalObjectStore, prefix: str, folder: str
) -> tuple[dict, dict[str, list[tuple]]]:
    """(manifest, table -> CSV rows) of one export, checking every checksum and that the Parquet
    file holds the CSV's rows."""
    import hashlib

    manifest = orjson.loads(store.get(f"{prefix}/{folder}/manifest.json"))
    data = store.get(f"{prefix}/{folder}/data.zip")
    assert hashlib.sha256(data).hexdigest() == manifest["files"]["data.zip"]
    tables = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in manifest["tables"]:
            raw = archive.read(entry["csv"].split(":", 1)[1])
            assert hashlib.sha256(raw).hexdigest() == entry["csv_sha256"], entry["name"]
            reader = csv.reader(io.StringIO(raw.decode("utf-8")))
            header = next(reader)
            assert header == [c["name"] for c in entry["columns"]]
            rows = sorted(tuple(r) for r in reader)
            assert len(rows) == entry["rows"], entry["name"]
            parquet = store.get(f"{prefix}/{folder}/{entry['parquet']}")
            assert hashlib.sha256(parquet).hexdigest() == entry["parquet_sha256"]
            typed = pq.read_table(io.BytesIO(parquet))
            assert typed.num_rows == entry["rows"] and typed.column_names == header
            tables[entry["name"]] = rows
    return manifest, tables


def finished(store: S3ObjectStore | LocalObjectStore, prefix: str) -> list[str]:
    return sorted({k.split("/")[1] for k in store.list(prefix + "/") if k.endswith("/manifest.json")})


def columns_of(dsn: str) -> dict[str, tuple[Column, ...]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select c.table_name, c.column_name, c.data_type from information_schema.columns as c"
            " join information_schema.tables as t using (table_schema, table_name)"
            " where c.table_schema = 'infomart' and t.table_type = 'BASE TABLE'"
            " and not (select relispartition from pg_class where oid = format('%I.%I', c.table_schema,"
            " c.table_name)::regclass)"
            " and c.table_name not like 'dq\\_%%' and c.table_name not like 'ag2%%'"
            " order by c.table_name, c.ordinal_position"
        ).fetchall()
    out: dict[str, list[Column]] = {}
    for table, column, data_type in rows:
        out.setdefault(table, []).append(Column(column, data_type))
    return {t: tuple(c) for t, c in out.items()}


def without_bookkeeping(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    return tuple(c for c in columns if c.name not in BOOKKEEPING and not c.name.endswith("landed_at"))


def test_export_round_trip_then_exactly_the_changed_rows(two_cycles, moto_s3: S3Settings) -> None:  # type: ignore[no-untyped-def]
    settings, folders = two_cycles
    settings = settings.model_copy(update={"s3": moto_s3})
    dsn = settings.pg_dsn
    store = S3ObjectStore(moto_s3)
    helpers.land_folder(settings, folders[0])
    transform(settings, dsn, tests=False)
    first = run_export(settings, dsn, dsn, store)
    assert first.folder is not None and first.audit_range[0] == 0
    columns = columns_of(dsn)
    facts = sorted(t for t, cols in columns.items() if any(c.name == "update_audit_key" for c in cols))
    assert {
        "interaction_fact",
        "interaction_resource_fact",
        "mediation_segment_fact",
        "sm_res_state_fact",
    } <= set(facts)

    manifest, exported = read_export(store, "export", first.folder)
    assert manifest["audit_key_high"] == first.audit_range[1]
    assert sorted(exported) == sorted(columns)
    for table, cols in columns.items():
        assert exported[table] == table_rows(dsn, table, cols), f"{table} differs from its export"
    assert sum(len(r) for r in exported.values()) == first.rows > 1000

    # second cycle: the rows it created or changed (measures or attributes), and only those
    before = {t: set(table_rows(dsn, t, without_bookkeeping(columns[t]))) for t in facts}
    helpers.land_folder(settings, folders[1])
    transform(settings, dsn, tests=False)
    changed = {t: set(table_rows(dsn, t, without_bookkeeping(columns[t]))) - before[t] for t in facts}
    second = run_export(settings, dsn, dsn, store)
    assert second.folder is not None and second.audit_range[0] == first.audit_range[1]
    _, exported2 = read_export(store, "export", second.folder)
    for table in facts:
        kept = [i for i, c in enumerate(columns[table]) if c in without_bookkeeping(columns[table])]
        got = {tuple(row[i] for i in kept) for row in exported2[table]}
        assert got == changed[table], (
            f"{table}: exported {len(got)} rows, {len(changed[table])} changed;"
            f" not changed but exported {sorted(got - changed[table])[:2]},"
            f" changed but not exported {sorted(changed[table] - got)[:2]}"
        )
        assert len(exported2[table]) == len(got)  # each changed row once
    assert sum(len(changed[t]) for t in facts) > 100
    assert any(len(changed[t]) < len(table_rows(dsn, t, columns[t])) for t in facts)

    # nothing new: no third folder; the control tables tell what happened
    third = run_export(settings, dsn, dsn, store)
    assert third.folder is None and finished(store, "export") == sorted([first.folder, second.folder])
    with psycopg.connect(dsn) as conn:
        jobs = conn.execute(
            "select status, row_count from ctl.admin_etl_job_history"
            " where job_name = 'export' order by job_run_id"
        ).fetchall()
        assert jobs == [("succeeded", first.rows), ("succeeded", second.rows), ("succeeded", 0)]
        mark = conn.execute(
            "select high_water_mark from ctl.admin_extract_history"
            " where source_kind = 'export' and source_name = 'audit_key'"
        ).fetchone()
        assert mark == (second.audit_range[1],)
        audits = conn.execute(
            "select status, min_data_ts is not null from ctl.ctl_audit_log order by audit_key"
        ).fetchall()
        assert audits == [("succeeded", True), ("succeeded", True)]


def _env(settings: Settings, s3: S3Settings) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOMART_")}
    env.update(
        {
            "INFOMART_PG_DSN": settings.pg_dsn or "",
            "INFOMART_HOME": str(settings.home),
            "INFOMART_S3__BUCKET": s3.bucket or "",
            "INFOMART_S3__ENDPOINT_URL": s3.endpoint_url or "",
            "INFOMART_S3__ACCESS_KEY_ID": s3.access_key_id or "",
            "INFOMART_S3__SECRET_ACCESS_KEY": s3.secret_access_key or "",
            "INFOMART_S3__PREFIX": "killed",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def test_export_killed_mid_upload_resumes_with_no_row_missing_or_twice(
    two_cycles, moto_s3: S3Settings
) -> None:  # type: ignore[no-untyped-def]
    settings, _ = two_cycles  # built by the round trip (same module): both cycles are in the marts
    s3 = moto_s3.model_copy(update={"prefix": "killed"})
    store = S3ObjectStore(s3)
    dsn = settings.pg_dsn
    with psycopg.connect(dsn, autocommit=True) as conn:  # export everything again, under another prefix
        conn.execute("delete from ctl.ctl_extract_history where source_kind = 'export'")
    command = [sys.executable, "-m", "cli.main", "export"]
    proc = subprocess.Popen(
        command, env=_env(settings, s3), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while not store.list("export/") and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    output = proc.communicate()[0].decode()
    assert proc.returncode == -signal.SIGKILL, f"the export ended before it was killed: {output}"
    assert store.list("export/"), "killed before it wrote anything"
    assert finished(store, "export") == [], "killed after its manifest: nothing to resume"

    done = subprocess.run(
        command, env=_env(settings, s3), cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [folder] = finished(store, "export")
    assert {k.split("/")[1] for k in store.list("export/")} == {folder}, "the unfinished folder stayed"
    _, exported = read_export(store, "export", folder)
    for table, cols in columns_of(dsn).items():
        assert exported[table] == table_rows(dsn, table, cols), table
    with psycopg.connect(dsn) as conn:
        statuses = conn.execute(
            "select status, error_message like 'abandoned%%' from ctl.ctl_etl_history"
            " where job_name = 'export' order by job_run_id desc limit 2"
        ).fetchall()
    assert statuses == [("succeeded", None), ("failed", True)]


def test_export_to_a_folder_keeps_output_for_its_retention(two_cycles, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, _ = two_cycles
    settings = settings.model_copy(update={"export_keep_days": 3, "export_prefix": "kept"})
    store = LocalObjectStore(tmp_path / "objects")
    dsn = settings.pg_dsn
    with psycopg.connect(dsn, autocommit=True) as conn:  # export everything again
        conn.execute("delete from ctl.ctl_extract_history where source_kind = 'export'")
    now = datetime.now(UTC)
    old = run_export(settings, dsn, dsn, store, now=now - timedelta(days=4))
    assert old.folder is not None and old.removed == []
    assert old.folder.startswith(f"export_{old.audit_range[1]}_")
    assert (tmp_path / "objects" / "kept" / old.folder / "manifest.json").is_file()
    kept = run_export(settings, dsn, dsn, store, now=now - timedelta(days=2))  # 2 days later: kept
    assert kept.folder is None and kept.removed == [] and finished(store, "kept") == [old.folder]
    later = run_export(settings, dsn, dsn, store, now=now)  # 4 days later: past the 3 days
    assert later.folder is None and later.removed == [old.folder]
    assert store.list("kept/") == []
