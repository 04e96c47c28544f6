"""``python -m infomart.simulator --out DIR [--agents N --hours H --seed S ...]``: simulate and write
the archives and the ledger; prints the event counts and the generation speed (stderr)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from .config import SimulationConfig
from .simulation import simulate
from .writer import write_ndjson


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m infomart.simulator", description=__doc__)
    ap.add_argument("--out", help="output directory (archives + ledger); omit to only time the run")
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", help="UTC start, e.g. 2026-11-23T08:00")
    ap.add_argument("--calls-per-hour", type=float)
    ap.add_argument("--redundant", action="store_true")
    ap.add_argument("--shuffle", choices=("none", "window", "full"), default="none")
    ap.add_argument("--late-share", type=float, default=0.0)
    ap.add_argument(
        "--omit-routed-initiator",
        action="store_true",
        help="leave initiator_party_id null on routed parties; routing points then emit Diverted",
    )
    ap.add_argument("--anomalies", type=int, default=0)
    ap.add_argument("--config-changes", action="store_true")
    ap.add_argument("--gzip", action="store_true")
    a = ap.parse_args(argv)
    kw: dict[str, object] = {
        "agents": a.agents,
        "duration_hours": a.hours,
        "seed": a.seed,
        "calls_per_hour": a.calls_per_hour,
        "redundant_sources": a.redundant,
        "shuffle": a.shuffle,
        "late_share": a.late_share,
        "omit_routed_initiator": a.omit_routed_initiator,
        "anomalies": a.anomalies,
        "config_changes": a.config_changes,
    }
    if a.start:
        kw["start"] = datetime.fromisoformat(a.start).replace(tzinfo=UTC)
    t0 = time.perf_counter()
    result = simulate(SimulationConfig(**kw))  # type: ignore[arg-type]
    el = time.perf_counter() - t0
    n = result.summary["events"]
    print(f"{n:,} events in {el:.2f} s = {n / el:,.0f} events/s", file=sys.stderr)
    for topic, count in result.summary["events_per_topic"].items():
        print(f"{topic:20s} {count:>10,}")
    if a.out:
        write_ndjson(result, a.out, gzip=a.gzip)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
