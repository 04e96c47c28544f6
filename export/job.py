"""The export job (``infomart export``), modeled on GIM's Data Export.

Each run reads one snapshot of the Info Mart (a repeatable-read, read-only transaction) and writes
to object storage (S3 or the local folder, infomart/objectstore.py), under
``<INFOMART_EXPORT_PREFIX>/export_<audit key>_<YYYY_MM_DD_HH_MI_SS>/``:

* ``data.zip``: one UTF-8 CSV per table (header line, export/package.py for the formats);
* ``parquet/<table>.parquet``: the same rows, typed;
* ``manifest.json``, written last: the tables (kind, rows, columns, sha256 of the CSV and of the
  Parquet file), the sha256 of ``data.zip``, the audit-key range, the newest data time, the
  schema version. A folder without a manifest is an export that did not finish.

What is exported: the facts (the tables with UPDATE_AUDIT_KEY) incrementally, the rows whose
UPDATE_AUDIT_KEY is in (the last export's high-water mark, this export's]; the dimensions
whole; the aggregates only with ``INFOMART_EXPORT_AGGREGATES``. The folder is named from the
high-water mark and the newest event time of the exported audit range.

Exactly once: the high-water mark is recorded in CTL_EXTRACT_HISTORY only after the manifest is
written. A run that dies before its manifest leaves a folder without one, which the next run
removes before it exports the same range again; a run that dies after its manifest but before
recording it is adopted by the next run (its manifest's high-water mark is recorded), so no row is
missing and none is exported twice. Output older than ``INFOMART_EXPORT_KEEP_DAYS`` (GIM's
days-to-keep-output-files) is removed at the end of each run.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg

from export.package import Column, Package, TableExtract, sha256_of, write_table, zip_csvs
from infomart import metrics
from infomart.metrics import SCHEMA_VERSION
from infomart.objectstore import ObjectNotFound, ObjectStore
from infomart.settings import Settings
from pipeline import control

log = logging.getLogger(__name__)

SCHEMA = "infomart"
MANIFEST = "manifest.json"
FORMAT = "infomart-export/1"
#: tables of the schema never exported: the data-quality views, bookkeeping
EXCLUDED_PREFIXES = ("dq_",)


class ExportError(Exception):
    """The export could not be made; the message says why."""


@dataclass(frozen=True)
class ExportResult:
    folder: str | None  # the folder written (None: nothing new to export)
    audit_range: tuple[int, int]
    rows: int
    tables: dict[str, int]
    bytes_written: int
    seconds: float
    removed: list[str]
    adopted: str | None = None  # an earlier run's finished but unrecorded export, recorded now


def _last_exported(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "select high_water_mark from ctl.admin_extract_history"
        " where source_kind = 'export' and source_name = 'audit_key'"
    ).fetchone()
    return int(row[0]) if row else 0


def _audit_high(conn: psycopg.Connection) -> int:
    """The highest audit key below every transform still running: all its rows are committed."""
    row = conn.execute(
        "select coalesce((select min(audit_key) - 1 from ctl.ctl_audit_log where status = 'running'),"
        " (select max(audit_key) from ctl.ctl_audit_log), 0)"
    ).fetchone()
    return int(row[0]) if row else 0


def _newest_data_ts(conn: psycopg.Connection, high: int) -> datetime | None:
    row = conn.execute(
        "select max(max_data_ts) from ctl.ctl_audit_log where audit_key <= %s", (high,)
    ).fetchone()
    return row[0] if row else None


def _tables(conn: psycopg.Connection, aggregates: bool) -> list[tuple[str, tuple[Column, ...]]]:
    rows = conn.execute(
        "select c.table_name, c.column_name, c.data_type from information_schema.columns as c"
        " join information_schema.tables as t using (table_schema, table_name)"
        " where c.table_schema = %s and (t.table_type = 'BASE TABLE' or (%s and t.table_name like 'ag2%%'))"
        # a day partition's rows are its table's (macros/partitions.sql)
        " and not (select relispartition from pg_class where oid = format('%%I.%%I', c.table_schema,"
        " c.table_name)::regclass)"
        " order by c.table_name, c.ordinal_position",
        (SCHEMA, aggregates),
    ).fetchall()
    tables: dict[str, list[Column]] = {}
    for table, column, data_type in rows:
        if table.startswith(EXCLUDED_PREFIXES) or (not aggregates and table.startswith("ag2")):
            continue
        tables.setdefault(table, []).append(Column(column, data_type))
    return [(name, tuple(cols)) for name, cols in tables.items()]


def _folders(store: ObjectStore, prefix: str) -> dict[str, set[str]]:
    """Export folder name -> the names of the files in it."""
    out: dict[str, set[str]] = {}
    for key in store.list(prefix + "/"):
        rest = key[len(prefix) + 1 :]
        folder, _, name = rest.partition("/")
        if folder.startswith("export_") and name:
            out.setdefault(folder, set()).add(name)
    return out


def _manifest(store: ObjectStore, prefix: str, folder: str) -> dict | None:
    try:
        return orjson.loads(store.get(f"{prefix}/{folder}/{MANIFEST}"))
    except (ObjectNotFound, orjson.JSONDecodeError):
        return None


def _remove(store: ObjectStore, prefix: str, folder: str, names: set[str]) -> None:
    # the manifest first: a half-removed folder is then an unfinished one, removed next time
    for name in sorted(names, key=lambda n: n != MANIFEST):
        store.delete(f"{prefix}/{folder}/{name}")


def run_export(
    settings: Settings, dsn: str, read_dsn: str, store: ObjectStore, now: datetime | None = None
) -> ExportResult:
    """One export run, recorded in CTL_ETL_HISTORY (``dsn``, the Info Mart's owner, writes the
    control tables; ``read_dsn``, the export role's, reads the tables)."""
    started = time.monotonic()
    prefix = settings.export_prefix.strip("/")
    with control.job(dsn, "export") as run, psycopg.connect(dsn, autocommit=True) as ctl:
        # one export at a time (the lock ends with the connection, a killed run's too)
        if not ctl.execute("select pg_try_advisory_lock(hashtext('infomart.export'))").fetchone()[0]:  # type: ignore[index]
            raise ExportError("another export is running on this Info Mart; try again when it has finished")
        low = _last_exported(ctl)
        adopted = _adopt_or_clean(store, prefix, low, ctl, run.job_run_id)
        if adopted is not None:
            low = _last_exported(ctl)
        # the control tables are read by the owner (the export role reads the marts only); every
        # build up to `high` has ended, so the snapshot taken next holds all of its rows
        high = _audit_high(ctl)
        newest = _newest_data_ts(ctl, high) or (now or datetime.now(UTC))
        result = _export(settings, read_dsn, store, prefix, (low, high), newest, now, started, adopted)
        if result.folder is not None:
            with ctl.transaction():
                _record(ctl, run.job_run_id, result)
        removed = _apply_retention(store, prefix, settings.export_keep_days, now)
        run.row_count = result.rows
        run.audit_key = result.audit_range[1] or None
    metrics.EXPORT_LAST_SUCCESS_TS.set(time.time())
    return ExportResult(**{**result.__dict__, "removed": removed, "seconds": time.monotonic() - started})


def _adopt_or_clean(
    store: ObjectStore, prefix: str, low: int, ctl: psycopg.Connection, job_run_id: int
) -> str | None:
    """Remove unfinished folders; record a finished one above the high-water mark (a run that died
    after its manifest); the adopted folder's name."""
    adopted = None
    for folder, names in sorted(_folders(store, prefix).items()):
        manifest = _manifest(store, prefix, folder) if MANIFEST in names else None
        if manifest is None:
            log.warning("export: removing %s/%s, an export that did not finish", prefix, folder)
            _remove(store, prefix, folder, names)
        elif int(manifest["audit_key_high"]) > low:
            with ctl.transaction():
                _record_manifest(ctl, job_run_id, manifest)
            low, adopted = int(manifest["audit_key_high"]), folder
            log.warning(
                "export: recorded %s/%s, finished by a run that ended before recording it", prefix, folder
            )
    return adopted


def _export(
    settings: Settings,
    read_dsn: str,
    store: ObjectStore,
    prefix: str,
    audit_range: tuple[int, int],
    newest: datetime,
    now: datetime | None,
    started: float,
    adopted: str | None,
) -> ExportResult:
    low, high = audit_range
    if high <= low:
        return ExportResult(None, (low, high), 0, {}, 0, time.monotonic() - started, [], adopted)
    with psycopg.connect(read_dsn) as conn:
        conn.execute("set transaction isolation level repeatable read, read only")
        folder = f"export_{high}_{newest.astimezone(UTC):%Y_%m_%d_%H_%M_%S}"
        with tempfile.TemporaryDirectory(prefix="infomart-export-") as tmp:
            package = Package(Path(tmp))
            for name, columns in _tables(conn, settings.export_aggregates):
                incremental = any(c.name == "update_audit_key" for c in columns)
                extract = TableExtract(name, columns, (low, high) if incremental else None)
                package.tables.append(write_table(conn, SCHEMA, extract, package.folder))
            conn.rollback()
            zip_csvs(package)
            written = _upload(store, prefix, folder, package, (low, high), newest, now)
    tables = {t.name: t.rows for t in package.tables}
    return ExportResult(
        folder, (low, high), package.rows, tables, written, time.monotonic() - started, [], adopted
    )


def _upload(
    store: ObjectStore,
    prefix: str,
    folder: str,
    package: Package,
    audit_range: tuple[int, int],
    newest: datetime,
    now: datetime | None,
) -> int:
    """data.zip, the Parquet files, then the manifest (last: its presence says the export is whole)."""
    base = f"{prefix}/{folder}"
    files = [("data.zip", package.zip_path, "application/zip")] + [
        (f"parquet/{t.name}.parquet", t.parquet, "application/vnd.apache.parquet") for t in package.tables
    ]
    written = 0
    for name, path, content_type in files:
        store.put_file(f"{base}/{name}", path, content_type)
        written += path.stat().st_size
    manifest = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "exported_at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "audit_key_low": audit_range[0],
        "audit_key_high": audit_range[1],
        "newest_data_ts": newest.astimezone(UTC).isoformat(),
        "files": {"data.zip": sha256_of(package.zip_path)},
        "tables": [
            {
                "name": t.name,
                "kind": t.kind,
                "rows": t.rows,
                "csv": f"data.zip:{t.csv.name}",
                "csv_sha256": t.csv_sha256,
                "parquet": f"parquet/{t.name}.parquet",
                "parquet_sha256": t.parquet_sha256,
                "columns": [{"name": c.name, "type": c.data_type} for c in t.columns],
            }
            for t in package.tables
        ],
    }
    data = orjson.dumps(manifest, option=orjson.OPT_INDENT_2)
    store.put(f"{base}/{MANIFEST}", data, "application/json")
    return written + len(data)


