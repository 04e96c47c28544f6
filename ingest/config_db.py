"""The Configuration Database: where it is, its schema, and the demo data set.

Where (``resolve_config_db_dsn``):

* ``INFOMART_CONFIG_DB_DSN`` set: that database, used as it is (never created or filled here
  except by ``infomart config-db init``).
* otherwise database ``cfgdb_<tenant>`` on the Info Mart's PostgreSQL server (the embedded one,
  or the server of ``INFOMART_PG_DSN``), created when missing. Genesys keeps the Configuration
  Database apart from the Info Mart; so do we, on the same server for the default set-up.
  This default database gets the schema and the demo data set on first use
  (:func:`ensure_config_db`), so the embedded default runs end to end with nothing configured.

Schema: ``ingest/sql/config_db.sql`` (tables, change log and triggers, published views, the
read-only role ``cfg_reader``).

Demo data set (:func:`load_demo`): the configuration the simulator (``infomart/simulator``)
runs against, with the same names, dbids and attributes as the objects of the simulator's
configuration changes (``cfgevents.py``; writing its start state into a database holding the demo
data set changes nothing): Skills 101+, AgentGroups 201+, ActionCodes 301+ (not-ready reasons, then
dispositions), Queues 401+ (voice, chat, email virtual queues), Campaigns 501+, DNs 601+ (routing
points, then the IVR), and per agent i (``agent0001``...): Person 100000+i, extension DN 200000+i,
Place 300000+i, agent login 100000+i. Agent i's queues, skills, groups and media come from the
simulator's ``build_agent``, so they always match it. Counts are parameters (``agents``,
``extra_queues``), names come from :class:`~infomart.simulator.config.SimulationConfig`.
Its change time is the simulator's default start (:func:`demo_changed_at`) unless told
otherwise, so the simulated days (which start then or later) find it in force.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infomart import embedded
from infomart.settings import Settings

log = logging.getLogger(__name__)

DISPOSITIONS: tuple[str, ...] = ("Sale", "NoSale", "Callback", "WrongNumber", "Unreached")
SWITCH = "SIP_Switch"


class ConfigDbError(Exception):
    """The Configuration Database cannot be used; the message says what to do."""


class AlreadyConfigured(ConfigDbError):
    """The demo data set is not loaded: the tenant has persons already."""


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
    ddl = resources.files("ingest").joinpath("sql/config_db.sql").read_text()
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('infomart.config_db_schema'))")
        conn.execute(ddl)
        conn.execute("insert into cfg.cfg_tenant (name) values (%s) on conflict (name) do nothing", (tenant,))
        row = conn.execute("select dbid from cfg.cfg_tenant where name = %s", (tenant,)).fetchone()
    return int(row[0])  # type: ignore[index]


@dataclass(frozen=True)
class DemoCounts:
    agents: int
    objects: int


def _sim_config(agents: int):  # type: ignore[no-untyped-def]
    from infomart.simulator.config import SimulationConfig

    return SimulationConfig(agents=max(agents, 2))


def demo_changed_at() -> datetime:
    """Change time of the demo data set: the simulator's default start."""
    from infomart.simulator.config import SimulationConfig

    return SimulationConfig().start


