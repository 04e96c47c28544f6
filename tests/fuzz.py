"""Hostile input for the property-based fuzz test (tests/test_fuzz.py) and its long campaign
(benchmarks/fuzz_campaign.py): events of every type from a small simulated day, valid and mutated.

A *batch* is a list of input lines (logical topic, raw bytes) drawn by :func:`batches`: each line is
a simulated event kept as it is or mutated one way (:data:`MUTATIONS`): a field removed, a field of
the wrong type, a huge or nested value, unicode edge cases and SQL (and Jinja) metacharacters in user
data keys and values, a clock-skewed time, a duplicate (in another archive: a second source),
another tenant, not JSON at all, ids crossed between calls. Which lines are valid is for the
contract to say; the properties hold whatever it says.

:func:`run_batch` lands a batch through the archive ingester (one file per topic and source) into a
fresh database and runs the transform; :func:`mart_rows` reads every table of the Info Mart schema
without its landing bookkeeping, to compare two databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
from hypothesis import strategies as st
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infomart.settings import Settings
from ingest.archive_ingester import ArchiveIngester, find_archives
from pipeline.transform import transform
from simulator import SimulationConfig, simulate

Line = tuple[str, bytes, int]  # logical topic, raw bytes, source (archive) number

UNICODE_EDGES = [
    "\u202eevil\u202c",  # right-to-left override
    "e\u0301\u0301\u0301",  # combining marks
    "\U0001f4de\U0001f3a7",  # emoji outside the BMP
    "line\u2028sep\u2029",
    "\ufeffbom",
    "\u00a0nbsp\u3000",
    "\uff46\uff55\uff4c\uff4c",  # fullwidth letters
    "",
]
SQL_METACHARACTERS = [
    "'; drop table raw.voice_callthread; --",
    'a"b',
    "back\\slash",
    "$$ dollar $$",
    "%s %(x)s",
    "{{ var('tenant') }} {% if true %}",
    "\t\n\r",
    "key with spaces",
    "select * from infomart.interaction_fact",
]


#: JSON integers of any 64-bit size (orjson writes no larger ones): past int4 on purpose
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@dataclass(frozen=True, repr=False)
class BaseEvents:
    """A small simulated day's events (every topic), parsed, in delivery order."""

    events: list[tuple[str, dict[str, Any]]]

    def __repr__(self) -> str:  # Hypothesis prints the strategy's arguments on a failure
        return f"BaseEvents(<{len(self.events):,} simulated events>)"

    @classmethod
    def simulated(
        cls, seed: int = 5, agents: int = 3, hours: int = 1, start: datetime | None = None
    ) -> BaseEvents:
        config = SimulationConfig(seed=seed, agents=agents, duration_hours=hours)
        if start is not None:
            config = SimulationConfig(seed=seed, agents=agents, duration_hours=hours, start=start)
        result = simulate(config)
        return cls([(d.topic, orjson.loads(d.value)) for d in result.deliveries])


