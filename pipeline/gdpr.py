"""GDPR export and forget of one person: a customer (ANI, customer id, outbound contact) or an
employee (agent id).

Both look at every stored value: each text, character, JSON, text-array and bytea column of every
table in every schema but ``gdpr`` (raw events and rejects, staging, intermediate, the Info Mart's
facts and dimensions, snapshots). A row holds the person when a text value equals the identifier
exactly, or when its JSON holds the identifier as a string at any depth (user data included); in
such a row (or JSON object) the personal fields (names, e-mail, employee id, user name) are the
person's too. The rules are ``ingest/forget.py``'s, the ones landing applies.

* :func:`export` lists every such value, with its table, column (and JSON path) and row key.
* :func:`forget` puts the identifier on the forget list and replaces every such value by its
  pseudonym, in one transaction under the landing lock (no batch lands in between), then rebuilds
  the models (a full refresh): the keys the models hash from names (RESOURCE_KEY of an agent, the
  session and state keys) are recomputed from the pseudonymised raw events. Running it again
  changes nothing; a replayed event lands pseudonymised.

Every field checked is recorded in ``gdpr.ctl_gdpr_history`` (GIM's CTL_GDPR_HISTORY: one row per
value found, one with a null value per field checked that held none); its rows hold the personal
values themselves and are purged after ``gdpr_history_retention_days``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from infomart.settings import Settings
from ingest.forget import (
    LOCK_KEY,
    PERSON_FIELDS,
    PREFIX,
    ForgetList,
    Hit,
    digest,
    digest_key,
    ensure_gdpr_schema,
    pseudonym,
)

SubjectType = Literal["customer", "employee"]
#: how a person is named -> the kind of person
IDENTIFIERS: dict[str, SubjectType] = {
    "ani": "customer",
    "customer_id": "customer",
    "contact": "customer",
    "agent_id": "employee",
}
#: columns of a row that holds the person which are personal data themselves
PERSON_COLUMNS: frozenset[str] = PERSON_FIELDS | {"agent_first_name", "agent_last_name"}
#: columns that tell a raw row (no unique index) apart
RAW_KEY_COLUMNS = ("topic", "archive_file", "archive_line", "kafka_partition", "kafka_offset")

HISTORY_DDL = """
create table if not exists gdpr.ctl_gdpr_history (
    request_id text not null,
    request_type text not null,
    subject_type text not null,
    table_name text not null,
    column_name text not null,
    row_key text,
    original_value text,
    replacement_value text,
    created timestamptz not null,
    created_ts integer not null
);
create index if not exists ctl_gdpr_history_created on gdpr.ctl_gdpr_history (created);
"""

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


class GdprError(Exception):
    """A GDPR request cannot be carried out as asked; the message says why."""


@dataclass(frozen=True)
class Subject:
    identifier: str  # a key of IDENTIFIERS
    value: str

    def __post_init__(self) -> None:
        if self.identifier not in IDENTIFIERS:
            raise GdprError(f"unknown identifier {self.identifier!r}; use one of {', '.join(IDENTIFIERS)}")
        if not self.value.strip():
            raise GdprError(f"{self.identifier}: the value is empty")
        if self.value.startswith(PREFIX):
            raise GdprError(f"{self.value!r} is a pseudonym already: it holds no personal data")

    @property
    def subject_type(self) -> SubjectType:
        return IDENTIFIERS[self.identifier]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Literal["text", "json", "array", "bytes"]


@dataclass
class StoredTable:
    schema: str
    name: str
    columns: list[Column]
    key_columns: list[str]  # empty: the row's ctid

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Found:
    """A personal value held in a table: where, and (for forget) what replaced it."""

    table: str
    column: str
    path: str  # JSON path inside the column; empty for the column's value itself
    row_key: dict[str, Any]
    value: str
    replacement: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"table": self.table, "column": self.column}
        if self.path:
            out["path"] = self.path
        out["row_key"] = self.row_key
        out["value"] = self.value
        if self.replacement is not None:
            out["replacement"] = self.replacement
        return out


@dataclass
class GdprResult:
    request_id: str
    request_type: Literal["export", "forget"]
    subject: Subject
    at: datetime
    found: list[Found] = field(default_factory=list)
    fields_checked: int = 0
    rows_changed: dict[str, int] = field(default_factory=dict)  # table -> rows rewritten (forget)
    pseudonym: str | None = None
    history_purged: int = 0
    rebuilt: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request_id": self.request_id,
            "request_type": self.request_type,
            "subject": {
                "type": self.subject.subject_type,
                "identifier": self.subject.identifier,
                "value": self.subject.value,
            },
            "at": self.at.isoformat(),
            "fields_checked": self.fields_checked,
            "values": [f.as_dict() for f in self.found],
        }
        if self.request_type == "forget":
            out["pseudonym"] = self.pseudonym
            out["rows_changed"] = self.rows_changed
            out["rebuilt"] = self.rebuilt
        return out


# ------------------------------------------------------------------ the stored tables
TABLES_SQL = """
select n.nspname, c.relname, a.attname,
       case when t.typname in ('json', 'jsonb') then 'json'
            when t.typname in ('_text', '_varchar', '_bpchar') then 'array'
            when t.typname = 'bytea' then 'bytes'
            else 'text' end
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
join pg_type t on t.oid = a.atttypid
where c.relkind in ('r', 'p') and not c.relispartition
  and n.nspname not in ('gdpr', 'information_schema') and n.nspname not like 'pg\\_%'
  and t.typname in ('text', 'varchar', 'bpchar', 'name', 'json', 'jsonb', 'bytea',
                    '_text', '_varchar', '_bpchar')
