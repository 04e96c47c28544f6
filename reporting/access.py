"""How the report server reaches the database: as the project's read-only role."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict, make_conninfo


def reader_role(database: str) -> str:
    """The read-only role every dbt build creates and grants (macros/report_reader.sql)."""
    return f"{database}_reader"


def reader_dsn(infomart_dsn: str) -> str:
    """The Info Mart's DSN as its read-only role (no password: set INFOMART_REPORT_DSN where the
    server asks for one)."""
    info = conninfo_to_dict(infomart_dsn)
    info.pop("password", None)
    info["user"] = reader_role(str(info.get("dbname") or "postgres"))
    return make_conninfo(**info)