def _record(ctl: psycopg.Connection, job_run_id: int, result: ExportResult) -> None:
    for table, rows in result.tables.items():
        control.record_extract(ctl, job_run_id, "export", table, result.audit_range[1], row_count=rows)
    control.record_extract(
        ctl, job_run_id, "export", "audit_key", result.audit_range[1], row_count=result.rows
    )


def _record_manifest(ctl: psycopg.Connection, job_run_id: int, manifest: dict) -> None:
    high = int(manifest["audit_key_high"])
    for table in manifest["tables"]:
        control.record_extract(ctl, job_run_id, "export", table["name"], high, row_count=int(table["rows"]))
    rows = sum(int(t["rows"]) for t in manifest["tables"])
    control.record_extract(ctl, job_run_id, "export", "audit_key", high, row_count=rows)


def _apply_retention(store: ObjectStore, prefix: str, keep_days: int, now: datetime | None) -> list[str]:
    """Remove the finished exports written more than ``keep_days`` ago; their names."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    removed = []
    for folder, names in sorted(_folders(store, prefix).items()):
        manifest = _manifest(store, prefix, folder) if MANIFEST in names else None
        if manifest is not None and datetime.fromisoformat(manifest["exported_at"]) < cutoff:
            _remove(store, prefix, folder, names)
            removed.append(folder)
    return removed
