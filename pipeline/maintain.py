"""The maintenance job (``infomart maintain``, and daily in ``infomart run``), modeled on GIM's
Job_MaintainGIM: retention purge per table family, DATE_TIME kept far enough ahead, VACUUM
(ANALYZE) of what was purged.

Families and their settings (GIM's option in brackets):

* interaction and agent-state facts (``days-to-keep-gim-facts``,
  ``INFOMART_MAINTAIN_FACTS_KEEP_DAYS``): rows that started before the cut-off; with them the
  staged events and the raw events (event time) of the event topics before it, so that no rebuild
  brings them back. The configuration's events (gca-cfg) are never purged: every version of an
  object is needed to know its current state.
* configuration facts, RESOURCE_GROUP_FACT and RESOURCE_SKILL_FACT (``days-to-keep-cfg-facts``,
  ``INFOMART_MAINTAIN_CFG_FACTS_KEEP_DAYS``, at least the facts'): spans that ended before it.
* discards and job history (``days-to-keep-discards-and-job-history``,
  ``INFOMART_MAINTAIN_HISTORY_KEEP_DAYS``): raw.rejects, the transform discards,
  CTL_ETL_HISTORY, CTL_AUDIT_LOG rows no job run points to, CTL_EXTRACT_HISTORY but the latest
  mark of each source.

DATE_TIME is built 366 days ahead by every transform (var ``date_time_days_ahead``); the job
rebuilds it when it reaches less than 183 days ahead (a service that has not transformed for
half a year). Each family is purged in its own transaction.

The raw event tables (by event time) and the largest facts (IRF, MSF and the agent-state facts,
by START_TS) are partitioned by UTC day (ingest/sql/raw_schema.sql, macros/partitions.sql):
their purge drops the partitions of the days wholly before the cut-off, and deletes only the
rows before it in the partition of the cut-off's own day and in the default partition. The job
first makes the raw tables' day partitions ``maintain_partitions_ahead_days`` ahead (GIM's
partitioning-ahead-range) and moves any rows of the default partitions into day partitions of
their own. Staging and INTERACTION_FACT are not partitioned: their purge is a DELETE.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg import sql

from infomart.settings import Settings
from pipeline import control

log = logging.getLogger(__name__)

EVENT_TOPICS = ("voice_callthread", "voice_agentstate", "digital_itx", "digital_agentstate", "voice_outbound")
RAW_EVENT_TABLES = (*(f"raw.{t}" for t in EVENT_TOPICS), "raw.gca_cfg")
#: fact table -> the time column the retention applies to
FACTS = {
    "interaction_fact": "start_ts",
    "interaction_resource_fact": "start_ts",
    "mediation_segment_fact": "start_ts",
    "sm_res_session_fact": "start_ts",
    "sm_res_state_fact": "start_ts",
    "sm_res_state_reason_fact": "start_ts",
    "sm_media_neutral_state_fact": "start_ts",
}
CFG_FACTS = {"resource_group_fact": "end_ts", "resource_skill_fact": "end_ts"}
DATE_TIME_MIN_DAYS_AHEAD = 183


@dataclass
class MaintainResult:
    purged: dict[str, int] = field(default_factory=dict)  # relation -> rows deleted
    partitions_dropped: int = 0
    partitions_made: int = 0
    date_time_days_ahead: float | None = None
    date_time_rebuilt: bool = False
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.purged.values())


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone() == (True,)


def _delete(conn: psycopg.Connection, relation: str, condition: sql.Composable, params: tuple) -> int:
    if not _exists(conn, relation):
        return 0
    schema, name = relation.split(".")
    cur = conn.execute(
        sql.SQL("delete from {} where ").format(sql.Identifier(schema, name)) + condition, params
    )
    return cur.rowcount


@dataclass(frozen=True)
class Partition:
    name: str  # schema-qualified
    day: date | None  # None: the default partition


def partitions(conn: psycopg.Connection, relation: str) -> list[Partition]:
    """The partitions of ``relation`` (raw.ensure_day_partitions' names); [] when it has none."""
    rows = conn.execute(
        "select n.nspname || '.' || c.relname, substring(c.relname from '_p(\\d{8})$')"
        " from pg_inherits as i join pg_class as c on c.oid = i.inhrelid"
        " join pg_namespace as n on n.oid = c.relnamespace"
        " where i.inhparent = to_regclass(%s) order by c.relname",
        (relation,),
    ).fetchall()
    return [
        Partition(name, None if day is None else datetime.strptime(day, "%Y%m%d").date())
        for name, day in rows
    ]


@dataclass
class Purged:
    """What a purge removed: rows per table, partitions dropped, the tables rows were deleted
    from (to vacuum: a partition of the cut-off day, a default partition, a table not partitioned)."""

    rows: dict[str, int] = field(default_factory=dict)
    partitions_dropped: int = 0
    deleted_from: list[str] = field(default_factory=list)

    def delete(
        self, conn: psycopg.Connection, relation: str, condition: sql.Composable, params: tuple
    ) -> int:
        deleted = _delete(conn, relation, condition, params)
        self.rows[relation] = self.rows.get(relation, 0) + deleted
        if deleted:
            self.deleted_from.append(relation)
        return deleted

    def purge(self, conn: psycopg.Connection, relation: str, column: str, cutoff: datetime) -> None:
        """Rows of ``relation`` with ``column`` before ``cutoff``: the day partitions wholly before
        it dropped (their rows counted), the rest deleted."""
        if not _exists(conn, relation):
            self.rows[relation] = 0
            return
        dropped = 0
        cutoff_day = cutoff.astimezone(UTC).date()
        parts = partitions(conn, relation)
        for part in parts:
            if part.day is not None and part.day < cutoff_day:
                table = sql.Identifier(*part.name.split("."))
                dropped += conn.execute(sql.SQL("select count(*) from {}").format(table)).fetchone()[0]  # type: ignore[index]
                conn.execute(sql.SQL("drop table {}").format(table))
                self.partitions_dropped += 1
        self.rows[relation] = self.rows.get(relation, 0) + dropped
        condition = sql.SQL("{} < %s").format(sql.Identifier(column))
        if not parts:
            self.delete(conn, relation, condition, (cutoff,))
            return
        for part in parts:  # what may hold rows before the cut-off once its days' are dropped
            if part.day is None or part.day == cutoff_day:
                self.rows[relation] += self.delete(conn, part.name, condition, (cutoff,))
                self.rows.pop(part.name)


def sort_partitions(conn: psycopg.Connection, ahead_days: int, now: datetime) -> int:
    """Day partitions of the raw event tables to ``ahead_days`` ahead, and of every partitioned
    table the days of the rows in its default partition (moved there); the partitions made."""
    made = 0
    for table in (*RAW_EVENT_TABLES, *(f"infomart.{t}" for t in FACTS)):
        parts = partitions(conn, table)
        if not parts:
            continue
        with conn.transaction():
            if table.startswith("raw."):
                made += conn.execute(
                    "select raw.ensure_day_partitions(%s::regclass, %s, %s)",
                    (table, now - timedelta(days=1), now + timedelta(days=ahead_days)),
                ).fetchone()[0]  # type: ignore[index]
            column = sql.Identifier("event_ts" if table.startswith("raw.") else FACTS[table.split(".")[1]])
            for part in parts:
                if part.day is None:
                    schema, name = part.name.split(".")
                    made += conn.execute(
                        sql.SQL(
                            "select raw.ensure_day_partitions(%s::regclass, min({c}), max({c})) from {t}"
                        ).format(c=column, t=sql.Identifier(schema, name)),
                        (table,),
                    ).fetchone()[0]  # type: ignore[index]
    return made


def purge_facts(conn: psycopg.Connection, cutoff: datetime) -> Purged:
    """Facts that started before ``cutoff``, and the staged and raw events before it (one transaction)."""
    out = Purged()
    with conn.transaction():
        for table, column in FACTS.items():
            out.purge(conn, f"infomart.{table}", column, cutoff)
        for topic in EVENT_TOPICS:
            out.delete(conn, f"staging.stg_events__{topic}", sql.SQL("event_ts < %s"), (cutoff,))
            out.purge(conn, f"raw.{topic}", "event_ts", cutoff)
            # a row landed without its event time (before the column, or inserted by hand): by
            # its payload's ts, ISO 8601 text in UTC comparing as time
            out.delete(
                conn,
                f"raw.{topic}",
                sql.SQL(
                    "event_ts is null and payload ->> 'ts' < %s"
                    " and payload ->> 'ts' ~ '^\\d{4}-\\d\\d-\\d\\dT'"
                ),
                (cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),),
            )
    return out