order by 1, 2, a.attnum
"""

KEYS_SQL = """
select distinct on (c.oid) n.nspname, c.relname,
       array(select a.attname from unnest(i.indkey) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum order by k.ord)
from pg_index i
join pg_class c on c.oid = i.indrelid
join pg_namespace n on n.oid = c.relnamespace
where i.indisunique and i.indexprs is null and i.indpred is null
  and n.nspname not in ('gdpr', 'information_schema') and n.nspname not like 'pg\\_%'
order by c.oid, i.indisprimary desc, i.indnatts
"""


def stored_tables(conn: psycopg.Connection) -> list[StoredTable]:
    """Every table outside the gdpr schema with a column that can hold a personal value."""
    keys = {(s, t): list(cols) for s, t, cols in conn.execute(KEYS_SQL)}
    all_columns = {
        (s, t, c)
        for s, t, c in conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_schema not in ('gdpr', 'information_schema') and table_schema not like 'pg\\_%'"
        )
    }
    tables: dict[tuple[str, str], StoredTable] = {}
    for schema, name, column, kind in conn.execute(TABLES_SQL):
        table = tables.get((schema, name))
        if table is None:
            key = keys.get((schema, name)) or [c for c in RAW_KEY_COLUMNS if (schema, name, c) in all_columns]
            table = tables[(schema, name)] = StoredTable(schema, name, [], key)
        table.columns.append(Column(column, kind))
    return list(tables.values())


def _like_pattern(value: str) -> str:
    """LIKE pattern of the JSON string of `value` inside a json(b) text."""
    quoted = orjson.dumps(value).decode()
    return "%" + quoted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _matching_rows(
    conn: psycopg.Connection, table: StoredTable, value: str
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(ctid, row key, {column: value}) of each row holding `value` in any of its columns."""
    tests: list[sql.Composable] = []
    for c in table.columns:
        ident = sql.Identifier(c.name)
        if c.kind == "text":
            tests.append(sql.SQL("{} = %(value)s").format(ident))
        elif c.kind == "json":
            tests.append(sql.SQL("{}::text like %(pattern)s").format(ident))
        elif c.kind == "array":
            tests.append(sql.SQL("%(value)s = any({})").format(ident))
        else:
            tests.append(sql.SQL("position(%(bytes)s in {}) > 0").format(ident))
    key = (
        sql.SQL("jsonb_build_object({})").format(
            sql.SQL(", ").join(
                sql.SQL("{}, {}").format(sql.Literal(k), sql.Identifier(k)) for k in table.key_columns
            )
        )
        if table.key_columns
        else sql.SQL("jsonb_build_object('ctid', ctid::text)")
    )
    query = sql.SQL("select ctid::text, {key}, {cols} from {schema}.{table} where {tests}").format(
        key=key,
        cols=sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns),
        schema=sql.Identifier(table.schema),
        table=sql.Identifier(table.name),
        tests=sql.SQL(" or ").join(tests),
    )
    params = {"value": value, "pattern": _like_pattern(value), "bytes": value.encode()}
    for ctid, row_key, *values in conn.execute(query, params):
        row = dict(zip((c.name for c in table.columns), values, strict=True))
        payload = row.get("payload")
        if type(payload) is dict:  # a raw event: its id first
            row_key = {"event_id": payload.get("id"), **row_key}
        yield ctid, row_key, row


