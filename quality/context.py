"""The Great Expectations context: file-backed under ``<home>/quality/gx``, one SQL data source.

The data source's connection string is the placeholder ``${infomart_pg_url}``; its value, the
URL with the password, comes through the context's runtime environment each time the context
is opened, so no file under the home holds a password. The Data Docs site is
``<home>/quality/data_docs`` (:func:`quality.paths.data_docs_dir`), GE's default site replaced.
"""

from __future__ import annotations

from pathlib import Path

import great_expectations as gx
from great_expectations.data_context import FileDataContext
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.datasource.fluent import SQLDatasource

from infomart.settings import Settings
from quality.connection import sqlalchemy_url
from quality.paths import data_docs_dir, quality_dir

DATA_SOURCE = "infomart"
SITE = "infomart"
URL_VARIABLE = "infomart_pg_url"


def open_context(settings: Settings, dsn: str) -> FileDataContext:
    """The file context under the home (created on first use), its site and data source set."""
    root = quality_dir(settings).resolve()
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(
        mode="file", project_root_dir=root, runtime_environment={URL_VARIABLE: sqlalchemy_url(dsn)}
    )
    _configure(context, data_docs_dir(settings).resolve())
    return context


def data_source(context: FileDataContext) -> SQLDatasource:
    """The Info Mart database (kept between runs: the stored validation definitions use its assets)."""
    if DATA_SOURCE in context.data_sources.all():
        source = context.data_sources.get(DATA_SOURCE)
        assert isinstance(source, SQLDatasource)
        return source
    return context.data_sources.add_sql(name=DATA_SOURCE, connection_string="${" + URL_VARIABLE + "}")


def _configure(context: FileDataContext, site_dir: Path) -> None:
    """Once per home: no progress bars, no analytics, the one Data Docs site under the home."""
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    sites = context.get_config().data_docs_sites or {}
    if set(sites) == {SITE} and sites[SITE] == site:
        return
    for name in list(sites):
        context.delete_data_docs_site(name)
    context.add_data_docs_site(SITE, site)  # type: ignore[arg-type]
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.enable_analytics(False)  # saves the variables
