"""Property-based fuzz test of ingest and transform (issue 11): hostile batches (tests/fuzz.py)
through the archive ingester and a full transform.

Properties, for every batch:
1. the cycle completes (the transform does not fail, whatever the events);
2. every input line is accounted for: it landed in a raw table or in raw.rejects (with a reason),
   and every landed event id is in staging exactly once;
3. the marts of the batch equal the marts of its valid subset alone (what landed, re-landed into a
   fresh database): the rejected lines change nothing.

CI runs ``INFOMART_FUZZ_EXAMPLES`` batches (default 1) of ``INFOMART_FUZZ_EVENTS`` events (default
300), each batch mixing every mutation; benchmarks/fuzz_campaign.py runs the long campaign with the
same property (10,000 events and more) and prints what it saw.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from infomart.settings import Settings
from tests.fuzz import (
    BaseEvents,
    Line,
    accounted,
    batches,
    fresh_database,
    mart_rows,
    reject_reasons,
    run_batch,
    valid_subset,
)

EXAMPLES = int(os.environ.get("INFOMART_FUZZ_EXAMPLES", "1"))
EVENTS = int(os.environ.get("INFOMART_FUZZ_EVENTS", "300"))


def check_batch(lines: list[Line], admin_dsn: str, home: Path) -> dict[str, object]:
    """The three properties for one batch; returns what was seen (for the campaign's report)."""
    base_settings = Settings(home=home, metrics_port=0, kafka_bootstrap_servers="127.0.0.1:1")
    with fresh_database(admin_dsn) as hostile:
        run_batch(lines, hostile, home / "hostile", base_settings)  # 1. raises if the transform fails
        given_lines, raw, rejects, no_reason, stray = accounted(hostile, lines)
        assert raw + rejects == given_lines, (raw, rejects, given_lines)  # 2. nothing lost
        assert no_reason == 0
        assert stray == [], stray[:5]
        marts = mart_rows(hostile)
        valid = valid_subset(hostile)
        reasons = reject_reasons(hostile)
    with fresh_database(admin_dsn) as clean:
        run_batch(valid, clean, home / "clean", base_settings)
        clean_marts = mart_rows(clean)
    # 3. rejected lines change nothing. DATE_TIME is left out: its range ends days ahead of the
    # clock, so two builds a quarter hour apart differ (its bounds: tests/test_cycle_changes.py)
    marts.pop("date_time", None)
    clean_marts.pop("date_time", None)
    for table in sorted(set(marts) | set(clean_marts)):
        assert marts.get(table) == clean_marts.get(table), f"{table} differs from the valid subset's"
    return {
        "lines": given_lines,
        "landed": raw,
        "rejected": rejects,
        "mart_rows": sum(map(len, marts.values())),
        "reasons": reasons,
    }


@pytest.fixture(scope="module")
def base() -> BaseEvents:
    return BaseEvents.simulated(seed=5, agents=3, hours=1)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: one example costs two transforms
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data())
def test_hostile_batches_never_stop_a_cycle_and_lose_nothing(
    data: st.DataObject, base: BaseEvents, pg_server: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    lines = data.draw(batches(base, EVENTS), label="batch")
    kinds = Counter(topic for topic, _, _ in lines)
    assert len(kinds) >= 3  # the batch spans several topics
    seen = check_batch(lines, pg_server, tmp_path_factory.mktemp("fuzz"))
    assert seen["rejected"] and seen["landed"] and seen["mart_rows"]
    assert len(seen["reasons"]) >= 5, seen["reasons"]  # the batch was hostile in many ways
