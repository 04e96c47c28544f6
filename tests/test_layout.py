"""The Python packages import in one direction (README, "Code layout"):

    infomart (shared core) <- ingest <- pipeline <- export <- cli;  simulator: imports none of them,
    and only cli imports it; reporting (the report server) and quality (Great Expectations)
    read the database through the core only, pipeline may schedule quality, cli starts both.

Every module of the product packages is parsed with ``ast`` (imports inside functions and
``if TYPE_CHECKING:`` blocks count too), so a lazy import cannot hide a wrong direction.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: each package and the product packages it may import (besides itself)
ALLOWED: dict[str, frozenset[str]] = {
    "infomart": frozenset(),
    "ingest": frozenset({"infomart"}),
    "pipeline": frozenset({"infomart", "ingest", "quality"}),
    "reporting": frozenset({"infomart"}),
    "quality": frozenset({"infomart"}),
    "export": frozenset({"infomart", "pipeline"}),
    "cli": frozenset({"infomart", "ingest", "pipeline", "reporting", "quality", "simulator", "export"}),
    "simulator": frozenset(),
}
PACKAGES = frozenset(ALLOWED)


def imported_packages(source: str, module: str) -> set[str]:
    """The product packages a module's source imports (absolute and relative imports)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # a relative import stays inside the module's own package
            names = [module] if node.level else [node.module or ""]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & PACKAGES
    return found


def import_graph(root: Path = ROOT) -> dict[str, dict[str, set[str]]]:
    """Per package: the packages it imports, each with the modules (files) importing it."""
    graph: dict[str, dict[str, set[str]]] = {p: {} for p in PACKAGES}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            where = str(path.relative_to(root))
            for imported in imported_packages(path.read_text(), package) - {package}:
                graph[package].setdefault(imported, set()).add(where)
    return graph


def cycle_in(graph: dict[str, dict[str, set[str]]]) -> list[str] | None:
    """A cycle of package imports, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt] if nxt in path else [*path, nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def wrong_directions(graph: dict[str, dict[str, set[str]]]) -> list[str]:
    return sorted(
        f"{module} imports {imported}"
        for package, imports in graph.items()
        for imported, modules in imports.items()
        if imported not in ALLOWED[package]
        for module in modules
    )


def test_every_product_package_is_checked():
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert on_disk == PACKAGES


def test_no_package_is_empty():
    for package in PACKAGES:
        modules = [p for p in (ROOT / package).rglob("*.py") if p.name != "__init__.py"]
        assert modules, f"{package}/ has no module"


def test_imports_follow_the_layout():
    graph = import_graph()
    assert wrong_directions(graph) == []
    assert cycle_in(graph) is None
    # the directions exist, so the test above checks real imports
    assert set(graph["ingest"]) == {"infomart"}
    assert set(graph["pipeline"]) == {"infomart", "ingest", "quality"}
    assert set(graph["cli"]) == {
        "infomart",
        "ingest",
        "pipeline",
        "quality",
        "reporting",
        "simulator",
        "export",
    }
    assert set(graph["export"]) == {"infomart", "pipeline"}
    assert set(graph["quality"]) == {"infomart"}
    assert set(graph["reporting"]) <= {"infomart"}  # today it needs only psycopg and the web stack
    assert graph["simulator"] == {} and graph["infomart"] == {}


@pytest.mark.parametrize(
    ("package", "line", "expected"),
    [
        ("ingest", "from cli.main import app\n", "ingest/added.py imports cli"),
        ("infomart", "import ingest.landing\n", "infomart/added.py imports ingest"),
        ("simulator", "from infomart.settings import Settings\n", "simulator/added.py imports infomart"),
        ("pipeline", "def f():\n    from simulator import simulate\n", "pipeline/added.py imports simulator"),
    ],
)
def test_a_wrong_import_is_caught(tmp_path: Path, package: str, line: str, expected: str):
    """The checks fail on a copy of the tree with one import against the direction added."""
    for p in PACKAGES:
        for path in (ROOT / p).rglob("*.py"):
            copy = tmp_path / path.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(path.read_text())
    (tmp_path / package / "added.py").write_text(line)
    graph = import_graph(tmp_path)
    assert expected in wrong_directions(graph)


def test_a_cycle_is_found():
    graph = {"a": {"b": {"a/x.py"}}, "b": {"c": {"b/y.py"}}, "c": {"a": {"c/z.py"}}, "d": {}}
    assert cycle_in(graph) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b": {"a/x.py"}}, "b": {}}) is None
