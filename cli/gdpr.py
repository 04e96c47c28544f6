"""CLI commands of GDPR requests: ``infomart gdpr export``, ``forget`` and ``purge-history``.

Registered in ``cli/main.py``; the logic is in ``pipeline/gdpr.py`` (and the landing rule in
``ingest/forget.py``). Exit codes as everywhere: 0 done, 1 failed, 2 bad settings or usage.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from cli.common import fail, settings_or_exit
from infomart import embedded
from pipeline.gdpr import GdprError, Subject, purge_history

console = Console(stderr=True)

gdpr_app = typer.Typer(
    help="GDPR requests: export or forget a customer (ANI, customer id, contact) or an employee (agent id).",
    no_args_is_help=True,
)

Ani = Annotated[str | None, typer.Option("--ani", help="A customer's phone number (ANI).")]
CustomerId = Annotated[
    str | None, typer.Option("--customer-id", help="A customer id of digital interactions.")
]
Contact = Annotated[str | None, typer.Option("--contact", help="An outbound record's contact.")]
AgentId = Annotated[str | None, typer.Option("--agent-id", help="An employee's agent id.")]


def _subject(ani: str | None, customer_id: str | None, contact: str | None, agent_id: str | None) -> Subject:
    given = {
        k: v
        for k, v in {"ani": ani, "customer_id": customer_id, "contact": contact, "agent_id": agent_id}.items()
        if v is not None
    }
    if len(given) != 1:
        raise fail("name one person: exactly one of --ani, --customer-id, --contact, --agent-id", 2)
    try:
        return Subject(*next(iter(given.items())))
    except GdprError as exc:
        raise fail(str(exc), 2) from None


def _write(document: dict, out: Path | None) -> None:
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    if out is None:
        typer.echo(data.decode(), nl=False)
    else:
        out.write_bytes(data)
        console.print(f"written to {out}")


@gdpr_app.command("export")
def export_cmd(
    ani: Ani = None,
    customer_id: CustomerId = None,
    contact: Contact = None,
    agent_id: AgentId = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON here (default: stdout).")] = None,
) -> None:
    """Every value held for the person (facts, dimensions, user data, staging, raw events and
    rejects), with its table, column, JSON path and row key, as JSON."""
    from pipeline.gdpr import export

    subject = _subject(ani, customer_id, contact, agent_id)
    settings = settings_or_exit()
    result = export(settings, embedded.resolve_pg_dsn(settings), subject)
    _write(result.as_dict(), out)
    console.print(
        f"{len(result.found)} value(s) found in {len({f.table for f in result.found})} table(s);"
        f" {result.fields_checked} fields checked (gdpr.ctl_gdpr_history, request {result.request_id})"
    )


@gdpr_app.command("forget")
def forget_cmd(
    ani: Ani = None,
    customer_id: CustomerId = None,
    contact: Contact = None,
    agent_id: AgentId = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild/--no-rebuild",
            help="Then rebuild the models (full refresh), so the keys hashed from the old value go too.",
        ),
    ] = True,
    out: Annotated[Path | None, typer.Option("--out", help="Write what was replaced as JSON here.")] = None,
) -> None:
    """Replace every value held for the person by a stable pseudonym ('forgotten:' + a digest) and
    keep the person on the forget list, so replayed events land pseudonymised. Idempotent."""
    from pipeline.gdpr import forget
    from pipeline.transform import TransformError

    subject = _subject(ani, customer_id, contact, agent_id)
    settings = settings_or_exit()
    try:
        with console.status("forgetting (and rebuilding the models)" if rebuild else "forgetting"):
            result = forget(settings, embedded.resolve_pg_dsn(settings), subject, rebuild=rebuild)
    except TransformError as exc:
        raise fail(str(exc)) from None
    if out is not None:
        _write(result.as_dict(), out)
    changed = sum(result.rows_changed.values())
    console.print(
        f"{len(result.found)} value(s) replaced in {changed} row(s) of {len(result.rows_changed)} table(s)"
        f" by {result.pseudonym}; on the forget list"
        + ("; models rebuilt" if result.rebuilt else "")
        + f" (request {result.request_id})"
    )


@gdpr_app.command("purge-history")
def purge_history_cmd() -> None:
    """Delete the CTL_GDPR_HISTORY rows older than INFOMART_GDPR_HISTORY_RETENTION_DAYS (every
    export and forget does it too)."""
    import psycopg

    settings = settings_or_exit()
    with psycopg.connect(embedded.resolve_pg_dsn(settings), autocommit=True) as conn:
        n = purge_history(conn, settings.gdpr_history_retention_days, datetime.now(UTC))
    console.print(f"{n} history row(s) older than {settings.gdpr_history_retention_days} days deleted")
