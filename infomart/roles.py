"""The database roles of an Info Mart database, and the DSN each component connects with.

One database per tenant, so one set of roles per database (roles are server-wide):

========== ======================== =====================================================
component  role                     may
========== ======================== =====================================================
ingest     ``<database>_ingest``    insert into the raw event tables and ``raw.rejects``;
                                    read and write the offsets (``raw.consumer_offsets``,
                                    ``raw.archive_files``); nothing else
transform  ``<database>_transform`` read raw; own staging, intermediate, infomart (marts
                                    and aggregates), reports and snapshots
reporting  ``<database>_reader``    read infomart and reports (read-only sessions)
export     ``<database>_export``    read infomart (read-only sessions)
========== ======================== =====================================================

``infomart roles init`` creates them (``pipeline/roles.py``). A component's DSN is its setting
(``INFOMART_INGEST_DSN``, ``INFOMART_TRANSFORM_DSN``, ``INFOMART_REPORT_DSN``,
``INFOMART_EXPORT_DSN``) when set; else, with ``INFOMART_DB_ROLES`` on, the Info Mart's DSN with
the user swapped to the component's role and the password dropped (libpq then finds the role's
password in ``.pgpass`` / ``PGPASSFILE``, or the server trusts the socket, as the embedded one
does); else the Info Mart's DSN itself. The report server always used its role: it keeps doing so.
"""

from __future__ import annotations

from typing import Literal

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infomart.settings import Settings

Component = Literal["ingest", "transform", "reporting", "export"]
COMPONENTS: tuple[Component, ...] = ("ingest", "transform", "reporting", "export")
_SUFFIX: dict[Component, str] = {
    "ingest": "ingest",
    "transform": "transform",
    "reporting": "reader",  # the report server's role since before there were others
    "export": "export",
}
#: the setting that overrides each component's DSN
DSN_SETTING: dict[Component, str] = {
    "ingest": "INFOMART_INGEST_DSN",
    "transform": "INFOMART_TRANSFORM_DSN",
    "reporting": "INFOMART_REPORT_DSN",
    "export": "INFOMART_EXPORT_DSN",
}
_MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1


def database_of(dsn: str) -> str:
    return str(conninfo_to_dict(dsn).get("dbname") or "postgres")


def role_name(database: str, component: Component) -> str:
    """The role of `component` in `database`."""
    name = f"{database}_{_SUFFIX[component]}"
    if len(name.encode()) > _MAX_IDENTIFIER:
        raise ValueError(
            f"the role name {name!r} is longer than PostgreSQL's {_MAX_IDENTIFIER} bytes; use a shorter"
            " tenant (INFOMART_TENANT) or database name"
        )
    return name


def role_names(database: str) -> dict[Component, str]:
    return {c: role_name(database, c) for c in COMPONENTS}


def as_role(dsn: str, role: str) -> str:
    """`dsn` with the user swapped to `role` and no password (a password is the user's, not the role's)."""
    info = conninfo_to_dict(dsn)
    info.pop("password", None)
    info["user"] = role
    return make_conninfo(**info)


def _explicit(settings: Settings, component: Component) -> str | None:
    return {
        "ingest": settings.ingest_dsn,
        "transform": settings.transform_dsn,
        "reporting": settings.report_dsn,
        "export": settings.export_dsn,
    }[component]


def component_dsn(settings: Settings, dsn: str, component: Component) -> str:
    """The DSN `component` connects with, given the Info Mart's `dsn` (see the module's docstring)."""
    explicit = _explicit(settings, component)
    if explicit:
        return explicit
    if settings.db_roles or component == "reporting":
        return as_role(dsn, role_name(database_of(dsn), component))
    return dsn


def describe(dsn: str) -> str:
    """A DSN fit for a message or a log: every part but the password."""
    info = conninfo_to_dict(dsn)
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())
