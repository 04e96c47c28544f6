"""Write configuration objects into the Configuration Database, each change at its own time.

A change is one object after the change, in the shape the Configuration Database publishes it
(the ``cfg.obj_<type>`` views of ``ingest/config/config_db.sql``), or ``None`` for a deletion, with
the time it was made (:class:`ObjectChange`; the simulator's ``ConfigChange`` is one). The writer
turns it into rows of the ``cfg`` tables, as an administrator's tool would, and the tables'
triggers log it in ``cfg.change_log``; the config adapter then publishes it on ``gca-cfg``.

* The change time is recorded as the change's time: changes of one time are one transaction that
  sets ``cfg.changed_at`` (the writer's time, see the SQL file), so simulated days keep their
  simulated change times.
* Attributes given are set, attributes left out are kept (a new object gets the column
  defaults); an attribute given as None is cleared (a Queue's ``service_level_threshold`` or
  ``short_abandon_threshold``: the settings apply again); derived attributes (a Person's
  ``extension``, which follows from its place) are not written. Referenced objects are named
  (a Person's groups, skills and place, a Campaign's group, a routing point's queue, a Place's
  DNs) and must exist.
* Only what differs is written, so writing an object in the state it has logs nothing.
* A change older than the object's last change in the Configuration Database is not applied (the
  Configuration Database does not go back in time): the same simulated day written twice changes
  nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any, Protocol

import psycopg
from psycopg import sql

from ingest.config.database import ConfigDbError

#: object_type -> table
TABLES: dict[str, str] = {
    "Skill": "cfg_skill",
    "AgentGroup": "cfg_agent_group",
    "Place": "cfg_place",
    "ActionCode": "cfg_action_code",
    "Campaign": "cfg_campaign",
    "Queue": "cfg_dn",
    "DN": "cfg_dn",
    "Person": "cfg_person",
}
#: object_type -> (attribute, column) written as they are
_PLAIN: dict[str, tuple[tuple[str, str], ...]] = {
    "Skill": (("name", "name"), ("enabled", "enabled")),
    "AgentGroup": (("name", "name"), ("enabled", "enabled")),
    "Place": (("name", "name"), ("enabled", "enabled")),
    "ActionCode": (("name", "name"), ("code", "code"), ("type", "action_type"), ("enabled", "enabled")),
    "Campaign": (
        ("name", "name"),
        ("description", "description"),
        ("dialing_mode", "dialing_mode"),
        ("enabled", "enabled"),
    ),
    "Queue": (
        ("name", "number"),
        ("type", "dn_type"),
        ("media_type", "media_type"),
        ("switch", "switch_name"),
        ("enabled", "enabled"),
        ("service_level_threshold", "service_level_threshold"),
        ("short_abandon_threshold", "short_abandon_threshold"),
    ),
    "DN": (("number", "number"), ("type", "dn_type"), ("switch", "switch_name"), ("enabled", "enabled")),
    "Person": (
        ("user_name", "user_name"),
        ("employee_id", "employee_id"),
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("email", "email"),
        ("is_agent", "is_agent"),
        ("enabled", "enabled"),
        ("media", "media"),
    ),
}
#: object_type -> (attribute, column, table of the named object, its name column, extra condition)
_REFERENCES: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "Campaign": (("group", "agent_group_dbid", "cfg_agent_group", "name", "true"),),
    "DN": (("queue", "queue_dbid", "cfg_dn", "number", "dn_type in ('ACDQueue', 'VirtualQueue')"),),
    "Person": (("place", "place_dbid", "cfg_place", "name", "true"),),
}


class ObjectChange(Protocol):
    """One object after one change (attributes None: deleted), at ``changed_at``."""

    @property
    def object_type(self) -> str: ...

    @property
    def dbid(self) -> int: ...

    @property
    def changed_at(self) -> datetime: ...

    @property
    def attributes(self) -> Mapping[str, Any] | None: ...


@dataclass
class WriteStats:
    changes: int = 0  # changes given
    transactions: int = 0  # one per change time
    logged_objects: int = 0  # objects with new change-log rows (fan-out included)
    outdated: int = 0  # older than the object's last change: not applied

    def add(self, other: WriteStats) -> None:
        self.changes += other.changes
        self.transactions += other.transactions
        self.logged_objects += other.logged_objects
        self.outdated += other.outdated


def tenant_dbid(conn: psycopg.Connection, tenant: str) -> int:
    row = conn.execute("select dbid from cfg.cfg_tenant where name = %s", (tenant,)).fetchone()
    if row is None:
        raise ConfigDbError(
            f"tenant {tenant!r} is not in the Configuration Database; run `infomart config-db init`"
        )
    return int(row[0])


def write_changes(conn: psycopg.Connection, tenant: str, changes: Iterable[ObjectChange]) -> WriteStats:
    """Write the changes, in the order given; consecutive changes of one time are one transaction."""
    t = tenant_dbid(conn, tenant)
    stats = WriteStats()
    for at, group in groupby(changes, key=lambda c: c.changed_at):
        stats.add(_write_transaction(conn, t, at, list(group)))
    return stats


def _write_transaction(
    conn: psycopg.Connection, tenant: int, at: datetime, changes: list[ObjectChange]
) -> WriteStats:
    stats = WriteStats(changes=len(changes), transactions=1)
    with conn.transaction():
        conn.execute("select set_config('cfg.changed_at', %s, true)", (at.isoformat(),))
        before = _max_version(conn)
        tables: set[str] = set()
        for c in changes:
            last = conn.execute(
                "select max(changed_at) from cfg.change_log where object_type = %s and dbid = %s"
                " and config_version <= %s",
                (c.object_type, c.dbid, before),
            ).fetchone()[0]  # type: ignore[index]
            if last is not None and last > at:
                stats.outdated += 1
                continue
            _write_object(conn, tenant, c)
            tables.add(TABLES[c.object_type])
        for table in sorted(tables):
            _advance_dbid_sequence(conn, table)
        stats.logged_objects = conn.execute(
            "select count(*) from (select distinct object_type, dbid from cfg.change_log"
            " where config_version > %s) as x",
            (before,),
        ).fetchone()[0]  # type: ignore[index]
    return stats


def _max_version(conn: psycopg.Connection) -> int:
    return int(conn.execute("select coalesce(max(config_version), 0) from cfg.change_log").fetchone()[0])  # type: ignore[index]


def _write_object(conn: psycopg.Connection, tenant: int, c: ObjectChange) -> None:
    if c.object_type not in TABLES:
        raise ConfigDbError(f"unknown object type {c.object_type!r}")
    table = TABLES[c.object_type]
    if c.attributes is None:
        conn.execute(sql.SQL("delete from cfg.{} where dbid = %s").format(sql.Identifier(table)), (c.dbid,))
        return
    a = c.attributes
    values = {column: a[name] for name, column in _PLAIN[c.object_type] if name in a}
    for name, column, ref_table, ref_name, condition in _REFERENCES.get(c.object_type, ()):
        if name in a:
            values[column] = _lookup(conn, tenant, ref_table, ref_name, condition, a[name], c)
    _upsert_row(conn, table, tenant, c.dbid, values)
    if c.object_type == "Place" and "dns" in a:
        _set_place_dns(conn, tenant, c, list(a["dns"]))
    if c.object_type == "Person":
        if "agent_groups" in a:
            _set_groups(conn, tenant, c, list(a["agent_groups"]))
        if "skills" in a:
            _set_skills(conn, tenant, c, dict(a["skills"]))
        if "agent_logins" in a:
            _set_logins(conn, tenant, c, list(a["agent_logins"]))


def _lookup(
    conn: psycopg.Connection,
    tenant: int,
    table: str,
    column: str,
    condition: str,
    name: str | None,
    c: ObjectChange,
) -> int | None:
    if name is None:
        return None
    query = sql.SQL("select dbid from cfg.{} where tenant_dbid = %s and {} = %s and {}").format(
        sql.Identifier(table), sql.Identifier(column), sql.SQL(condition)
    )
    row = conn.execute(query, (tenant, name)).fetchone()
    if row is None:
        raise ConfigDbError(f"{c.object_type} {c.dbid} names {name!r}, which is not in cfg.{table}")
    return int(row[0])


def _upsert_row(conn: psycopg.Connection, table: str, tenant: int, dbid: int, values: dict[str, Any]) -> None:
    """Insert the row, or update the columns given where they differ (no update, no log row)."""
    columns = [sql.Identifier(col) for col in values]
    target = sql.SQL("insert into cfg.{} as t (dbid, tenant_dbid{}) values (%s, %s{})").format(
        sql.Identifier(table),
        sql.SQL("").join(sql.SQL(", {}").format(col) for col in columns),
        sql.SQL(", %s" * len(columns)),
    )
    if columns:
        excluded = sql.SQL(", ").join(sql.SQL("excluded.{}").format(col) for col in columns)
        current = sql.SQL(", ").join(sql.SQL("t.{}").format(col) for col in columns)
        action = sql.SQL(
            " on conflict (dbid) do update set ({}) = row({}) where row({}) is distinct from row({})"
        ).format(sql.SQL(", ").join(columns), excluded, current, excluded)
    else:
        action = sql.SQL(" on conflict (dbid) do nothing")
    conn.execute(target + action, (dbid, tenant, *values.values()))


def _set_place_dns(conn: psycopg.Connection, tenant: int, c: ObjectChange, numbers: Sequence[str]) -> None:
    found = conn.execute(
        "select count(*) from cfg.cfg_dn where tenant_dbid = %s and number = any(%s)", (tenant, list(numbers))
    ).fetchone()[0]  # type: ignore[index]
    if found != len(set(numbers)):
        raise ConfigDbError(f"Place {c.dbid} names DNs {list(numbers)}, not all of them in cfg.cfg_dn")
    conn.execute(
        "update cfg.cfg_dn set place_dbid = null where place_dbid = %s and not (number = any(%s))",
        (c.dbid, list(numbers)),
    )
    conn.execute(
        "update cfg.cfg_dn set place_dbid = %s"
        " where tenant_dbid = %s and number = any(%s) and place_dbid is distinct from %s",
        (c.dbid, tenant, list(numbers), c.dbid),
    )


def _dbids(
    conn: psycopg.Connection, tenant: int, table: str, names: Sequence[str], c: ObjectChange
) -> dict[str, int]:
    rows = conn.execute(
        sql.SQL("select name, dbid from cfg.{} where tenant_dbid = %s and name = any(%s)").format(
            sql.Identifier(table)
        ),
        (tenant, list(names)),
    ).fetchall()
    got = dict(rows)
    missing = sorted(set(names) - set(got))
    if missing:
        raise ConfigDbError(f"{c.object_type} {c.dbid} names {missing}, not in cfg.{table}")
    return got


def _set_groups(conn: psycopg.Connection, tenant: int, c: ObjectChange, names: Sequence[str]) -> None:
    groups = sorted(_dbids(conn, tenant, "cfg_agent_group", names, c).values())
    conn.execute(
        "delete from cfg.cfg_agent_group_member where person_dbid = %s and not (group_dbid = any(%s))",
        (c.dbid, groups),
    )
    conn.execute(
        "insert into cfg.cfg_agent_group_member (group_dbid, person_dbid)"
        " select g, %s from unnest(%s::bigint []) as g on conflict do nothing",
        (c.dbid, groups),
    )


def _set_skills(conn: psycopg.Connection, tenant: int, c: ObjectChange, levels: Mapping[str, int]) -> None:
    skills = _dbids(conn, tenant, "cfg_skill", list(levels), c)
    conn.execute(
        "delete from cfg.cfg_skill_level where person_dbid = %s and not (skill_dbid = any(%s))",
        (c.dbid, sorted(skills.values())),
    )
    for name in sorted(levels):
        conn.execute(
            "insert into cfg.cfg_skill_level as t (person_dbid, skill_dbid, level) values (%s, %s, %s)"
            " on conflict (person_dbid, skill_dbid) do update set level = excluded.level"
            " where t.level is distinct from excluded.level",
            (c.dbid, skills[name], levels[name]),
        )


def _set_logins(
    conn: psycopg.Connection, tenant: int, c: ObjectChange, logins: Sequence[Mapping[str, Any]]
) -> None:
    held: list[int] = []
    for login in logins:
        switch = login.get("switch", "SIP_Switch")
        conn.execute(
            "insert into cfg.cfg_agent_login (tenant_dbid, login_code, switch_name) values (%s, %s, %s)"
            " on conflict (tenant_dbid, switch_name, login_code) do nothing",
            (tenant, login["login_code"], switch),
        )
        dbid = conn.execute(
            "select dbid from cfg.cfg_agent_login"
            " where tenant_dbid = %s and switch_name = %s and login_code = %s",
            (tenant, switch, login["login_code"]),
        ).fetchone()[0]  # type: ignore[index]
        held.append(int(dbid))
        conn.execute(
            "insert into cfg.cfg_person_agent_login as t (person_dbid, agent_login_dbid, wrapup_time)"
            " values (%s, %s, %s) on conflict (person_dbid, agent_login_dbid)"
            " do update set wrapup_time = excluded.wrapup_time"
            " where t.wrapup_time is distinct from excluded.wrapup_time",
            (c.dbid, dbid, int(login.get("wrapup_time", 0))),
        )
    conn.execute(
        "delete from cfg.cfg_person_agent_login where person_dbid = %s and not (agent_login_dbid = any(%s))",
        (c.dbid, held),
    )


def _advance_dbid_sequence(conn: psycopg.Connection, table: str) -> None:
    """Objects are written with their own dbids: move the table's dbid sequence past them (never
    back, so a deleted object's dbid is never handed out again)."""
    name = f"cfg.{table}"
    conn.execute(
        "select setval(s.seq, m.max_dbid)"
        " from (select pg_get_serial_sequence(%s, 'dbid') as seq) as s,"
        " (select max(dbid) as max_dbid from " + name + ") as m"  # a name from TABLES
        " where m.max_dbid > coalesce("
        "   (select q.last_value from pg_sequences as q"
        "    where format('%%I.%%I', q.schemaname, q.sequencename) = s.seq),"
        "   0)",
        (name,),
    )
