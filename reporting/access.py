"""How the report server reaches the database: as the project's read-only role."""

from __future__ import annotations

from infomart.roles import as_role, database_of, role_name


def reader_role(database: str) -> str:
    """The read-only role every dbt build creates and grants (macros/report_reader.sql), and
    `infomart roles init` creates as the reporting role (infomart/roles.py)."""
    return role_name(database, "reporting")


def reader_dsn(infomart_dsn: str) -> str:
    """The Info Mart's DSN as its read-only role (no password: set INFOMART_REPORT_DSN where the
    server asks for one)."""
    return as_role(infomart_dsn, reader_role(database_of(infomart_dsn)))
