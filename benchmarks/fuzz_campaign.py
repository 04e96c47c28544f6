"""The long fuzz campaign (on demand, not a test): ``python benchmarks/fuzz_campaign.py --batches 10
--events 1000`` draws hostile batches with the strategies of tests/fuzz.py (Hypothesis) and checks
each with the properties of tests/test_fuzz.py (the cycle completes; every line landed or
rejected with a reason, every landed id staged once; the marts equal those of the valid subset
alone). Prints per batch the lines, landed, rejected and mart rows, then the reject reasons over
the campaign. An embedded PostgreSQL in a temporary folder; stops at the first failing batch and
prints Hypothesis's reproduction seed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from infomart import embedded  # noqa: E402
from tests.fuzz import BaseEvents, batches  # noqa: E402
from tests.test_fuzz import check_batch  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--events", type=int, default=1000, help="simulated events per batch (before mutation)")
    p.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: random)")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="imtfuzz-", dir="/tmp"))
    admin = embedded.start_embedded_postgres(tmp, "postgres")
    base = BaseEvents.simulated(seed=5, agents=8, hours=4)
    print(
        f"base: {len(base.events):,} simulated events; {args.batches} batches of {args.events:,}", flush=True
    )
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    started = time.monotonic()

    @settings(
        max_examples=args.batches,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(data=st.data())
    def campaign(data: st.DataObject) -> None:
        lines = data.draw(batches(base, args.events))
        n = totals["batches"] + 1
        home = tmp / f"batch-{n}"
        t0 = time.monotonic()
        seen = check_batch(lines, admin, home)
        totals.update({k: v for k, v in seen.items() if isinstance(v, int)})
        reasons.update(seen["reasons"])  # type: ignore[arg-type]
        totals["batches"] += 1
        print(
            f"batch {n}: {seen['lines']:,} lines, {seen['landed']:,} landed, {seen['rejected']:,} rejected,"
            f" {seen['mart_rows']:,} mart rows; properties hold ({time.monotonic() - t0:.0f} s)",
            flush=True,
        )

    try:
        if args.seed is not None:
            from hypothesis import seed

            seed(args.seed)(campaign)()
        else:
            campaign()
    finally:
        embedded.stop_embedded_postgres(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"campaign: {totals['batches']} batches, {totals['lines']:,} input lines,"
        f" {totals['landed']:,} landed, {totals['rejected']:,} rejected, 0 lost, 0 staged twice,"
        " marts equal the valid subsets'"
        f" ({time.monotonic() - started:.0f} s)",
        flush=True,
    )
    print("reject reasons: " + ", ".join(f"{r} {k:,}" for r, k in reasons.most_common()), flush=True)


if __name__ == "__main__":
    main()
