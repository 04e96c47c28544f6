"""Drive dbt from Python (dbtRunner) against the configured or embedded PostgreSQL.

The checked-in ``profiles.yml`` reads the standard libpq variables (PGHOST, PGPORT, ...);
here they are set from the DSN, so the same project also runs with a plain ``dbt build``.

Every transform first runs ``dbt source freshness`` (see :mod:`pipeline.freshness`). With
``only_changed`` (the cycles of ``infomart run``) it then builds only the sources with new rows and
everything downstream of them, and nothing at all when no source has new rows; the first cycle, a
changed project and a full refresh build everything. Only a build that succeeded saves the state
the next cycle compares with.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from infomart import metrics
from infomart.settings import Settings
from pipeline import cadence, control, freshness, selection

PROJECT_DIR = Path(__file__).resolve().parents[1]


class TransformError(Exception):
    """dbt failed; the message names the failing nodes."""


@dataclass
class NodeResult:
    name: str
    resource_type: str
    status: str
    seconds: float
    rows: int | None
    message: str | None


@dataclass
class TransformResult:
    success: bool
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    #: per source table, as ``dbt source freshness`` measured it before the build
    sources: dict[str, freshness.SourceFreshness] = field(default_factory=dict)
    #: the source tables whose models were built; None: everything was built
    built_sources: list[str] | None = None
    freshness_seconds: float = 0.0
    #: a cycle on the aggregates' own cadence left them for a later cycle
    aggregates_deferred: bool = False
    #: discarded raw events per (raw table, reason) after the build (:func:`publish_discards`)
    discards: dict[tuple[str, str], int] = field(default_factory=dict)
    #: a full refresh ends with VACUUM (ANALYZE) of the database (:func:`vacuum_analyze`)
    vacuum_seconds: float = 0.0
    #: the build's CTL_AUDIT_LOG key (None: nothing was built)
    audit_key: int | None = None

    def failures(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in {"error", "fail", "runtime error"}]


def dbt_env(dsn: str, settings: Settings) -> dict[str, str]:
    """libpq environment variables for the profile, from a DSN (URI or key=value)."""
    info = conninfo_to_dict(dsn)
    env = {
        "PGHOST": str(info.get("host", "localhost")),
        "PGPORT": str(info.get("port", "5432")),
        "PGUSER": str(info.get("user", os.environ.get("USER", "postgres"))),
        "PGPASSWORD": str(info.get("password", "")),
        "PGDATABASE": str(info.get("dbname", "postgres")),
        "INFOMART_DBT_THREADS": str(settings.dbt_threads),
        "PGTZ": "UTC",  # every session in UTC: calendar columns and date arithmetic never shift
    }
    # TLS: libpq reads these itself (dbt-postgres passes only sslmode from the profile)
    for key in _TLS_KEYS:
        if key in info:
            env[f"PG{key.upper()}"] = str(info[key])
    return env


_TLS_KEYS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl")


@contextlib.contextmanager
def dbt_environment(env: dict[str, str]) -> Iterator[None]:
    """The profile's variables set for one dbt invocation, and put back as they were after it: the
    password (and TLS files) of one component's DSN never reach another's connections in the same
    process (libpq prefers PGPASSWORD to .pgpass)."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_vars(settings: Settings) -> str:
    return json.dumps(
        {
            "tenant": settings.tenant,
            "lookback_minutes": settings.lookback_minutes,
            "reporting_time_zone": settings.reporting_time_zone,
            "week_start": settings.week_start,
            "service_level_seconds": settings.service_level_seconds,
            "short_abandon_seconds": settings.short_abandon_seconds,
            "field_max_chars": settings.field_max_chars,
        }
    )


def check_project() -> None:
    if not (PROJECT_DIR / "dbt_project.yml").exists():
        raise TransformError(
            f"the dbt project was not found at {PROJECT_DIR}; install the Info Mart from a clone "
            "with `pip install -e .` so the models are beside the code"
        )


NodeCallback = Callable[[str, str], None]  # node name, status


