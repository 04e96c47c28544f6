"""CLI commands of the reporting side: ``infomart serve`` (reports, /docs, /quality) and
``infomart docs`` (the schema reference). Registered in ``cli/main.py``."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from cli.common import fail, settings_or_exit
from cli.roles import connect_as
from infomart import embedded
from infomart.settings import Settings
from pipeline.docs import docs_dir, generate_docs
from pipeline.transform import TransformError
from quality.paths import data_docs_dir
from reporting.access import reader_dsn
from reporting.app import ServeConfig, create_app

console = Console(stderr=True)


def serve_config(settings: Settings, dsn: str) -> ServeConfig:
    return ServeConfig(
        reader_dsn=settings.report_dsn or reader_dsn(dsn),
        zone=ZoneInfo(settings.reporting_time_zone),
        tenant=settings.tenant,
        service_level_target=settings.service_level_target,
        docs_dir=docs_dir(settings),
        quality_dir=data_docs_dir(settings).resolve(),
    )


def docs() -> None:
    """Generate the schema reference (dbt docs: models, columns, tests, exposures, lineage) for /docs."""
    settings = settings_or_exit()
    dsn = connect_as(settings, embedded.resolve_pg_dsn(settings), "transform")
    try:
        with console.status("dbt docs generate"):
            site = generate_docs(settings, dsn)
    except (TransformError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    console.print(f"schema reference: {site / 'index.html'} (served at /docs by `infomart serve`)")


def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default INFOMART_SERVE_HOST, loopback).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default INFOMART_SERVE_PORT, 8080).")] = None,
) -> None:
    """Serve the reports, the schema reference (/docs) and the data-quality results (/quality)."""
    import uvicorn

    settings = settings_or_exit()
    dsn = embedded.resolve_pg_dsn(settings)
    app = create_app(serve_config(settings, dsn))
    host = host or settings.serve_host
    port = port or settings.serve_port
    console.print(f"reports: http://{host}:{port}/  (schema reference /docs, data quality /quality)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
