"""Which sources have new rows: ``dbt source freshness`` results and the last successful cycle's state.

A cycle runs ``dbt source freshness`` (``loaded_at_field: landed_at`` in
``models/staging/events/_events__sources.yml``), which writes dbt's ``sources.json`` artifact, and
compares each source's ``max_loaded_at`` with the one saved by the last cycle whose build succeeded
(``<home>/dbt/state/sources.json``): a source is *fresher* when its ``max_loaded_at`` is later, or
when the saved state does not have it, dbt's own ``source_status:fresher`` rule. Only the fresher
sources and everything downstream of them are built (``source:events.<table>+``).

The saved ``max_loaded_at`` is lowered to the start of any write transaction that was open in the
database while freshness was measured (and to the time freshness started): an ingester that commits
later lands rows whose ``landed_at`` (its transaction's start) may be older than the maximum already
seen, and those rows must still make their source fresher next cycle.

The project's fingerprint (models, macros, seeds, snapshots, vars, dbt version) is saved beside it:
when it differs, or when there is no state, the cycle builds everything.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg

__all__ = [
    "SourceFreshness",
    "fresher_sources",
    "landed_floor",
    "open_write_transactions",
    "project_fingerprint",
    "read_sources",
    "save_state",
    "saved_fingerprint",
    "state_dir",
]

_EMPTY = datetime(1, 1, 1, tzinfo=UTC)  # dbt's max_loaded_at of a table without rows
_PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds", "snapshots", "tests/dbt", "analyses")


@dataclass(frozen=True)
class SourceFreshness:
    """One source table's freshness, as ``dbt source freshness`` measured it."""

    name: str  # the source table, e.g. voice_callthread (selector ``source:events.voice_callthread``)
    status: str  # pass, warn, error, runtime error
    max_loaded_at: datetime | None  # latest landed_at; None for an empty table or a failed query
    snapshotted_at: datetime | None  # when dbt measured it

    @property
    def age_seconds(self) -> float | None:
        if self.max_loaded_at is None or self.snapshotted_at is None:
            return None
        return (self.snapshotted_at - self.max_loaded_at).total_seconds()


def state_dir(home: Path) -> Path:
    """Where the last successful cycle's ``sources.json`` and project fingerprint are kept."""
    return home / "dbt" / "state"


def _when(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    value = datetime.fromisoformat(text)
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return None if value == _EMPTY else value


def _table(unique_id: str) -> str:
    return unique_id.rsplit(".", 1)[-1]  # source.infomart.events.voice_callthread -> voice_callthread


def read_sources(path: Path) -> dict[str, SourceFreshness]:
    """dbt's ``sources.json`` artifact, by source table; {} when the file does not exist."""
    if not path.exists():
        return {}
    results = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    out: dict[str, SourceFreshness] = {}
    for r in results:
        name = _table(r["unique_id"])
        ok = "max_loaded_at" in r  # a runtime error has no max_loaded_at
        out[name] = SourceFreshness(
            name,
            str(r.get("status")),
            _when(r.get("max_loaded_at")) if ok else None,
            _when(r.get("snapshotted_at")),
        )
    return out


def _measured(path: Path) -> set[str]:
    """Source tables whose freshness query succeeded (dbt leaves max_loaded_at out of a runtime error)."""
    if not path.exists():
        return set()
    results = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    return {_table(r["unique_id"]) for r in results if "max_loaded_at" in r}


def fresher_sources(current_path: Path, previous_path: Path) -> list[str]:
    """dbt's ``source_status:fresher`` rule: measured now, and later than (or missing from) the state."""
    current, previous = read_sources(current_path), read_sources(previous_path)
    previous_ok = _measured(previous_path)
    fresher = []
    for name in sorted(_measured(current_path)):
        now, before = current[name].max_loaded_at or _EMPTY, previous.get(name)
        if name not in previous_ok or before is None or now > (before.max_loaded_at or _EMPTY):
            fresher.append(name)
    return fresher


#: the database's clock, the start of its oldest open transaction that has written, and whether
#: this role sees other roles' transactions (superuser or pg_read_all_stats)
_OPEN_WRITERS = (
    "select clock_timestamp(), (select min(xact_start) from pg_stat_activity"
    " where datname = current_database() and backend_xid is not null"
    " and pid <> pg_backend_pid()),"
    " (select rolsuper from pg_roles where rolname = current_user)"
    " or pg_has_role(current_user, 'pg_read_all_stats', 'usage')"
)


def _open_writers(dsn: str) -> tuple[datetime, datetime | None, bool]:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute(_OPEN_WRITERS).fetchone()
    assert row is not None
    return row[0], row[1], bool(row[2])


def open_write_transactions(dsn: str) -> tuple[datetime, datetime | None]:
    """The database's clock now, and the start of its oldest open transaction that has written."""
    clock, oldest_open, _ = _open_writers(dsn)
    return clock, oldest_open


def landed_floor(dsn: str) -> datetime | None:
    """A time every row not yet visible will land at or after: the start of the oldest open
    transaction that has written, else the database's clock. None when this role may not see
    other roles' transactions (no pg_read_all_stats): the models then look back
    ``lookback_minutes`` instead."""
    clock, oldest_open, sees_all = _open_writers(dsn)
    if not sees_all:
        return None
    return clock if oldest_open is None else min(clock, oldest_open)


def save_state(home: Path, sources_path: Path, fingerprint: str, not_after: datetime) -> None:
    """Keep this cycle's ``sources.json`` as the state, each ``max_loaded_at`` at most `not_after`."""
    doc: dict[str, Any] = json.loads(sources_path.read_text(encoding="utf-8"))
    for r in doc.get("results", []):
        loaded = _when(r.get("max_loaded_at"))
        if loaded is not None and loaded > not_after:
            r["max_loaded_at"] = not_after.isoformat()
    target = state_dir(home)
    target.mkdir(parents=True, exist_ok=True)
    for name, text in (("sources.json", json.dumps(doc, indent=1)), ("project.sha256", fingerprint)):
        tmp = target / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target / name)


def saved_fingerprint(home: Path) -> str | None:
    path = state_dir(home) / "project.sha256"
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def project_fingerprint(project_dir: Path, dbt_vars: str) -> str:
    """A hash of everything that decides what the models are: their files, the vars, the dbt version."""
    digest = hashlib.sha256(f"dbt {version('dbt-core')}\nvars {dbt_vars}\n".encode())
    for part in _PROJECT_PARTS:
        root = project_dir / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.exists():
                digest.update(f"{path.relative_to(project_dir)}\n".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