def run_dbt(
    settings: Settings,
    dsn: str,
    args: list[str],
    on_node: NodeCallback | None = None,
    quiet: bool = True,
    manifest: object | None = None,
    artifact: Path | None = None,
    metered: bool = True,
    docs_unchanged: bool = False,
    audit_key: int | None = None,
) -> TransformResult:
    """Run one dbt command (e.g. ["build"], ["run", "--full-refresh"]) in-process.

    With ``quiet`` dbt's own log is silenced and ``on_node`` is told of every finished node. A
    ``manifest`` parsed earlier (:func:`parsed_manifest`) saves dbt from parsing the project again.
    With ``artifact`` the command's result artifact (e.g. ``sources.json``) is written there, and
    dbt writes no artifacts of its own (no manifest.json: a cycle's largest fixed cost). Only a
    ``metered`` command counts in the transform metrics (duration, failures). With
    ``docs_unchanged`` (a cycle on an unchanged project) the models' comments are not written
    again (macros/persist_docs.sql). ``audit_key`` (CTL_AUDIT_LOG) reaches the sessions as the
    setting ``infomart.audit_key``, which the facts' audit columns read.
    """
    from dbt.cli.main import dbtRunner

    check_project()
    os.environ["DBT_INFOMART_DOCS_UNCHANGED"] = "1" if docs_unchanged else "0"
    full_args = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--vars",
        dbt_vars(settings),
        *(["--log-level", "none"] if quiet else []),
        *(["--no-write-json"] if artifact is not None else []),
    ]

    def callback(event) -> None:  # type: ignore[no-untyped-def]
        if on_node and event.info.name == "NodeFinished":
            on_node(event.data.node_info.node_name, event.data.run_result.status)

    started = time.monotonic()
    env = dbt_env(dsn, settings)
    landed_floor = None
    if audit_key is not None:
        env["PGOPTIONS"] = control.audit_pgoptions(audit_key, os.environ.get("PGOPTIONS"))
        # every row this build cannot see lands at or after this (macros/keys_and_time.sql landed_since)
        landed_floor = freshness.landed_floor(dsn)
    with dbt_environment(env):
        res = dbtRunner(manifest=manifest, callbacks=[callback]).invoke(full_args)  # type: ignore[arg-type]
    if metered:
        metrics.TRANSFORM_SECONDS.observe(time.monotonic() - started)
    nodes: list[NodeResult] = []
    seconds = 0.0
    if res.result is not None and hasattr(res.result, "results"):
        seconds = float(getattr(res.result, "elapsed_time", 0.0) or 0.0)
        for r in res.result.results:
            rows = (r.adapter_response or {}).get("rows_affected") if hasattr(r, "adapter_response") else None
            nodes.append(
                NodeResult(
                    name=r.node.name,
                    resource_type=str(r.node.resource_type),
                    status=str(r.status),
                    seconds=float(r.execution_time or 0.0),
                    rows=rows,
                    message=r.message,
                )
            )
    if artifact is not None and hasattr(res.result, "write"):
        res.result.write(str(artifact))  # type: ignore[union-attr]
    result = TransformResult(success=bool(res.success), seconds=seconds, nodes=nodes)
    if audit_key is not None:  # a failed build's successful models count too: they committed
        built = [n.name for n in nodes if n.resource_type == "model" and n.status == "success"]
        control.record_model_builds(dsn, audit_key, built, landed_floor)
    if not result.success:
        if metered:
            metrics.TRANSFORM_FAILURES.inc()
        failed = result.failures()
        detail = "; ".join(f"{n.name}: {n.message}" for n in failed[:10]) or str(res.exception)
        raise TransformError(f"dbt {' '.join(args)} failed: {detail}")
    return result


_MANIFESTS: dict[str, object] = {}  # (project fingerprint, dbt environment) -> parsed manifest


def parsed_manifest(settings: Settings, dsn: str, fingerprint: str) -> object | None:
    """The project parsed once per process, fingerprint and database: cycles do not parse it again."""
    from dbt.cli.main import dbtRunner

    key = json.dumps([fingerprint, dbt_env(dsn, settings)], sort_keys=True)
    if key not in _MANIFESTS:
        project = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
        with dbt_environment(dbt_env(dsn, settings)):
            res = dbtRunner().invoke(["parse", *project, "--vars", dbt_vars(settings), "--log-level", "none"])
        if not res.success or res.result is None:
            return None  # the commands will parse (and report the problem) themselves
        _MANIFESTS.clear()  # keep one: a long-running process serves one database
        _MANIFESTS[key] = res.result
    return _MANIFESTS[key]


