"""The Configuration Database: where it is and its schema.

Where (``resolve_config_db_dsn``):

* ``INFOMART_CONFIG_DB_DSN`` set: that database, used as it is (never created or filled here
  except by ``infomart config-db init``).
* otherwise database ``cfgdb_<tenant>`` on the Info Mart's PostgreSQL server (the embedded one,
  or the server of ``INFOMART_PG_DSN``), created when missing. Genesys keeps the Configuration
  Database apart from the Info Mart; so do we, on the same server for the default set-up.
  This default database gets the schema and, on first use, the data set its caller fills it with
  (:func:`ensure_config_db`; the CLI passes the demo data set of ``cli/config_demo.py``), so the
  embedded default runs end to end with nothing configured.

Schema: ``ingest/config/config_db.sql`` (tables, change log and triggers, published views, the
read-only role ``cfg_reader``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from importlib import resources

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infomart import embedded
from infomart.settings import Settings

log = logging.getLogger(__name__)


class ConfigDbError(Exception):
    """The Configuration Database cannot be used; the message says what to do."""


def config_db_name(tenant: str) -> str:
    return f"cfgdb_{tenant.replace('-', '_').lower()}"


def _create_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # created meanwhile
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def resolve_config_db_dsn(settings: Settings) -> str:
    """DSN of the Configuration Database (see the module docstring); creates the default database."""
    if settings.config_db_dsn:
        return settings.config_db_dsn
    name = config_db_name(settings.tenant)
    if settings.pg_dsn is None:
        return embedded.start_embedded_postgres(settings.home, name)
    info = conninfo_to_dict(settings.pg_dsn)
    try:
        _create_database(settings.pg_dsn, name)
    except psycopg.Error as exc:
        raise ConfigDbError(
            f"cannot create the Configuration Database {name} on the server of INFOMART_PG_DSN ({exc}); "
            "create it, or set INFOMART_CONFIG_DB_DSN"
        ) from None
    info["dbname"] = name
    return make_conninfo(**info)


def is_default_location(settings: Settings) -> bool:
    return not settings.config_db_dsn


def schema_exists(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass('cfg.change_log') is not null").fetchone()[0]  # type: ignore[index]


def schema_takes_change_times(conn: psycopg.Connection) -> bool:
    """True when the schema records a writer's change time (cfg.changed_at; older schemas do not)."""
    row = conn.execute(
        "select p.prosrc like '%%cfg.changed_at%%' from pg_proc as p"
        " inner join pg_namespace as n on p.pronamespace = n.oid"
        " where n.nspname = 'cfg' and p.proname = 'change_time'"
    ).fetchone()
    return bool(row and row[0])


def init_schema(conn: psycopg.Connection, tenant: str) -> int:
    """Apply the DDL (idempotent) and make sure the tenant exists. Returns the tenant's dbid."""
    ddl = resources.files("ingest.config").joinpath("config_db.sql").read_text()
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('infomart.config_db_schema'))")
        conn.execute(ddl)
        conn.execute("insert into cfg.cfg_tenant (name) values (%s) on conflict (name) do nothing", (tenant,))
        row = conn.execute("select dbid from cfg.cfg_tenant where name = %s", (tenant,)).fetchone()
    return int(row[0])  # type: ignore[index]


def ensure_config_db(settings: Settings, fill_default: Callable[[psycopg.Connection], object]) -> str:
    """DSN of a usable Configuration Database: the default one is created and filled on first use
    (``fill_default(conn)``, given an autocommit connection to the new database)."""
    dsn = resolve_config_db_dsn(settings)
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            if schema_exists(conn):
                return dsn
            if not is_default_location(settings):
                raise ConfigDbError(
                    "the Configuration Database at INFOMART_CONFIG_DB_DSN has no cfg schema; "
                    "run `infomart config-db init` (add --demo for the demo data set)"
                )
            log.info("creating the default Configuration Database and filling it")
            fill_default(conn)
    except psycopg.OperationalError as exc:
        where = "INFOMART_CONFIG_DB_DSN" if settings.config_db_dsn else "the default Configuration Database"
        raise ConfigDbError(f"cannot connect to {where}: {exc}") from None
    return dsn


def prepare_config_db(settings: Settings) -> str:
    """DSN of a Configuration Database that takes writes with their change times (the demo and the
    simulator write into it): the default one gets the schema (idempotent) and the tenant, but no
    demo data set; a configured one must have the current schema already."""
    dsn = resolve_config_db_dsn(settings)
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            if is_default_location(settings):
                init_schema(conn, settings.tenant)
            elif not (schema_exists(conn) and schema_takes_change_times(conn)):
                raise ConfigDbError(
                    "the Configuration Database at INFOMART_CONFIG_DB_DSN has no cfg schema or an older one; "
                    "run `infomart config-db init`"
                )
    except psycopg.OperationalError as exc:
        where = "INFOMART_CONFIG_DB_DSN" if settings.config_db_dsn else "the default Configuration Database"
        raise ConfigDbError(f"cannot connect to {where}: {exc}") from None
    return dsn
