"""SQL passes sqlfluff (dbt templater, postgres dialect); Python passes ruff."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from infomart.settings import Settings
from infomart.transform import PROJECT_DIR, dbt_env
from ingest.landing import ensure_raw_schema

BIN = Path(sys.executable).parent


def test_python_passes_ruff():
    for args in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run([str(BIN / "ruff"), *args], cwd=PROJECT_DIR, capture_output=True, text=True)
        assert done.returncode == 0, f"ruff {' '.join(args)}:\n{done.stdout}{done.stderr}"


def test_sql_passes_sqlfluff(settings: Settings):
    # the dbt templater compiles the project, which needs a database to talk to
    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:  # type: ignore[arg-type]
        ensure_raw_schema(conn)
    env = {**os.environ, **dbt_env(settings.pg_dsn, settings)}  # type: ignore[arg-type]
    done = subprocess.run(
        [str(BIN / "sqlfluff"), "lint", "models", "macros", "snapshots", "analyses", "tests/dbt"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert "FAIL" not in done.stdout