def _freshness(
    settings: Settings, dsn: str, output: Path, manifest: object | None
) -> tuple[dict[str, freshness.SourceFreshness], bool]:
    """Run ``dbt source freshness`` into `output`; (results, whether every source was measured)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    try:
        # no relation cache: freshness reads the raw tables and creates nothing
        run_dbt(
            settings,
            dsn,
            ["source", "freshness", "--no-populate-cache"],
            manifest=manifest,
            artifact=output,
            metered=False,
        )
        complete = True
    except TransformError:  # e.g. no raw tables yet; the sources measured are still in the artifact
        complete = False
    sources = freshness.read_sources(output)
    for name, source in sources.items():
        if source.max_loaded_at is not None:
            metrics.SOURCE_MAX_LOADED_AT.labels(name).set(source.max_loaded_at.timestamp())
        if source.age_seconds is not None:
            metrics.SOURCE_AGE.labels(name).set(source.age_seconds)
    return sources, complete


def vacuum_analyze(dsn: str) -> float:
    """VACUUM (ANALYZE) the database; the seconds it took.

    A full refresh rewrites every table; left alone, autovacuum then vacuums and analyses them all
    over the next minutes, beside the first cycles (measured: 4.4-5.0 s instead of 2.8-3.7 s per
    10,000-event cycle at 1M events). Doing it at once costs about 4 s at 1M events and leaves
    fresh statistics and visibility maps for the cycles. Tables the role does not own are skipped
    by PostgreSQL with a warning."""
    started = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("vacuum (analyze)")
    return time.monotonic() - started


def publish_discards(dsn: str) -> dict[tuple[str, str], int]:
    """The discarded raw events (macros/events.sql save_discards) per raw table and reason, also set
    as the infomart_transform_discards gauge; empty before the first staging build."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("select to_regclass('staging.transform_discards')").fetchone() == (None,):
            return {}
        rows = conn.execute(
            "select source_table, discard_reason, count(*) from staging.transform_discards group by 1, 2"
        ).fetchall()
    counts = {(table, reason): int(n) for table, reason, n in rows}
    metrics.TRANSFORM_DISCARDS.clear()
    for (table, reason), n in counts.items():
        metrics.TRANSFORM_DISCARDS.labels(table, reason).set(n)
    return counts


def transform(
    settings: Settings,
    dsn: str,
    full_refresh: bool = False,
    tests: bool = True,
    on_node: NodeCallback | None = None,
    quiet: bool = True,
    only_changed: bool = False,
    select: list[str] | None = None,
) -> TransformResult:
    """Build the models (see :func:`_build`; ``select``: only these dbt selectors, with what they
    need first, e.g. ``["+ag2_agent_subhr"]``) under a new audit key (CTL_AUDIT_LOG, closed with the
    build's outcome and the event-time range of the rows it staged; dropped again when there was
    nothing to build); a full refresh ends with :func:`vacuum_analyze`."""
    with control.job(dsn, "transform") as run:
        audit_key = control.open_audit(dsn, run)
        try:
            result = _build(
                settings, dsn, full_refresh, tests, on_node, quiet, only_changed, audit_key, select
            )
        except BaseException:
            control.close_audit(dsn, audit_key, False, control.staged_range(dsn, audit_key))
            raise
        if result.nodes:
            data_range = control.staged_range(dsn, audit_key)
            control.close_audit(dsn, audit_key, True, data_range)
            result.audit_key = audit_key
            result.discards = publish_discards(dsn)
            publish_fact_metrics(dsn, data_range[1])
        else:
            control.drop_audit(dsn, run)
        run.row_count = sum(n.rows or 0 for n in result.nodes if n.resource_type == "model")
    if full_refresh:
        result.vacuum_seconds = vacuum_analyze(dsn)
    return result


_newest_fact_event = 0.0


def publish_fact_metrics(dsn: str, newest_staged: datetime | None) -> None:
    """After a successful build: the newest event time in the facts (every staged event is in them
    now) and the agents in events that configuration does not have (like GSP's unknown persons)."""
    global _newest_fact_event
    if newest_staged is not None and newest_staged.timestamp() > _newest_fact_event:
        # the range is of the events staged by this build: a late one must not move it back
        _newest_fact_event = newest_staged.timestamp()
        metrics.FACTS_NEWEST_EVENT_TS.set(_newest_fact_event)
    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("select to_regclass('infomart.resource_')").fetchone() == (None,):
            return
        row = conn.execute(
            "select count(*) from infomart.resource_"
            " where resource_type = 'Agent' and resource_cfg_dbid is null"
        ).fetchone()
    metrics.UNKNOWN_AGENTS.set(row[0] if row else 0)


