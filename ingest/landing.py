"""Land validated events in the raw tables with COPY, in one transaction per batch.

A batch carries the events of any topics, the rejects, and the position reached in the
source (Kafka offsets or archive progress). All of it commits together or not at all, so
a crash at any point neither loses nor duplicates an event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources

import psycopg

from ingest.forget import load_forget_list

RAW_TABLE = {
    "voice-callthread": "raw.voice_callthread",
    "voice-agentstate": "raw.voice_agentstate",
    "digital-itx": "raw.digital_itx",
    "digital-agentstate": "raw.digital_agentstate",
    "voice-outbound": "raw.voice_outbound",
    "gca-cfg": "raw.gca_cfg",
}


class RawSchemaError(Exception):
    """The raw tables are missing and this connection may not create them; the message says how."""


def raw_relations(ddl: str) -> list[str]:
    """Every table and index the raw schema's DDL creates, schema-qualified."""
    names = re.findall(r"create (?:table|index) if not exists (\S+)", ddl)
    return [n if "." in n else f"raw.{n}" for n in names]


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    """Create the raw schema, landing tables and bookkeeping tables if missing.

    When every one of them exists nothing is executed: the ingest role (infomart/roles.py) may
    not create anything, and PostgreSQL checks the privilege of ``create ... if not exists``
    before it looks whether the object exists."""
    ddl = resources.files("ingest").joinpath("sql/raw_schema.sql").read_text()
    added = re.findall(r"alter table (\S+) add column if not exists (\S+)", ddl)
    row = conn.execute(
        "select (select count(*) from unnest(%s::text[]) as name where to_regclass(name) is null)"
        " + (select count(*) from unnest(%s::text[]) as name where to_regproc(name) is null)"
        " + (select count(*) from unnest(%s::text[], %s::text[]) as added (rel, col) where not exists"
        " (select from pg_attribute where attrelid = to_regclass(rel) and attname = col))",
        (
            raw_relations(ddl),
            re.findall(r"create or replace function (\S+)\(", ddl),
            [t for t, _ in added],
            [c for _, c in added],
        ),
    ).fetchone()
    if row is not None and row[0] == 0:
        return
    try:
        with conn.transaction():
            # serialise concurrent first starts (two ingesters racing on create table)
            conn.execute("select pg_advisory_xact_lock(hashtext('infomart.raw_schema'))")
            conn.execute(ddl)
    except psycopg.errors.InsufficientPrivilege as exc:
        user = conn.info.user
        raise RawSchemaError(
            f"the raw tables are missing and the database user {user} may not create them"
            f" ({str(exc).strip()}); create them with `infomart roles init` as the database's owner"
        ) from None


def _copy_text(value: bytes) -> bytes:
    """Escape bytes for PostgreSQL's COPY text format."""
    if b"\\" in value:
        value = value.replace(b"\\", b"\\\\")
    if b"\t" in value:
        value = value.replace(b"\t", b"\\t")
    if b"\n" in value:
        value = value.replace(b"\n", b"\\n")
    if b"\r" in value:
        value = value.replace(b"\r", b"\\r")
    return value


#: a landed event: raw bytes, partition or file, offset or line, its ``ts`` text
Row = tuple[bytes, object, int, str | None]
#: a ``ts`` without an offset is UTC, as the contract reads it (ingest/contract)
UTC_SESSION = "set local time zone 'UTC'"


@dataclass(slots=True)
class Reject:
    topic: str
    reason: str
    raw: bytes | None
    partition: int | None = None
    offset: int | None = None
    file: str | None = None
    line: int | None = None


@dataclass
class Batch:
    """Events (raw bytes that passed the contract) per logical topic, with their coordinates.

    ``coords`` rows are (kafka_partition, kafka_offset) or (archive_file, archive_line)
    depending on ``origin``.
    """

    origin: str  # "kafka" | "archive"
    events: dict[str, list[Row]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)

    def add(self, topic: str, raw: bytes, where: object, pos: int, event_ts: str | None = None) -> None:
        """One valid event; ``event_ts`` is its ``ts`` (the day partition it lands in, a naive
        time being UTC as the contract reads it; none: the default partition)."""
        self.events.setdefault(topic, []).append((raw, where, pos, event_ts))

    def __len__(self) -> int:
        return sum(len(v) for v in self.events.values()) + len(self.rejects)

    @property
    def event_count(self) -> int:
        return sum(len(v) for v in self.events.values())


