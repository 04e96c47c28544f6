"""The suites of :mod:`quality.suites` as GE objects: a table asset and a whole-table batch
definition per table, an expectation suite and a validation definition per suite, and one
checkpoint over all of them whose action updates the Data Docs.

Suites, validation definitions and the checkpoint are written again on every run
(``add_or_update``), so the files under the home say what the code declares; assets and batch
definitions are added once. A table that does not exist (yet) leaves its suite out and is
reported as missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import great_expectations as gx
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.core.batch_definition import BatchDefinition
from great_expectations.data_context import FileDataContext
from great_expectations.datasource.fluent import SQLDatasource
from great_expectations.datasource.fluent.interfaces import TestConnectionError

from quality.context import SITE, data_source
from quality.suites import TableSuite

CHECKPOINT = "infomart"
BATCH = "whole table"


@dataclass(frozen=True)
class Prepared:
    """The checkpoint to run, the suites left out because their table is missing, and the data
    source (whose engine the caller disposes of after the run)."""

    checkpoint: gx.Checkpoint | None
    missing: tuple[TableSuite, ...]
    source: SQLDatasource


def prepare(context: FileDataContext, suites: Sequence[TableSuite]) -> Prepared:
    source = data_source(context)
    definitions: list[gx.ValidationDefinition] = []
    missing: list[TableSuite] = []
    batches: dict[str, BatchDefinition] = {}
    for table_suite in suites:
        asset = f"{table_suite.schema}.{table_suite.table}"
        if asset not in batches:
            try:
                batches[asset] = _whole_table(source, table_suite)
            except TestConnectionError:
                missing.append(table_suite)
                continue
        suite = context.suites.add_or_update(
            gx.ExpectationSuite(name=table_suite.name, expectations=[c.build() for c in table_suite.checks])
        )
        definitions.append(
            context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=table_suite.name, data=batches[asset], suite=suite)
            )
        )
    if not definitions:
        return Prepared(None, tuple(missing), source)
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=CHECKPOINT,
            validation_definitions=definitions,
            actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[SITE])],
            result_format="SUMMARY",
        )
    )
    return Prepared(checkpoint, tuple(missing), source)


def _whole_table(source: SQLDatasource, suite: TableSuite) -> BatchDefinition:
    """The table's whole-table batch definition, its asset added on first use."""
    name = f"{suite.schema}.{suite.table}"
    if name in source.get_asset_names():
        asset = source.get_asset(name)
    else:
        asset = source.add_table_asset(name=name, schema_name=suite.schema, table_name=suite.table)
    if BATCH in {b.name for b in asset.batch_definitions}:
        return asset.get_batch_definition(BATCH)
    return asset.add_batch_definition_whole_table(BATCH)