def _build(
    settings: Settings,
    dsn: str,
    full_refresh: bool,
    tests: bool,
    on_node: NodeCallback | None,
    quiet: bool,
    only_changed: bool,
    audit_key: int | None = None,
    select: list[str] | None = None,
) -> TransformResult:
    """Build the models (and run their data tests and YAML unit tests unless ``tests`` is False).

    With ``only_changed`` (a cycle) ``dbt source freshness`` runs first, and only the models
    downstream of sources with new rows are built, nothing when there are none; with no saved
    state yet, a changed project or ``full_refresh`` everything is built. Either way a build that
    succeeded saves the freshness results as the state the next cycle compares with.
    """
    # build runs seeds, snapshots and models in dependency order, the unit tests of a model before
    # it and its data tests after it; without tests it skips the two kinds of tests
    args = ["build"] if tests else ["build", "--exclude-resource-type", "test", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        if only_changed:
            raise ValueError("transform: a selection and only_changed do not go together")
        args += ["--select", *select]
    if not only_changed:
        return run_dbt(settings, dsn, args, on_node=on_node, quiet=quiet, audit_key=audit_key)

    check_project()
    home = settings.home
    current = home / "dbt" / "cycle" / "sources.json"
    previous = freshness.state_dir(home) / "sources.json"
    fingerprint = freshness.project_fingerprint(PROJECT_DIR, dbt_vars(settings))

    manifest = parsed_manifest(settings, dsn, fingerprint)
    started = time.monotonic()
    clock_before, open_before = freshness.open_write_transactions(dsn)
    sources, complete = _freshness(settings, dsn, current, manifest)
    _, open_after = freshness.open_write_transactions(dsn)
    freshness_seconds = time.monotonic() - started
    # rows an open transaction commits later carry its start as landed_at: keep them fresher next time
    not_after = min(t for t in (clock_before, open_before, open_after) if t is not None)

    built: list[str] | None = None  # None: everything
    if not full_refresh and complete and freshness.saved_fingerprint(home) == fingerprint:
        built = freshness.fresher_sources(current, previous)
    for name in sources:
        metrics.SOURCE_FRESHER.labels(name).set(1 if built is None or name in built else 0)
    aggregates = cadence.load(home)
    now = time.time()
    aggregates_due = built is None or aggregates.due(settings.aggregates_every_seconds, now)
    if built == [] and not (aggregates.pending and aggregates_due):
        # no source has new rows (and no aggregate build is owed): no dbt build at all
        freshness.save_state(home, current, fingerprint, not_after)
        return TransformResult(True, 0.0, [], sources, [], freshness_seconds)

    if built is not None:
        # views are not rebuilt: the project is unchanged (same fingerprint), so the views the
        # last build created still say the same; their data tests still run. A cycle writes no
        # artifacts (nothing reads them; manifest.json alone took a second) and caches only the
        # schemas it builds in.
        models: list[str] = []
        if manifest is not None and not tests:
            # the set the selectors below give, as one tag (pipeline/selection.py: 0.8 s less); with
            # tests the selectors stay, for the data tests of the views downstream
            models = (
                selection.downstream_models(manifest, built, aggregates_due, cadence.AGGREGATES_PATH)
                if built
                else selection.models_under(manifest, cadence.AGGREGATES_PATH)
            )
        if models:
            args += ["--select", selection.tag_cycle(manifest, models)]
        else:
            selected = [f"source:events.{name}+" for name in built] if built else [cadence.AGGREGATES]
            excluded = ["resource_type:model,config.materialized:view"]
            if not aggregates_due:
                excluded.append(cadence.AGGREGATES)
            args += ["--select", *selected, "--exclude", *excluded]
        args += ["--no-write-json", "--cache-selected-only"]
    # raises if the build failed. A build that compiles the models reading ephemeral ones (the
    # aggregates) gets a copy: compiling marks the ephemeral models as injected, and a second build
    # on the same object then omits their CTEs ('relation "__dbt__cte__..." does not exist').
    # Source freshness and the fact-only cycles compile none of them, and skip the copy (0.7 s).
    build_manifest = manifest
    if manifest is not None and aggregates_due:
        build_manifest = manifest.deepcopy()  # type: ignore[attr-defined]
    result = run_dbt(
        settings,
        dsn,
        args,
        on_node=on_node,
        quiet=quiet,
        manifest=build_manifest,
        docs_unchanged=built is not None,
        audit_key=audit_key,
    )
    if aggregates_due:
        cadence.save(home, cadence.AggregateState(last_built=now, pending=False))
    elif not aggregates.pending:
        cadence.save(home, cadence.AggregateState(last_built=aggregates.last_built, pending=True))
    result.aggregates_deferred = not aggregates_due
    freshness.save_state(home, current, fingerprint, not_after)
    result.sources, result.built_sources, result.freshness_seconds = sources, built, freshness_seconds
    return result
