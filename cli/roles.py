"""``infomart roles init``: the database roles of least privilege (ingest, transform, reporting, export).

Registered in ``cli/main.py``; the grants are in ``pipeline/roles.py``, the names and each
component's DSN in ``infomart/roles.py``. Exit codes as everywhere: 0 done, 1 failed, 2 bad settings.
"""

from __future__ import annotations

import psycopg
import typer
from rich.console import Console

from cli.common import fail, settings_or_exit
from infomart import embedded
from infomart.roles import COMPONENTS, DSN_SETTING, Component, component_dsn, describe
from infomart.settings import Settings
from ingest.landing import RawSchemaError, ensure_raw_schema
from pipeline.roles import init_roles

console = Console(stderr=True)
out = Console()

roles_app = typer.Typer(help="The database roles each component connects as.", no_args_is_help=True)

MAY = {
    "ingest": "insert into raw events and raw.rejects; read and write the offsets",
    "transform": "read raw; own staging, intermediate, infomart, reports, snapshots",
    "reporting": "read infomart and reports (read-only sessions)",
    "export": "read infomart (read-only sessions)",
}


@roles_app.command("init")
def roles_init() -> None:
    """Create the roles of the Info Mart's database with their grants and default privileges
    (idempotent; run it as the database's owner or a superuser: INFOMART_PG_DSN, or the embedded
    PostgreSQL). Then set INFOMART_DB_ROLES=true and every component connects as its own role."""
    settings = settings_or_exit()
    try:
        dsn = embedded.resolve_pg_dsn(settings)
        report = init_roles(dsn)
    except (RawSchemaError, ValueError) as exc:
        raise fail(str(exc)) from None
    except psycopg.Error as exc:
        where = "INFOMART_PG_DSN" if settings.pg_dsn else "the embedded PostgreSQL"
        raise fail(f"roles init ({where}): {str(exc).strip()}") from None
    out.print(f"roles of database {report.database}:")
    for component in COMPONENTS:
        role = report.roles[component]
        new = " (created)" if role in report.created else ""
        explicit = DSN_SETTING[component] if _explicit(settings, component) else None
        used = explicit or describe(component_dsn(settings, dsn, component))
        out.print(f"  {component}: {role}{new} may {MAY[component]}; connects with {used}", soft_wrap=True)
    if report.handed_over:
        out.print(f"{report.handed_over} relations handed over to {report.roles['transform']}")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if not settings.db_roles:
        out.print("set INFOMART_DB_ROLES=true to have every component connect as its role")


def _explicit(settings: Settings, component: Component) -> bool:
    return bool(getattr(settings, {"reporting": "report_dsn"}.get(component, f"{component}_dsn")))


def connect_as(settings: Settings, dsn: str, component: Component) -> str:
    """The DSN `component` connects with (infomart/roles.py), checked with one connection; an ingester's
    also finds the raw tables (creating them when it may). A failure says what to set or run."""
    role_dsn = component_dsn(settings, dsn, component)
    if role_dsn == dsn:
        return dsn
    if settings.embedded_pg and settings.db_roles and not _explicit(settings, component):
        # the embedded server is ours (we are its superuser): its roles are kept up to date without
        # an operator, so `infomart demo` works as it is with INFOMART_DB_ROLES on
        try:
            init_roles(dsn)
        except (RawSchemaError, psycopg.Error) as exc:
            raise fail(f"roles init on the embedded PostgreSQL: {str(exc).strip()}") from None
    try:
        with psycopg.connect(role_dsn, autocommit=True, connect_timeout=10) as conn:
            if component == "ingest":
                ensure_raw_schema(conn)
    except RawSchemaError as exc:
        raise fail(str(exc)) from None
    except psycopg.Error as exc:
        setting = DSN_SETTING[component]
        how = (
            f"{setting} is set"
            if _explicit(settings, component)
            else f"INFOMART_DB_ROLES is on ({setting} unset)"
        )
        raise fail(
            f"cannot connect as the {component} role ({describe(role_dsn)}; {how}): {str(exc).strip()};"
            " create the roles with `infomart roles init`, or set the role's password in .pgpass or in"
            f" {setting}"
        ) from None
    return role_dsn