def _rewrite_row(
    table: StoredTable, row: dict[str, Any], forget: ForgetList, value: str, replacement: str
) -> tuple[dict[str, Any], list[tuple[str, Hit]]]:
    """The row's changed columns and the (column, hit) of every personal value in it."""
    changed: dict[str, Any] = {}
    hits: list[tuple[str, Hit]] = []
    for c in table.columns:
        old = row[c.name]
        if old is None:
            continue
        if c.kind == "text" and old == value:
            changed[c.name] = replacement
            hits.append((c.name, Hit("", old, replacement)))
        elif c.kind == "json":
            found: list[Hit] = []
            new, hit = forget.apply(orjson.loads(orjson.dumps(old)), top=c.name == "payload", hits=found)
            if hit:
                changed[c.name] = Jsonb(new)
                hits.extend((c.name, h) for h in found)
        elif c.kind == "array" and value in old:
            changed[c.name] = [replacement if v == value else v for v in old]
            hits.extend((c.name, Hit(f"[{i}]", v, replacement)) for i, v in enumerate(old) if v == value)
        elif c.kind == "bytes" and value.encode() in bytes(old):
            raw = bytes(old)
            new_raw = forget.rewrite(raw) or raw.replace(value.encode(), replacement.encode())
            changed[c.name] = new_raw
            hits.append((c.name, Hit("", value, replacement)))
    if hits:  # the row holds the person: its personal columns are the person's too
        for c in table.columns:
            old = row[c.name]
            personal = c.kind == "text" and c.name in PERSON_COLUMNS and c.name not in changed
            if personal and old and not old.startswith(PREFIX):
                changed[c.name] = pseudonym(forget.key, old)
                hits.append((c.name, Hit("", old, changed[c.name])))
    return changed, hits


# ------------------------------------------------------------------ requests
def ensure_history(conn: psycopg.Connection) -> None:
    ensure_gdpr_schema(conn)
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('infomart.gdpr_history'))")
        conn.execute(HISTORY_DDL)


def purge_history(conn: psycopg.Connection, retention_days: int, now: datetime) -> int:
    """Delete the history rows older than the retention; returns how many."""
    ensure_history(conn)
    cur = conn.execute(
        "delete from gdpr.ctl_gdpr_history where created < %s", (now - timedelta(days=retention_days),)
    )
    return cur.rowcount


def purge_expired(dsn: str, retention_days: int, now: datetime | None = None) -> int:
    """The purge after a cycle of ``infomart run`` (GIM's maintenance job): nothing to do, and no
    schema made, while no GDPR request was ever made; never raises."""
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            if conn.execute("select to_regclass('gdpr.ctl_gdpr_history')").fetchone()[0] is None:  # type: ignore[index]
                return 0
            return purge_history(conn, retention_days, now or _now())
    except psycopg.Error as exc:  # an outage: the next cycle purges
        log.warning("GDPR history purge failed: %s", exc)
        return 0


def _scan(
    conn: psycopg.Connection, subject: Subject, forget: ForgetList, replacement: str, result: GdprResult
) -> list[tuple[str, str, tuple[str, ...], dict[str, Any]]]:
    """Find every personal value of the subject (into result.found and the history); returns the
    updates forget would make: (table, ctid, changed columns, values)."""
    updates = []
    history = []
    stamp = (result.at, int(result.at.timestamp()))
    base = (result.request_id, result.request_type, subject.subject_type)
    for table in stored_tables(conn):
        hit_columns: set[str] = set()
        for ctid, row_key, row in _matching_rows(conn, table, subject.value):
            changed, hits = _rewrite_row(table, row, forget, subject.value, replacement)
            if changed:
                updates.append((table.qualified, ctid, tuple(changed), changed))
            for column, h in hits:
                hit_columns.add(column)
                shown = h.replacement if result.request_type == "forget" else None
                result.found.append(Found(table.qualified, column, h.path, row_key, h.original, shown))
                where = column if not h.path else f"{column}{'' if h.path[0] == '[' else '.'}{h.path}"
                key = orjson.dumps(row_key).decode()
                history.append((*base, table.qualified, where, key, h.original, shown, *stamp))
        for c in table.columns:
            result.fields_checked += 1
            if c.name not in hit_columns:
                history.append((*base, table.qualified, c.name, None, None, None, *stamp))
    with conn.cursor() as cur:
        cur.executemany(
            "insert into gdpr.ctl_gdpr_history (request_id, request_type, subject_type, table_name,"
            " column_name, row_key, original_value, replacement_value, created, created_ts)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            history,
        )
    return updates