def _columns(origin: str) -> str:
    return "kafka_partition, kafka_offset" if origin == "kafka" else "archive_file, archive_line"


def _copy_events(cur: psycopg.Cursor, origin: str, topic: str, rows: list[Row]) -> None:
    stmt = f"copy {RAW_TABLE[topic]} (payload, {_columns(origin)}, event_ts) from stdin"
    chunk: list[bytes] = []
    size = 0
    with cur.copy(stmt) as copy:
        for raw, where, pos, event_ts in rows:
            ts = b"\\N" if event_ts is None else _copy_text(event_ts.encode())
            line = b"%s\t%s\t%d\t%s\n" % (_copy_text(raw), _copy_text(str(where).encode()), pos, ts)
            chunk.append(line)
            size += len(line)
            if size >= 1 << 20:
                copy.write(b"".join(chunk))
                chunk, size = [], 0
        if chunk:
            copy.write(b"".join(chunk))


def _insert_rejects(cur: psycopg.Cursor, rejects: Iterable[Reject]) -> None:
    rows = [(r.topic, r.reason, r.raw, r.partition, r.offset, r.file, r.line) for r in rejects]
    if rows:
        with cur.copy(
            "copy raw.rejects (topic, reason, raw_bytes, kafka_partition, kafka_offset, archive_file,"
            " archive_line) from stdin"
        ) as copy:
            for row in rows:
                copy.write_row(row)


Position = Callable[[psycopg.Cursor], None]


def _apply_forget_list(cur: psycopg.Cursor, batch: Batch) -> None:
    """Pseudonymise the batch's events (and JSON rejects) holding a value on the GDPR forget list
    (ingest/forget.py); nothing to do, and no event parsed, while the list is empty."""
    forget = load_forget_list(cur)
    if not forget:
        return
    for rows in batch.events.values():
        for i, (raw, where, pos, event_ts) in enumerate(rows):
            new = forget.rewrite(raw)
            if new is not None:
                rows[i] = (new, where, pos, event_ts)
    for reject in batch.rejects:
        new = forget.rewrite(reject.raw) if reject.raw else None
        if new is not None:
            reject.raw = new


def write_batch(conn: psycopg.Connection, batch: Batch, save_position: Position) -> list[Reject]:
    """Land ``batch`` and the source position in one transaction.

    If PostgreSQL refuses a row the contract let through (say, text jsonb cannot store), the
    batch is redone row by row and each refused row becomes a reject with the database's
    message. Returns the rejects written by the database fallback (beyond batch.rejects).
    """
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(UTC_SESSION)
            _apply_forget_list(cur, batch)
            for topic, rows in batch.events.items():
                _copy_events(cur, batch.origin, topic, rows)
            _insert_rejects(cur, batch.rejects)
            save_position(cur)
        return []
    except psycopg.DataError:
        pass
    refused: list[Reject] = []
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(UTC_SESSION)
        _apply_forget_list(cur, batch)
        for topic, rows in batch.events.items():
            for raw, where, pos, event_ts in rows:
                try:
                    with conn.transaction():  # savepoint per row
                        _copy_events(cur, batch.origin, topic, [(raw, where, pos, event_ts)])
                except psycopg.DataError as exc:
                    msg = str(exc).splitlines()[0]
                    kafka = batch.origin == "kafka"
                    refused.append(
                        Reject(
                            topic,
                            f"database: {msg}",
                            raw,
                            partition=where if kafka else None,  # type: ignore[arg-type]
                            offset=pos if kafka else None,
                            file=None if kafka else str(where),
                            line=None if kafka else pos,
                        )
                    )
        _insert_rejects(cur, [*batch.rejects, *refused])
        save_position(cur)
    return refused
