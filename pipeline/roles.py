"""``infomart roles init``: the roles of an Info Mart database, their grants and default privileges.

Idempotent: run it again at any time (after an upgrade, after a build as another user) and it
ends in the same state. It runs as the database's owner or a superuser (the Info Mart's DSN), in
one transaction:

* the four roles (infomart/roles.py) if missing: login, no other attribute, no inheritance; the
  reader and the export role get ``default_transaction_read_only = on``;
* the database: PUBLIC may no longer connect or create temporary tables; the four roles may
  connect, the transform role may create temporary tables (dbt's incremental models use them).
  So a role of another tenant's database cannot even connect to this one;
* raw (created here if missing, owned by the owner): the ingest role may insert into the event
  tables and ``raw.rejects`` and read and write ``raw.consumer_offsets`` and ``raw.archive_files``;
  the transform role may read every raw table, those created later too (default privileges);
* the transform schemas (staging, intermediate, infomart, reports, snapshots, and ctl: the control
  tables, pipeline/control.py) are created if
  missing and owned by the transform role, with every relation in them (a database built before
  the roles existed is handed over);
* the reader may read infomart and reports, the export role infomart, both for the relations the
  transform role creates later too (default privileges: a rebuilt table is a new relation);
* the transform role is granted ``pg_read_all_stats`` when the owner may grant it, so that a
  cycle sees the ingest role's open transactions (pipeline/freshness.py); otherwise a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from infomart.roles import COMPONENTS, database_of, role_names
from ingest.landing import RAW_TABLE, ensure_raw_schema

#: the schemas dbt builds in (dbt_project.yml, snapshots/): owned by the transform role
TRANSFORM_SCHEMAS = ("staging", "intermediate", "infomart", "reports", "snapshots", "ctl")
#: what the reader and the export role may read
READER_SCHEMAS = ("infomart", "reports")
EXPORT_SCHEMAS = ("infomart",)
#: the raw tables the ingest role reads and writes (its positions); the others it only appends to
POSITION_TABLES = ("raw.consumer_offsets", "raw.archive_files")
APPEND_TABLES = (*RAW_TABLE.values(), "raw.rejects")
_OWNER_CLAUSE = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "S": "sequence"}
#: the relations of a schema not owned by a role (a sequence of a column follows its table; a
#: partition does not follow its partitioned table)
HANDED_OVER = """
select c.relname, c.relkind
from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
where n.nspname = %s and c.relkind = any(%s)
  and c.relowner <> (select oid from pg_roles where rolname = %s)
  and (c.relispartition or not exists (
      select from pg_depend as d
      where d.classid = 'pg_class'::regclass and d.objid = c.oid
        and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
        and d.refobjid <> c.oid  -- a partitioned table's key depends on its own column
  ))
"""


@dataclass
class RolesReport:
    database: str
    roles: dict[str, str]
    created: list[str] = field(default_factory=list)
    handed_over: int = 0  # relations of the transform schemas given to the transform role
    warnings: list[str] = field(default_factory=list)


def _do(conn: psycopg.Connection, statement: str, **names: str | tuple[str, str]) -> None:
    """Execute `statement` with each ``{name}`` an identifier (a pair: schema-qualified)."""
    idents = {k: sql.Identifier(*v) if isinstance(v, tuple) else sql.Identifier(v) for k, v in names.items()}
    conn.execute(sql.SQL(statement).format(**idents))


def _qualified(table: str) -> tuple[str, str]:
    schema, _, name = table.partition(".")
    return schema, name


def init_roles(dsn: str) -> RolesReport:
    """Create the roles of the database of `dsn` and grant them (see the module's docstring)."""
    database = database_of(dsn)
    names = role_names(database)
    report = RolesReport(database, dict(names))
    ingest, transform = names["ingest"], names["transform"]
    roles = {"db": database, "ingest": ingest, "transform": transform}
    roles |= {"reader": names["reporting"], "export": names["export"]}
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        ensure_raw_schema(conn)
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext('infomart.roles'))")
            report.created = [names[c] for c in COMPONENTS if _create_role(conn, names[c])]
            for role in ("reader", "export"):
                _do(conn, "alter role {role} set default_transaction_read_only = on", role=roles[role])

            _do(conn, "revoke connect, temporary on database {db} from public", **roles)
            _do(conn, "grant connect on database {db} to {ingest}, {transform}, {reader}, {export}", **roles)
            _do(conn, "grant temporary on database {db} to {transform}", **roles)

            _do(conn, "grant usage on schema raw to {ingest}, {transform}", **roles)
            for table in APPEND_TABLES:
                _do(conn, "grant insert on {table} to {ingest}", table=_qualified(table), ingest=ingest)
            for table in POSITION_TABLES:
                _do(
                    conn,
                    "grant select, insert, update on {table} to {ingest}",
                    table=_qualified(table),
                    ingest=ingest,
                )
            _do(conn, "grant select on all tables in schema raw to {transform}", transform=transform)
            _do(conn, "alter default privileges in schema raw grant select on tables to {t}", t=transform)

            for schema in TRANSFORM_SCHEMAS:
                report.handed_over += _hand_over(conn, schema, transform)
            for role, schemas in (("reader", READER_SCHEMAS), ("export", EXPORT_SCHEMAS)):
                for schema in schemas:
                    who = {"schema": schema, "role": roles[role], "transform": transform}
                    _do(conn, "grant usage on schema {schema} to {role}", **who)
                    _do(conn, "grant select on all tables in schema {schema} to {role}", **who)
                    _do(
                        conn,
                        "alter default privileges for role {transform} in schema {schema}"
                        " grant select on tables to {role}",
                        **who,
                    )
            warning = _grant_stats(conn, transform)
            if warning:
                report.warnings.append(warning)
    return report


def _create_role(conn: psycopg.Connection, role: str) -> bool:
    if conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
        return False
    conn.execute(
        sql.SQL(
            "create role {} login nosuperuser nocreatedb nocreaterole noinherit noreplication nobypassrls"
        ).format(sql.Identifier(role))
    )
    return True


def _hand_over(conn: psycopg.Connection, schema: str, owner: str) -> int:
    """The schema (created if missing) and every relation in it owned by `owner`; how many changed.
    A sequence of a column follows its table."""
    _do(conn, "create schema if not exists {schema} authorization {owner}", schema=schema, owner=owner)
    _do(conn, "alter schema {schema} owner to {owner}", schema=schema, owner=owner)
    rows = conn.execute(HANDED_OVER, (schema, list(_OWNER_CLAUSE), owner)).fetchall()
    for name, kind in rows:
        _do(
            conn,
            f"alter {_OWNER_CLAUSE[kind]} {{relation}} owner to {{owner}}",
            relation=(schema, name),
            owner=owner,
        )
    return len(rows)


def _grant_stats(conn: psycopg.Connection, transform: str) -> str | None:
    # the roles do not inherit (noinherit): from PostgreSQL 16 on a grant can say it is inherited
    inherited = " with inherit true" if conn.info.server_version >= 160000 else ""
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("grant pg_read_all_stats to {}" + inherited).format(sql.Identifier(transform))
            )
    except psycopg.errors.InsufficientPrivilege as exc:
        return (
            f"{transform} was not granted pg_read_all_stats ({str(exc).strip()}): a cycle cannot see the"
            " ingest role's open transactions; grant it as a superuser"
        )
    return None
