"""Where the data quality keeps its files, all under the Info Mart's home."""

from __future__ import annotations

from pathlib import Path

from infomart.settings import Settings


def quality_dir(settings: Settings) -> Path:
    """The Great Expectations project folder (its context is ``gx/`` inside)."""
    return settings.home / "quality"


def gx_dir(settings: Settings) -> Path:
    """The file-backed context: suites, validation definitions, checkpoint, validation results."""
    return quality_dir(settings) / "gx"


def data_docs_dir(settings: Settings) -> Path:
    """The Data Docs site, ``index.html`` at its top (the report server mounts it at /quality)."""
    return quality_dir(settings) / "data_docs"
