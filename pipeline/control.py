"""The control tables (GIM's CTL_AUDIT_LOG, CTL_ETL_HISTORY, CTL_EXTRACT_HISTORY and the
ADMIN_ETL_JOB_HISTORY / ADMIN_EXTRACT_HISTORY views, schema ``ctl``, DDL in sql/control.sql):
what every job did, and the audit keys the transform stamps on the fact rows.

* :func:`job` records one run of a job in CTL_ETL_HISTORY: a ``running`` row at the start, then
  ``succeeded`` with its row count or ``failed`` with the error (the exception goes on, and
  ``gim_failed_jobsteps{job}`` counts it, as it counts a job that could not start for an outage). A job that
  is killed leaves its row ``running``; :func:`close_abandoned` marks such rows ``failed`` when the
  next run of the job starts.
* :func:`open_audit` / :func:`close_audit`: a transform's row in CTL_AUDIT_LOG. Its audit key
  reaches the dbt sessions as the setting ``infomart.audit_key`` (:func:`audit_pgoptions`); the
  incremental recipe (macros/incremental.sql) stamps it on the fact rows a build creates or
  changes.
* :func:`record_extract`: high-water marks (Kafka offsets, archive lines, exported audit keys).

The tables are written with the connection each job already has, in their own short
transactions, so that a failed job's row survives its rollback.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import psycopg

from infomart import metrics
from infomart.logs import log_context

log = logging.getLogger(__name__)

JOBS = ("ingest", "transform", "quality", "export", "maintenance", "gdpr")
RELATIONS = (
    "ctl.ctl_audit_log",
    "ctl.ctl_etl_history",
    "ctl.ctl_extract_history",
    "ctl.admin_etl_job_history",
    "ctl.admin_extract_history",
)


def ensure_control_tables(conn: psycopg.Connection) -> None:
    """Create schema ctl, its tables and views when one is missing (serialised by a lock)."""
    row = conn.execute(
        "select count(*) from unnest(%s::text[]) as name where to_regclass(name) is null", (list(RELATIONS),)
    ).fetchone()
    if row is not None and row[0] == 0:
        return
    ddl = resources.files("pipeline").joinpath("sql/control.sql").read_text()
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('infomart.control_tables'))")
        conn.execute(ddl)


@dataclass
class JobRun:
    """A running job's row in CTL_ETL_HISTORY; set ``row_count`` (and ``audit_key``) as it goes."""

    job_run_id: int
    job_name: str
    row_count: int | None = None
    audit_key: int | None = None


def close_abandoned(conn: psycopg.Connection, job_name: str) -> int:
    """Runs of ``job_name`` still ``running`` from a process that is gone (killed): ``failed``."""
    with conn.transaction():
        rows = conn.execute(
            "select job_run_id, host_name, process_id from ctl.ctl_etl_history"
            " where job_name = %s and status = 'running'",
            (job_name,),
        ).fetchall()
        gone = [rid for rid, host, pid in rows if host != socket.gethostname() or not _alive(pid)]
        if gone:
            conn.execute(
                "update ctl.ctl_etl_history set status = 'failed', ended_at = clock_timestamp(),"
                " error_message = 'abandoned: the process ended without recording an outcome'"
                " where job_run_id = any(%s)",
                (gone,),
            )
            conn.execute(
                "update ctl.ctl_audit_log set status = 'failed', ended_at = clock_timestamp()"
                " where status = 'running' and audit_key in"
                " (select audit_key from ctl.ctl_etl_history where job_run_id = any(%s))",
                (gone,),
            )
    return len(gone)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def job(dsn: str, job_name: str) -> Iterator[JobRun]:
    """Record one run of ``job_name`` in CTL_ETL_HISTORY around the block."""
    if job_name not in JOBS:
        raise ValueError(f"unknown job {job_name!r}; one of {', '.join(JOBS)}")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            ensure_control_tables(conn)
            close_abandoned(conn, job_name)
            row = conn.execute(
                "insert into ctl.ctl_etl_history (job_name, status, host_name, process_id)"
                " values (%s, 'running', %s, %s) returning job_run_id",
                (job_name, socket.gethostname(), os.getpid()),
            ).fetchone()
    except psycopg.Error:  # the database is down: the job cannot run either
        metrics.GIM_FAILED_JOBSTEPS.labels(job_name).inc()
        raise
    assert row is not None
    run = JobRun(int(row[0]), job_name)
    try:
        with log_context(job=job_name, job_run_id=run.job_run_id):
            yield run
    except BaseException as exc:
        metrics.GIM_FAILED_JOBSTEPS.labels(job_name).inc()
        _finish(dsn, run, "failed", f"{type(exc).__name__}: {exc}"[:4000])
        raise
    _finish(dsn, run, "succeeded", None)


def _finish(dsn: str, run: JobRun, status: str, error: str | None) -> None:
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "update ctl.ctl_etl_history set status = %s, ended_at = clock_timestamp(), row_count = %s,"
                " error_message = %s, audit_key = coalesce(%s, audit_key) where job_run_id = %s",
                (status, run.row_count, error, run.audit_key, run.job_run_id),
            )
    except psycopg.Error as exc:  # an outage: the next run marks this one abandoned
        log.warning(
            "CTL_ETL_HISTORY: could not record the end of %s run %d: %s", run.job_name, run.job_run_id, exc
        )


