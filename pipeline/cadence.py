"""The aggregates' own cadence in the cycles of `infomart run`.

With ``aggregates_every_seconds`` 0 every cycle builds the aggregates with the facts. Above 0, a
cycle builds them only when that long has passed since they were last built; the cycles between
build the facts (and what else changed) and leave the aggregates *pending*. A pending aggregate
build runs at the next due cycle even when no source has new rows, so the aggregates catch up
without new events. Skipping is safe: every aggregate finds its touched intervals from the facts'
``last_landed_at`` against its own high-water mark (macros/aggregates/touched.sql), so one build
after several fact cycles gives the rows that building after each would.

The state (``<home>/dbt/state/aggregates.json``) is written only after a build succeeded.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.freshness import state_dir

#: the folder of the models a deferred cycle leaves out, and its dbt selector
AGGREGATES_PATH = "models/aggregates"
AGGREGATES = f"path:{AGGREGATES_PATH}"


@dataclass(frozen=True)
class AggregateState:
    last_built: float | None = None  # epoch seconds of the last build that included the aggregates
    pending: bool = False  # facts were built since, without the aggregates

    def due(self, every_seconds: int, now: float) -> bool:
        return every_seconds == 0 or self.last_built is None or now - self.last_built >= every_seconds


def _path(home: Path) -> Path:
    return state_dir(home) / "aggregates.json"


def load(home: Path) -> AggregateState:
    path = _path(home)
    if not path.exists():
        return AggregateState()
    data = json.loads(path.read_text(encoding="utf-8"))
    return AggregateState(data.get("last_built"), bool(data.get("pending")))


def save(home: Path, state: AggregateState) -> None:
    path = _path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state)), encoding="utf-8")
    os.replace(tmp, path)