def purge_cfg_facts(conn: psycopg.Connection, cutoff: datetime) -> dict[str, int]:
    out = {}
    with conn.transaction():
        for table, column in CFG_FACTS.items():
            out[f"infomart.{table}"] = _delete(
                conn, f"infomart.{table}", sql.SQL("{} < %s").format(sql.Identifier(column)), (cutoff,)
            )
    return out


def purge_history(conn: psycopg.Connection, cutoff: datetime) -> dict[str, int]:
    out = {}
    with conn.transaction():
        out["raw.rejects"] = _delete(conn, "raw.rejects", sql.SQL("rejected_at < %s"), (cutoff,))
        out["staging.transform_discards"] = _delete(
            conn, "staging.transform_discards", sql.SQL("landed_at < %s"), (cutoff,)
        )
        out["ctl.ctl_extract_history"] = _delete(
            conn,
            "ctl.ctl_extract_history",
            sql.SQL(
                "recorded_at < %s and extract_id not in (select max(extract_id) from ctl.ctl_extract_history"
                " group by source_kind, source_name, source_part)"
            ),
            (cutoff,),
        )
        out["ctl.ctl_etl_history"] = _delete(
            conn,
            "ctl.ctl_etl_history",
            sql.SQL(
                "started_at < %s and status <> 'running' and job_run_id not in"
                " (select job_run_id from ctl.ctl_extract_history where job_run_id is not null)"
            ),
            (cutoff,),
        )
        out["ctl.ctl_audit_log"] = _delete(
            conn,
            "ctl.ctl_audit_log",
            sql.SQL(
                "started_at < %s and status <> 'running' and audit_key not in"
                " (select audit_key from ctl.ctl_etl_history where audit_key is not null)"
            ),
            (cutoff,),
        )
    return out


