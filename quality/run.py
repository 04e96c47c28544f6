"""One data-quality run: the checkpoint over every suite, its results kept in the context's
validation results store, the Data Docs rebuilt and made offline, a summary returned."""

from __future__ import annotations

import datetime as dt
import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.datasource.fluent import GxDatasourceWarning

from infomart.settings import Settings
from quality.assets import make_offline
from quality.checkpoint import prepare
from quality.context import SITE, open_context
from quality.paths import data_docs_dir
from quality.suites import TableSuite, all_suites

log = logging.getLogger(__name__)
RUN_NAME = "infomart"


@dataclass(frozen=True)
class Failure:
    """One expectation that failed (or could not be evaluated), named by its description."""

    suite: str
    expectation: str
    description: str
    detail: str

    def __str__(self) -> str:
        return f"{self.suite}: {self.description} ({self.expectation}: {self.detail})"


@dataclass(frozen=True)
class SuiteOutcome:
    name: str
    area: str
    evaluated: int
    failed: int


@dataclass(frozen=True)
class QualityResult:
    """What a run found: per suite the expectations evaluated and failed, the failures, and
    where its Data Docs are."""

    suites: tuple[SuiteOutcome, ...]
    failures: tuple[Failure, ...]
    data_docs: Path
    run_time: dt.datetime
    seconds: float

    @property
    def evaluated(self) -> int:
        return sum(s.evaluated for s in self.suites)

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.suites)

    @property
    def success(self) -> bool:
        return self.failed == 0

    @property
    def index(self) -> Path:
        return self.data_docs / "index.html"


def run_quality(settings: Settings, dsn: str, suites: Sequence[TableSuite] | None = None) -> QualityResult:
    """Validate every suite (default: all of :mod:`quality.suites`) and rebuild the Data Docs."""
    with warnings.catch_warnings():
        # "a PostgresDatasource may be more appropriate": that one refuses a unix-socket host
        warnings.simplefilter("ignore", GxDatasourceWarning)
        # one data source reads three schemas: each table asset names its own
        warnings.filterwarnings("ignore", "`schema_name` is deprecated", DeprecationWarning)
        return _run(settings, dsn, suites)


def _run(settings: Settings, dsn: str, suites: Sequence[TableSuite] | None) -> QualityResult:
    started = time.monotonic()
    declared = tuple(suites) if suites is not None else all_suites()
    by_name = {s.name: s for s in declared}
    context = open_context(settings, dsn)
    prepared = prepare(context, declared)
    run_id = RunIdentifier(run_name=RUN_NAME, run_time=dt.datetime.now(dt.UTC))
    outcomes: dict[str, SuiteOutcome] = {}
    failures: list[Failure] = []
    try:
        if prepared.checkpoint is None:
            context.build_data_docs(site_names=[SITE])
        else:
            checkpoint_result = prepared.checkpoint.run(run_id=run_id)
            for result in checkpoint_result.run_results.values():
                suite = by_name[result.suite_name]
                failed = _failures(suite.name, result)
                outcomes[suite.name] = SuiteOutcome(
                    suite.name, suite.area, result.statistics["evaluated_expectations"], len(failed)
                )
                failures += failed
    finally:
        prepared.source.get_engine().dispose()
    for suite in prepared.missing:
        outcomes[suite.name] = SuiteOutcome(suite.name, suite.area, 0, 1)
        failures.append(
            Failure(suite.name, "table", "the table exists", f"{suite.schema}.{suite.table} not found")
        )
    site = data_docs_dir(settings).resolve()
    make_offline(site)
    ordered = tuple(outcomes[s.name] for s in declared if s.name in outcomes)
    summary = QualityResult(ordered, tuple(failures), site, run_id.run_time, time.monotonic() - started)
    log.info(
        "data quality: %d expectations, %d failed, %.1f s", summary.evaluated, summary.failed, summary.seconds
    )
    return summary


def _failures(suite: str, result: ExpectationSuiteValidationResult) -> list[Failure]:
    return [_failure(suite, r) for r in result.results if not r.success]


def _failure(suite: str, r: ExpectationValidationResult) -> Failure:
    config = r.expectation_config
    kind = config.type if config is not None else "expectation"
    description = (config.description if config is not None else None) or kind
    error = _error(r.exception_info or {})
    if error is not None:
        detail = f"error: {error}"
    else:
        found = r.result or {}
        if "unexpected_count" in found:
            detail = f"{found['unexpected_count']} unexpected value(s)"
        elif "observed_value" in found:
            detail = f"observed {found['observed_value']}"
        else:
            detail = "failed"
    return Failure(suite, kind, description, detail)


def _error(info: dict) -> str | None:
    """The first line of the exception an expectation raised: ``exception_info`` is the info
    itself, or (when a metric failed) a dict of infos per metric."""
    infos = [info] if "exception_message" in info else [v for v in info.values() if isinstance(v, dict)]
    for one in infos:
        if one.get("raised_exception", True) and one.get("exception_message"):
            return str(one["exception_message"]).splitlines()[0]
    return None