def open_audit(dsn: str, run: JobRun) -> int:
    """A new ``running`` row of CTL_AUDIT_LOG for the job run, linked to its CTL_ETL_HISTORY row in
    the same transaction (so that a killed run's audit row is closed as abandoned with it); its key."""
    with psycopg.connect(dsn) as conn, conn.transaction():
        row = conn.execute(
            "insert into ctl.ctl_audit_log (job_name, status) values (%s, 'running') returning audit_key",
            (run.job_name,),
        ).fetchone()
        assert row is not None
        conn.execute(
            "update ctl.ctl_etl_history set audit_key = %s where job_run_id = %s", (row[0], run.job_run_id)
        )
    run.audit_key = int(row[0])
    return run.audit_key


def close_audit(
    dsn: str,
    audit_key: int,
    succeeded: bool,
    data_range: tuple[datetime | None, datetime | None] = (None, None),
) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "update ctl.ctl_audit_log set status = %s, ended_at = clock_timestamp(),"
            " min_data_ts = %s, max_data_ts = %s where audit_key = %s",
            ("succeeded" if succeeded else "failed", *data_range, audit_key),
        )


def drop_audit(dsn: str, run: JobRun) -> None:
    """Remove the audit row of a run whose build did nothing (a cycle without new rows)."""
    with psycopg.connect(dsn) as conn, conn.transaction():
        conn.execute(
            "update ctl.ctl_etl_history set audit_key = null where job_run_id = %s", (run.job_run_id,)
        )
        conn.execute("delete from ctl.ctl_audit_log where audit_key = %s", (run.audit_key,))
    run.audit_key = None


#: the staging models whose event times make an audit row's data range
STAGING_TABLES = tuple(
    f"staging.stg_events__{t}"
    for t in ("voice_callthread", "voice_agentstate", "digital_itx", "digital_agentstate", "voice_outbound")
)


def staged_range(dsn: str, audit_key: int) -> tuple[datetime | None, datetime | None]:
    """Event-time range of the staged events that landed after the previous successful build began
    (the data this build brought in); (None, None) when there is none or staging is not built."""
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(
                "select max(started_at) from ctl.ctl_audit_log where audit_key < %s and status = 'succeeded'",
                (audit_key,),
            ).fetchone()
            since = row[0] if row else None
            low: datetime | None = None
            high: datetime | None = None
            for table in STAGING_TABLES:
                if conn.execute("select to_regclass(%s)", (table,)).fetchone() == (None,):
                    continue
                lo, hi = conn.execute(
                    f"select min(event_ts), max(event_ts) from {table}"
                    " where %s::timestamptz is null or landed_at > %s",
                    (since, since),
                ).fetchone()  # type: ignore[misc]
                low = lo if low is None or (lo is not None and lo < low) else low
                high = hi if high is None or (hi is not None and hi > high) else high
            return low, high
    except psycopg.Error as exc:
        log.warning("CTL_AUDIT_LOG: no data range for audit key %d: %s", audit_key, exc)
        return None, None


def audit_pgoptions(audit_key: int, existing: str | None = None) -> str:
    """``PGOPTIONS`` for dbt's sessions: the audit key as the setting ``infomart.audit_key`` (read by
    the macro ``current_audit_key()``); not a dbt var, which would change the project's fingerprint
    and so force a full build every cycle."""
    option = f"-c infomart.audit_key={int(audit_key)}"
    return f"{existing} {option}" if existing else option


def record_model_builds(
    dsn: str, audit_key: int, models: list[str], landed_floor: datetime | None = None
) -> None:
    """The models a build (audit key) built successfully: their last built audit key, and the
    landing floor measured before the build (macros/keys_and_time.sql landed_since), in
    ctl.ctl_model_build (made by dbt's on-run-start, macros/control.sql: the models read it)."""
    if not models:
        return
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "insert into ctl.ctl_model_build (model_name, audit_key, landed_floor)"
            " select unnest(%s::text[]), %s, %s"
            " on conflict (model_name) do update set audit_key = excluded.audit_key,"
            " landed_floor = excluded.landed_floor, built_at = clock_timestamp()",
            (models, audit_key, landed_floor),
        )


def record_extract(
    conn: psycopg.Connection,
    job_run_id: int | None,
    source_kind: str,
    source_name: str,
    high_water_mark: int,
    source_part: str = "",
    row_count: int = 0,
    max_data_ts: datetime | None = None,
) -> None:
    """One high-water mark into CTL_EXTRACT_HISTORY (in the caller's transaction)."""
    conn.execute(
        "insert into ctl.ctl_extract_history (job_run_id, source_kind, source_name, source_part,"
        " high_water_mark, row_count, max_data_ts) values (%s, %s, %s, %s, %s, %s, %s)",
        (job_run_id, source_kind, source_name, source_part, high_water_mark, row_count, max_data_ts),
    )
