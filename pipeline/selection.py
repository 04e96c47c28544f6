"""The models a cycle builds: everything downstream of the sources with new rows, as one tag.

dbt's own selector (``source:events.<table>+``, minus the views and, off their cadence, the
aggregates) walks the whole graph, tests included, once per source, and ``dbt build`` selects
three times: about 0.8 s of every cycle on this project; plain model names cost the same (each
name is matched against every node). The same set is computed once per (project, fresher
sources, aggregates due) from the parsed manifest's child map, and the cycle's models carry the
tag :data:`CYCLE_TAG` in the manifest the process keeps (:func:`tag_cycle`): ``--select
tag:infomart_cycle`` is matched in milliseconds. tests/test_cycle_changes.py checks the set
against what ``dbt ls --select source:events.<table>+ --exclude ...`` lists.
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ["CYCLE_TAG", "SOURCE_PACKAGE", "downstream_models", "models_under", "tag_cycle"]

#: the dbt source name of the raw tables (models/staging/events/_events__sources.yml)
SOURCE_PACKAGE = "events"
_BUILT = {"model", "seed", "snapshot"}
#: the tag of the models the current cycle builds (only in the process's parsed manifest)
CYCLE_TAG = "infomart_cycle"


def downstream_models(
    manifest: Any, sources: list[str], with_aggregates: bool, aggregates_path: str
) -> list[str]:
    """Names of the tables/incremental models downstream of ``sources`` (source table names).

    Views are left out (an unchanged project's views still say the same), and so are the models
    under ``aggregates_path`` unless ``with_aggregates``. Sorted; empty when nothing is downstream.
    """
    key = (id(manifest), tuple(sorted(sources)), with_aggregates, aggregates_path)
    if key not in _CACHE:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = _downstream(manifest, set(sources), with_aggregates, aggregates_path)
    return list(_CACHE[key])


_CACHE: dict[tuple[int, tuple[str, ...], bool, str], tuple[str, ...]] = {}


def _downstream(
    manifest: Any, sources: set[str], with_aggregates: bool, aggregates_path: str
) -> tuple[str, ...]:
    children: dict[str, list[str]] = manifest.child_map
    starts = [
        uid
        for uid, source in manifest.sources.items()
        if source.source_name == SOURCE_PACKAGE and source.name in sources
    ]
    seen: set[str] = set()
    queue = deque(starts)
    while queue:
        for child in children.get(queue.popleft(), []):
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return tuple(
        sorted(
            node.name
            for node in _built(manifest, seen)
            if with_aggregates or not node.original_file_path.startswith(aggregates_path)
        )
    )


def models_under(manifest: Any, path: str) -> list[str]:
    """Names of the tables/incremental models under ``path`` (what ``path:<path>`` selects, views aside)."""
    return sorted(
        node.name for node in _built(manifest, manifest.nodes) if node.original_file_path.startswith(path)
    )


def _built(manifest: Any, unique_ids: Any) -> list[Any]:
    """The nodes among ``unique_ids`` that a build materializes as tables (no views, no ephemerals)."""
    nodes = (manifest.nodes.get(uid) for uid in unique_ids)
    return [
        node
        for node in nodes
        if node is not None
        and str(node.resource_type) in _BUILT
        and node.config.materialized not in {"view", "ephemeral"}
    ]


def tag_cycle(manifest: Any, names: list[str]) -> str:
    """Tag exactly the nodes named ``names`` with :data:`CYCLE_TAG`; returns their selector."""
    wanted = set(names)
    for node in manifest.nodes.values():
        tags = getattr(node, "tags", None)
        if tags is None:
            continue
        if node.name in wanted and str(node.resource_type) in _BUILT:
            if CYCLE_TAG not in tags:
                tags.append(CYCLE_TAG)
        elif CYCLE_TAG in tags:
            tags.remove(CYCLE_TAG)
    return f"tag:{CYCLE_TAG}"