def _now() -> datetime:
    return datetime.now(UTC)


def export(settings: Settings, dsn: str, subject: Subject, clock: Clock = _now) -> GdprResult:
    """Every value held for the subject, where it is; recorded in the history."""
    result = GdprResult(uuid.uuid4().hex, "export", subject, clock())
    with psycopg.connect(dsn, autocommit=True) as conn:
        result.history_purged = purge_history(conn, settings.gdpr_history_retention_days, result.at)
        with conn.transaction():
            conn.execute("set local transaction isolation level repeatable read")
            key = _existing_key(conn)
            forget = ForgetList(key, {digest(key, subject.value): pseudonym(key, subject.value)})
            _scan(conn, subject, forget, pseudonym(key, subject.value), result)
    return result


def _existing_key(conn: psycopg.Connection) -> bytes:
    row = conn.execute("select digest_key from gdpr.ctl_gdpr_key").fetchone()
    return bytes(row[0]) if row else b"export: no key yet"


def forget(
    settings: Settings,
    dsn: str,
    subject: Subject,
    rebuild: bool = True,
    clock: Clock = _now,
) -> GdprResult:
    """Pseudonymise the subject everywhere and keep it on the forget list; then (``rebuild``) a full
    refresh of the models. Idempotent."""
    result = GdprResult(uuid.uuid4().hex, "forget", subject, clock())
    with psycopg.connect(dsn, autocommit=True) as conn:
        result.history_purged = purge_history(conn, settings.gdpr_history_retention_days, result.at)
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))  # no batch lands meanwhile
            key = digest_key(conn)
            replacement = pseudonym(key, subject.value)
            result.pseudonym = replacement
            conn.execute(
                "insert into gdpr.ctl_gdpr_forget (digest, pseudonym, subject_type, request_id)"
                " values (%s, %s, %s, %s) on conflict (digest) do nothing",
                (digest(key, subject.value), replacement, subject.subject_type, result.request_id),
            )
            forget_list = ForgetList(key, {digest(key, subject.value): replacement})
            updates = _scan(conn, subject, forget_list, replacement, result)
            with conn.cursor() as cur:
                for table, ctid, columns, changed in updates:
                    schema, name = table.split(".", 1)
                    cur.execute(
                        sql.SQL("update {}.{} set {} where ctid = %(ctid)s::tid").format(
                            sql.Identifier(schema),
                            sql.Identifier(name),
                            sql.SQL(", ").join(
                                sql.SQL("{} = %({})s").format(sql.Identifier(c), sql.SQL(f"c{i}"))
                                for i, c in enumerate(columns)
                            ),
                        ),
                        {"ctid": ctid, **{f"c{i}": changed[c] for i, c in enumerate(columns)}},
                    )
                    result.rows_changed[table] = result.rows_changed.get(table, 0) + 1
        # the old row versions go from the tables' pages and the old values from their statistics
        # (pg_stats' most common values); WAL and backups keep them for their own retention
        for table in result.rows_changed:
            schema, name = table.split(".", 1)
            conn.execute(
                sql.SQL("vacuum (analyze) {}.{}").format(sql.Identifier(schema), sql.Identifier(name))
            )
    if rebuild and result.rows_changed:
        from pipeline.transform import TransformError, transform

        built = transform(settings, dsn, full_refresh=True, tests=False)
        if not built.success:
            failed = ", ".join(n.name for n in built.failures())
            raise TransformError(f"forget: the values are replaced, but the rebuild failed: {failed}")
        result.rebuilt = True
    return result
