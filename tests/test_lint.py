"""SQL passes sqlfluff (jinja templater with dbt's builtins, postgres dialect: no database
needed); Python passes ruff."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.transform import PROJECT_DIR

BIN = Path(sys.executable).parent
SQL_FOLDERS = ["models", "macros", "snapshots", "analyses", "tests/dbt"]


def test_python_passes_ruff():
    for args in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run([str(BIN / "ruff"), *args], cwd=PROJECT_DIR, capture_output=True, text=True)
        assert done.returncode == 0, f"ruff {' '.join(args)}:\n{done.stdout}{done.stderr}"


def test_sql_passes_sqlfluff():
    # .sqlfluff renders the models with the jinja templater (macros from macros/, dbt's
    # builtins), so the lint runs on a fresh checkout, without a database or a dbt parse
    done = subprocess.run(
        [str(BIN / "sqlfluff"), "lint", "--processes", "0", *SQL_FOLDERS],  # 0: every core
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert "FAIL" not in done.stdout