def date_time_days_ahead(conn: psycopg.Connection, now: datetime) -> float | None:
    if not _exists(conn, "infomart.date_time"):
        return None
    row = conn.execute("select max(cal_date_time) from infomart.date_time").fetchone()
    return None if row is None or row[0] is None else (row[0] - now).total_seconds() / 86400


def maintain(
    settings: Settings,
    dsn: str,
    now: datetime | None = None,
    rebuild_date_time: bool = True,
) -> MaintainResult:
    """One maintenance run (recorded in CTL_ETL_HISTORY as ``maintenance``)."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    result = MaintainResult()
    with control.job(dsn, "maintenance") as run:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("set statement_timeout = 0")
            result.partitions_made = sort_partitions(conn, settings.maintain_partitions_ahead_days, now)
            facts = purge_facts(conn, now - timedelta(days=settings.maintain_facts_keep_days))
            result.purged.update(facts.rows)
            result.partitions_dropped = facts.partitions_dropped
            result.purged.update(
                purge_cfg_facts(conn, now - timedelta(days=settings.maintain_cfg_facts_keep_days))
            )
            result.purged.update(
                purge_history(conn, now - timedelta(days=settings.maintain_history_keep_days))
            )
            result.date_time_days_ahead = date_time_days_ahead(conn, now)
            deleted_from = facts.deleted_from + [
                r for r, n in result.purged.items() if n and r not in facts.rows
            ]
            for relation in dict.fromkeys(deleted_from):
                conn.execute(sql.SQL("vacuum (analyze) {}").format(sql.Identifier(*relation.split("."))))
            for relation in (*RAW_EVENT_TABLES, *(f"infomart.{t}" for t in FACTS)):
                if partitions(conn, relation):  # the statistics of the whole (its days, daily)
                    conn.execute(sql.SQL("analyze {}").format(sql.Identifier(*relation.split("."))))
        ahead = result.date_time_days_ahead
        if rebuild_date_time and ahead is not None and ahead < DATE_TIME_MIN_DAYS_AHEAD:
            from pipeline.transform import run_dbt

            log.info("maintenance: DATE_TIME reaches %.0f days ahead only; extending it", ahead)
            run_dbt(settings, dsn, ["build", "--select", "date_time"])
            result.date_time_rebuilt = True
        run.row_count = result.rows
    result.seconds = time.monotonic() - started
    return result