def _mutated(
    draw: st.DrawFn, kind: str, topic: str, event: dict[str, Any], others: list[dict[str, Any]]
) -> list[Line]:
    """One input event, kept or mutated the way `kind` says; a list (a duplicate gives two lines)."""
    ev = dict(event)
    keys = sorted(ev)
    if kind == "keep":
        return [(topic, orjson.dumps(ev), 0)]
    if kind == "drop_field":
        ev.pop(draw(st.sampled_from(keys)))
    elif kind == "wrong_type":
        ev[draw(st.sampled_from(keys))] = draw(
            st.one_of(
                INT64,
                st.floats(allow_nan=False),
                st.booleans(),
                st.none(),
                st.just([1, "a"]),
                st.just({"nested": True}),
                st.text(max_size=5),
            )
        )
    elif kind == "huge":
        size = draw(st.sampled_from([256, 40_000, 1_100_000]))
        if draw(st.booleans()) and "call_id" in ev:
            ev["call_id"] = "c" * size
        else:
            ev["user_data"] = {"note": "x" * size}
    elif kind == "nested":
        deep: Any = "bottom"
        for _ in range(draw(st.integers(min_value=2, max_value=120))):
            deep = {"d": deep}
        ev["user_data"] = {"deep": deep}
    elif kind == "unicode":
        text = st.one_of(st.sampled_from(UNICODE_EDGES), st.text(max_size=12))
        ev["user_data"] = draw(st.dictionaries(text, text, max_size=4))
    elif kind == "sql":
        metachar = st.sampled_from(SQL_METACHARACTERS)
        ev["user_data"] = draw(st.dictionaries(metachar, st.one_of(metachar, INT64), max_size=4))
        if draw(st.booleans()) and "agent_id" in ev and ev["agent_id"] is not None:
            ev["agent_id"] = draw(metachar)
    elif kind == "skew":
        when = datetime.fromisoformat(ev["ts"])
        shift = timedelta(seconds=draw(st.integers(min_value=-10 * 86_400, max_value=10 * 86_400)))
        ev["ts"] = (when + shift).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    elif kind == "duplicate":
        line = orjson.dumps(ev)
        return [(topic, line, 0), (topic, line, 1)]
    elif kind == "tenant":
        ev["tenant"] = "another-tenant"
    elif kind == "version":
        ev["v"] = draw(st.sampled_from([0, 2, "1", 1.0]))
    elif kind == "not_json":
        return [(topic, draw(st.sampled_from([b"{broken", b"[1, 2]", b"null", b'"text"', b"\xff\xfe"])), 0)]
    elif kind == "bad_text":
        raw = orjson.dumps(ev)
        return [(topic, raw[:-1] + b', "x": "\\u0000"}', 0)]
    elif kind == "crossed_ids" and others:
        other = draw(st.sampled_from(others))
        for key in ("call_id", "party_id", "thread_id", "itx_id"):
            if key in ev and key in other and draw(st.booleans()):
                ev[key] = other[key]
    return [(topic, orjson.dumps(ev), 0)]


MUTATIONS = (  # about a third of the events are kept as they are
    "keep",
    "keep",
    "keep",
    "keep",
    "keep",
    "keep",
    "keep",
    "drop_field",
    "wrong_type",
    "huge",
    "nested",
    "unicode",
    "sql",
    "skew",
    "duplicate",
    "tenant",
    "version",
    "not_json",
    "bad_text",
    "crossed_ids",
)


@st.composite
def batches(draw: st.DrawFn, base: BaseEvents, size: int) -> list[Line]:
    """`size` events drawn from `base` (in order, a contiguous slice), each kept or mutated: the
    kinds cycle through a drawn order of :data:`MUTATIONS`, each position possibly replaced by a
    free draw, so even Hypothesis's simplest batch has every mutation, many times."""
    start = draw(st.integers(min_value=0, max_value=max(0, len(base.events) - size)))
    chosen = base.events[start : start + size]
    others = [ev for _, ev in chosen]
    order = draw(st.permutations(MUTATIONS))
    lines: list[Line] = []
    for n, (topic, event) in enumerate(chosen):
        kind = draw(st.sampled_from(MUTATIONS)) if draw(st.booleans()) else order[n % len(order)]
        lines.extend(_mutated(draw, kind, topic, event, others))
    return lines


# ------------------------------------------------------------------ running a batch
@contextmanager
def fresh_database(admin_dsn: str) -> Iterator[str]:
    name = f"fz_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    info = conninfo_to_dict(admin_dsn)
    info["dbname"] = name
    try:
        yield make_conninfo(**info)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def run_batch(lines: list[Line], dsn: str, home: Path, settings: Settings) -> None:
    """Land `lines` through the archive ingester (a file per topic and source), then transform."""
    folders: dict[int, Path] = {}
    handles: dict[tuple[int, str], Any] = {}
    for topic, raw, source in lines:
        folder = folders.setdefault(source, home / f"source-{source}")
        folder.mkdir(parents=True, exist_ok=True)
        if (source, topic) not in handles:
            handles[(source, topic)] = open(folder / f"{topic}.ndjson", "wb")  # noqa: SIM115
        handles[(source, topic)].write(raw.replace(b"\n", b" ") + b"\n")
    for handle in handles.values():
        handle.close()
    mine = settings.model_copy(update={"pg_dsn": dsn, "home": home / "home"})
    for folder in folders.values():
        ingester = ArchiveIngester(mine, dsn)
        try:
            ingester.ingest(find_archives([folder], mine))
        finally:
            ingester.close()
    transform(mine, dsn, tests=False)


