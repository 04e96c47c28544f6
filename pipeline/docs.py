"""`infomart docs`: the schema reference, dbt's docs site (every model, column, test, exposure
and the lineage graph), generated into ``<home>/docs`` for `infomart serve` to serve at /docs."""

from __future__ import annotations

from pathlib import Path

from infomart.settings import Settings
from pipeline.transform import run_dbt


def docs_dir(settings: Settings) -> Path:
    return settings.home.resolve() / "docs"


def generate_docs(settings: Settings, dsn: str) -> Path:
    """Runs ``dbt docs generate`` (the catalog reads the live database) and returns the site's folder."""
    target = docs_dir(settings)
    target.mkdir(parents=True, exist_ok=True)
    run_dbt(settings, dsn, ["docs", "generate", "--target-path", str(target)], metered=False)
    if not (target / "index.html").is_file() or not (target / "catalog.json").is_file():
        raise FileNotFoundError(f"dbt docs generate wrote no site into {target}")
    return target