def load_demo(
    conn: psycopg.Connection,
    tenant: str,
    agents: int = 100,
    extra_queues: int = 0,
    progress: Callable[[str], None] | None = None,
    changed_at: datetime | None = None,
) -> DemoCounts:
    """Fill the Configuration Database with the simulator's configuration, in one transaction.

    Refuses to load into a database that already has persons of the tenant (the demo data set
    uses fixed dbids): :class:`AlreadyConfigured`. ``extra_queues`` adds voice virtual queues
    ``VQ_Extra_0001``... (dbids from 1001) for benchmarks. ``changed_at``: the change time of
    every object (None: now).
    """
    from infomart.simulator.agents import build_agent, skill_of
    from infomart.simulator.ids import agent_dn, agent_id, place_name

    say = progress or (lambda _msg: None)
    tenant_dbid = init_schema(conn, tenant)
    if conn.execute("select count(*) from cfg.cfg_person where tenant_dbid = %s", (tenant_dbid,)).fetchone()[
        0
    ]:  # type: ignore[index]
        raise AlreadyConfigured(f"the Configuration Database already has persons of tenant {tenant!r}")
    cfg = _sim_config(agents)
    skills = [skill_of(q) for q in cfg.voice_queues] + ["Chat", "Email", "Outbound"]
    groups = [f"AG_{skill_of(q)}" for q in cfg.voice_queues] + ["AG_Digital", "AG_Outbound"]
    skill_dbid = {name: 101 + k for k, name in enumerate(skills)}
    group_dbid = {name: 201 + k for k, name in enumerate(groups)}
    queues = [(q, "voice") for q in cfg.voice_queues]
    queues += [(q, "chat") for q in cfg.chat_queues] + [(q, "email") for q in cfg.email_queues]
    queue_dbid = {q: 401 + k for k, (q, _) in enumerate(queues)}
    n_objects = 0

    def copy(table: str, columns: list[str], rows: list[tuple]) -> None:
        nonlocal n_objects
        with conn.cursor() as cur, cur.copy(f"copy cfg.{table} ({', '.join(columns)}) from stdin") as cp:
            for row in rows:
                cp.write_row(row)
        if "dbid" in columns and table != "cfg_agent_login":  # logins are parts of a Person
            n_objects += len(rows)

    t = tenant_dbid
    with conn.transaction():
        if changed_at is not None:
            conn.execute("select set_config('cfg.changed_at', %s, true)", (changed_at.isoformat(),))
        say("skills, agent groups, action codes")
        copy("cfg_skill", ["dbid", "tenant_dbid", "name"], [(d, t, n) for n, d in skill_dbid.items()])
        copy("cfg_agent_group", ["dbid", "tenant_dbid", "name"], [(d, t, n) for n, d in group_dbid.items()])
        codes = [(n, "NotReady") for n in cfg.not_ready_reasons] + [(n, "Disposition") for n in DISPOSITIONS]
        copy(
            "cfg_action_code",
            ["dbid", "tenant_dbid", "name", "code", "action_type"],
            [(301 + k, t, n, n.upper(), typ) for k, (n, typ) in enumerate(codes)],
        )
        say("queues, routing points, campaigns")
        dn_cols = [
            "dbid",
            "tenant_dbid",
            "number",
            "dn_type",
            "switch_name",
            "media_type",
            "place_dbid",
            "queue_dbid",
        ]
        qrows = [(queue_dbid[q], t, q, "VirtualQueue", SWITCH, m, None, None) for q, m in queues]
        qrows += [
            (1001 + k, t, f"VQ_Extra_{k + 1:04d}", "VirtualQueue", SWITCH, "voice", None, None)
            for k in range(extra_queues)
        ]
        copy("cfg_dn", dn_cols, qrows)
        rps = [
            (601 + k, t, cfg.routing_points[k], "RoutingPoint", SWITCH, None, None, queue_dbid[q])
            for k, q in enumerate(cfg.voice_queues)
        ]
        rps.append((601 + len(cfg.voice_queues), t, cfg.ivr_dn, "IVR", SWITCH, None, None, None))
        copy("cfg_dn", dn_cols, rps)
        copy(
            "cfg_campaign",
            ["dbid", "tenant_dbid", "name", "dialing_mode", "agent_group_dbid"],
            [
                (501 + k, t, name, mode, group_dbid["AG_Outbound"])
                for k, (name, mode) in enumerate(cfg.campaigns)
            ],
        )
        say(f"{agents:,} agents: places, extensions, persons, logins, skills, groups")
        built = [build_agent(cfg, i) for i in range(1, agents + 1)]
        copy(
            "cfg_place",
            ["dbid", "tenant_dbid", "name"],
            [(300_000 + a.idx, t, place_name(a.idx)) for a in built],
        )
        copy(
            "cfg_dn",
            dn_cols,
            [
                (200_000 + a.idx, t, agent_dn(a.idx), "Extension", SWITCH, None, 300_000 + a.idx, None)
                for a in built
            ],
        )
        copy(
            "cfg_person",
            [
                "dbid",
                "tenant_dbid",
                "employee_id",
                "user_name",
                "first_name",
                "last_name",
                "email",
                "is_agent",
                "place_dbid",
                "media",
            ],
            [
                (
                    100_000 + a.idx,
                    t,
                    f"E{a.idx:05d}",
                    agent_id(a.idx),
                    a.first_name,
                    a.last_name,
                    f"{agent_id(a.idx)}@example.com",
                    True,
                    300_000 + a.idx,
                    ["voice", *a.digital],
                )
                for a in built
            ],
        )
        copy(
            "cfg_agent_login",
            ["dbid", "tenant_dbid", "login_code", "switch_name"],
            [(100_000 + a.idx, t, agent_id(a.idx), SWITCH) for a in built],
        )
        copy(
            "cfg_person_agent_login",
            ["person_dbid", "agent_login_dbid", "wrapup_time"],
            [(100_000 + a.idx, 100_000 + a.idx, 0) for a in built],
        )
        copy(
            "cfg_skill_level",
            ["person_dbid", "skill_dbid", "level"],
            [(100_000 + a.idx, skill_dbid[s], lvl) for a in built for s, lvl in sorted(a.skills.items())],
        )
        copy(
            "cfg_agent_group_member",
            ["group_dbid", "person_dbid"],
            [(group_dbid[g], 100_000 + a.idx) for a in built for g in dict.fromkeys(a.groups)],
        )
        for table in (
            "cfg_skill",
            "cfg_agent_group",
            "cfg_action_code",
            "cfg_dn",
            "cfg_campaign",
            "cfg_place",
            "cfg_person",
            "cfg_agent_login",
        ):
            conn.execute(
                f"select setval(pg_get_serial_sequence('cfg.{table}', 'dbid'),"
                f" greatest((select max(dbid) from cfg.{table}), 1))"
            )
    conn.execute("analyze")
    return DemoCounts(agents=agents, objects=n_objects)


def ensure_config_db(settings: Settings, demo_agents: int = 100) -> str:
    """DSN of a usable Configuration Database: the default one is created and filled on first use."""
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
            log.info("creating the default Configuration Database with the demo data set")
            load_demo(conn, settings.tenant, agents=demo_agents, changed_at=demo_changed_at())
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
