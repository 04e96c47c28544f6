"""Drive dbt from Python (dbtRunner) against the configured or embedded PostgreSQL.

The checked-in ``profiles.yml`` reads the standard libpq variables (PGHOST, PGPORT, ...);
here they are set from the DSN, so the same project also runs with a plain ``dbt build``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from infomart import metrics
from infomart.settings import Settings

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
    if "sslmode" in info:
        env["PGSSLMODE"] = str(info["sslmode"])
    return env


def dbt_vars(settings: Settings) -> str:
    return json.dumps(
        {
            "tenant": settings.tenant,
            "lookback_minutes": settings.lookback_minutes,
            "reporting_time_zone": settings.reporting_time_zone,
            "week_start": settings.week_start,
            "service_level_seconds": settings.service_level_seconds,
            "short_abandon_seconds": settings.short_abandon_seconds,
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
    settings: Settings, dsn: str, args: list[str], on_node: NodeCallback | None = None, quiet: bool = True
) -> TransformResult:
    """Run one dbt command (e.g. ["build"], ["run", "--full-refresh"]) in-process.

    With ``quiet`` dbt's own log is silenced and ``on_node`` is told of every finished node.
    """
    from dbt.cli.main import dbtRunner

    check_project()
    os.environ.update(dbt_env(dsn, settings))
    full_args = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--vars",
        dbt_vars(settings),
        *(["--log-level", "none"] if quiet else []),
    ]

    def callback(event) -> None:  # type: ignore[no-untyped-def]
        if on_node and event.info.name == "NodeFinished":
            on_node(event.data.node_info.node_name, event.data.run_result.status)

    with metrics.TRANSFORM_SECONDS.time():
        res = dbtRunner(callbacks=[callback]).invoke(full_args)
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
    result = TransformResult(success=bool(res.success), seconds=seconds, nodes=nodes)
    if not result.success:
        metrics.TRANSFORM_FAILURES.inc()
        failed = result.failures()
        detail = "; ".join(f"{n.name}: {n.message}" for n in failed[:10]) or str(res.exception)
        raise TransformError(f"dbt {' '.join(args)} failed: {detail}")
    return result


def transform(
    settings: Settings,
    dsn: str,
    full_refresh: bool = False,
    tests: bool = True,
    on_node: NodeCallback | None = None,
    quiet: bool = True,
) -> TransformResult:
    """Build the models (and run their data tests unless ``tests`` is False)."""
    # build runs seeds, snapshots and models in dependency order; without tests it skips only tests
    args = ["build"] if tests else ["build", "--exclude-resource-type", "test", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    return run_dbt(settings, dsn, args, on_node=on_node, quiet=quiet)
