"""The demo data set of the Configuration Database, built from the simulator's configuration.

The configuration the simulator (``simulator/``) runs against, with the same names, dbids and
attributes as the objects of the simulator's configuration changes (``cfgevents.py``; writing its
start state into a database holding the demo data set changes nothing): Skills 101+, AgentGroups
201+, ActionCodes 301+ (not-ready reasons, then dispositions), Queues 401+ (voice, chat, email
virtual queues), Campaigns 501+, DNs 601+ (routing points, then the IVR), and per agent i
(``agent0001``...): Person 100000+i, extension DN 200000+i, Place 300000+i, agent login 100000+i.
Agent i's queues, skills, groups and media come from the simulator's ``build_agent``, so they
always match it. The queues' thresholds are the simulator's start thresholds with its
``queue_thresholds`` option (``start_queue_thresholds``: the first voice queue 30 s service level
/ 5 s short abandon, the first chat queue 60 s / not set, the others none); a simulation without
that option writes no thresholds, so it leaves them as they are. Counts are parameters
(``agents``, ``extra_queues``), names come from
:class:`~simulator.config.SimulationConfig`. Its change time is the simulator's default start
(:func:`demo_changed_at`) unless told otherwise, so the simulated days (which start then or later)
find it in force.

It lives on the CLI side because it is the one place where the Configuration Database
(``ingest/config/database.py``) meets the simulator, which the product packages do not import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from ingest.config.database import ConfigDbError, init_schema
from simulator.agents import build_agent, skill_of
from simulator.cfgevents import start_queue_thresholds
from simulator.config import SimulationConfig
from simulator.ids import agent_dn, agent_id, place_name

DISPOSITIONS: tuple[str, ...] = ("Sale", "NoSale", "Callback", "WrongNumber", "Unreached")
SWITCH = "SIP_Switch"


class AlreadyConfigured(ConfigDbError):
    """The demo data set is not loaded: the tenant has persons already."""


@dataclass(frozen=True)
class DemoCounts:
    agents: int
    objects: int


def _sim_config(agents: int) -> SimulationConfig:
    return SimulationConfig(agents=max(agents, 2))


def demo_changed_at() -> datetime:
    """Change time of the demo data set: the simulator's default start."""
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
        thresholds = start_queue_thresholds(cfg)
        qrows = [
            (queue_dbid[q], t, q, "VirtualQueue", SWITCH, m, None, None, *thresholds.get(q, (None, None)))
            for q, m in queues
        ]
        qrows += [
            (1001 + k, t, f"VQ_Extra_{k + 1:04d}", "VirtualQueue", SWITCH, "voice", None, None, None, None)
            for k in range(extra_queues)
        ]
        copy("cfg_dn", [*dn_cols, "service_level_threshold", "short_abandon_threshold"], qrows)
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