RAW_TABLES = (
    "voice_callthread",
    "voice_agentstate",
    "digital_itx",
    "digital_agentstate",
    "voice_outbound",
    "gca_cfg",
)
BOOKKEEPING = (
    "landed_at",
    "last_landed_at",
    "updated_at",
    "snapshotted_at",
    "create_audit_key",
    "update_audit_key",
)


def mart_rows(dsn: str) -> dict[str, list[str]]:
    """Every table of the Info Mart schema, rows sorted, without the landing bookkeeping columns."""
    out: dict[str, list[str]] = {}
    with psycopg.connect(dsn) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'infomart'"
                " and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        ]
        for table in tables:
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'infomart'"
                    " and table_name = %s order by ordinal_position",
                    (table,),
                ).fetchall()
                if not r[0].endswith(BOOKKEEPING)
            ]
            query = sql.SQL("select {} from infomart.{}").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
            )
            out[table] = sorted(repr(row) for row in conn.execute(query).fetchall())
    return out


def reject_reasons(dsn: str) -> dict[str, int]:
    """Rejects per reason category."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select split_part(reason, ':', 1), count(*) from raw.rejects group by 1"
        ).fetchall()
    return {reason: int(n) for reason, n in rows}


def accounted(dsn: str, lines: list[Line]) -> tuple[int, int, int, int, list[str]]:
    """(input lines, raw rows, rejects, rejects without a reason, what is staged wrongly: ids not
    landed, ids twice, landed ids missing)."""
    with psycopg.connect(dsn) as conn:
        topics = RAW_TABLES
        raw = sum(
            conn.execute(sql.SQL("select count(*) from raw.{}").format(sql.Identifier(t))).fetchone()[0]  # type: ignore[index]
            for t in topics
        )
        rejects, no_reason = conn.execute(
            "select count(*), count(*) filter (where coalesce(reason, '') = '') from raw.rejects"
        ).fetchone()  # type: ignore[misc]
        stray: list[str] = []
        for t in topics:
            stray += [
                r[0]
                for r in conn.execute(
                    sql.SQL(
                        "select s.event_id from staging.{} as s left join raw.{} as r"
                        " on r.payload->>'id' = s.event_id where r.payload is null"
                    ).format(sql.Identifier(f"stg_events__{t}"), sql.Identifier(t))
                ).fetchall()
            ]
            doubled = conn.execute(
                sql.SQL("select count(*) - count(distinct event_id) from staging.{}").format(
                    sql.Identifier(f"stg_events__{t}")
                )
            ).fetchone()[0]  # type: ignore[index]
            if doubled:
                stray.append(f"{doubled} event ids twice in stg_events__{t}")
            # a landed event staging cannot use is in its discards (tests/test_discards.py)
            missing = conn.execute(
                sql.SQL(
                    "select count(distinct r.payload->>'id') from raw.{} as r"
                    " left join staging.{} as s on s.event_id = r.payload->>'id'"
                    " left join staging.transform_discards as d on d.source_table = %s"
                    " and d.event_id = r.payload->>'id'"
                    " where s.event_id is null and d.event_id is null"
                ).format(sql.Identifier(t), sql.Identifier(f"stg_events__{t}")),
                (t,),
            ).fetchone()[0]  # type: ignore[index]
            if missing:
                stray.append(f"{missing} landed event ids neither in stg_events__{t} nor discarded")
    return len(lines), raw, rejects, no_reason, stray


def valid_subset(dsn: str) -> list[Line]:
    """The lines the ingest accepted (the rows of the raw tables), each in the source it came from."""
    union = " union all ".join(
        f"select '{t.replace('_', '-')}', payload::text, archive_file from raw.{t}" for t in RAW_TABLES
    )
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(union).fetchall()
    return [
        (topic, payload.encode(), int(Path(file).parent.name.split("-")[1])) for topic, payload, file in rows
    ]
