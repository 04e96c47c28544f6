"""`adapter` for sqlfluff's jinja templater (.sqlfluff: library_path), so the project's SQL lints
without a database: the few adapter methods the macros call while rendering a model. The
dispatching macros themselves are bound to their postgres__ implementations in .sqlfluff."""

from __future__ import annotations


def quote(identifier: str) -> str:
    """A quoted identifier, as dbt-postgres quotes it."""
    return '"' + str(identifier).replace('"', '""') + '"'


def type() -> str:
    """The adapter's name (dbt's adapter.type())."""
    return "postgres"
