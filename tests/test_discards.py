"""Raw events that would stop a cycle (issue 11, item 2): the contract rejects them at ingest, but
rows that reach raw another way (landed under an older contract, written by hand) must not stop the
transformation. Staging leaves them out to staging.transform_discards (the dq_transform_discards
view) with the reason; the cycle completes, the marts are those of the usable events alone, and the
counts are the infomart_transform_discards gauge."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from infomart import metrics
from infomart.settings import Settings
from pipeline.transform import transform
from tests.fuzz import BaseEvents, mart_rows
from tests.helpers import land_events


def _first(base: BaseEvents, topic: str, event_type: str | None = None) -> dict:
    return next(
        dict(e) for t, e in base.events if t == topic and (event_type is None or e["type"] == event_type)
    )


def _hostile(base: BaseEvents) -> list[tuple[str, dict, str]]:
    """(raw table, payload, the reason staging must give): each breaks one cast, index or bound."""
    call = _first(base, "voice-callthread", "PartyAdded")
    state = _first(base, "voice-agentstate")
    envelope = {k: call[k] for k in ("tenant", "source", "seq", "ts", "v")}
    cfg = {**envelope, "type": "ConfigUpsert", "object_type": "Person", "dbid": 7, "config_version": 3}
    cfg["attributes"] = {"employee_id": "a7", "user_name": "a7"}

    def variant(event: dict, n: int, **changes: object) -> dict:
        out = {**event, "id": f"hostile-{n}", **changes}
        return {k: v for k, v in out.items() if v is not None}

    return [
        (
            "voice_callthread",
            variant(call, 1, ts="9999-12-31T23:59:59.999Z"),
            "ts outside 1970-01-01 to 2038-01-18",
        ),
        ("voice_callthread", variant(call, 2, ts="2026-13-45T99:00:00Z"), "ts is not a time"),
        ("voice_callthread", variant(call, 3, call_id=None), "missing field call_id"),
        ("voice_agentstate", variant(state, 4, seq=2**70), "field seq does not fit bigint"),
        ("voice_agentstate", variant(state, 5, id="x" * 300), "field id longer than 255 characters"),
        ("voice_agentstate", variant(state, 8, tenant="t2"), "not this tenant"),
        ("gca_cfg", variant(cfg, 6, dbid="seven"), "field dbid does not fit bigint"),
        ("gca_cfg", variant(cfg, 7, config_version=1.5), "field config_version does not fit bigint"),
    ]


def _write_raw(dsn: str, rows: list[tuple[str, dict, str]]) -> None:
    """Past the contract, straight into the raw tables (as an older ingester or a person would)."""
    with psycopg.connect(dsn) as conn:
        for table, payload, _ in rows:
            conn.execute(
                sql.SQL("insert into raw.{} (payload, archive_file) values (%s::jsonb, 'by-hand')").format(
                    sql.Identifier(table)
                ),
                (json.dumps(payload),),
            )


def _discards(dsn: str) -> list[tuple[str, str | None, str]]:
    with psycopg.connect(dsn) as conn:
        return sorted(
            conn.execute(
                "select source_table, left(event_id, 20), discard_reason from infomart.dq_transform_discards"
            ).fetchall()
        )


@pytest.fixture(scope="module")
def base() -> BaseEvents:
    return BaseEvents.simulated(seed=7, agents=3, hours=1)


def test_events_that_would_stop_a_cycle_are_discarded_with_their_reason(
    base: BaseEvents, pg_dsn: str, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", pg_dsn=pg_dsn, metrics_port=0, tenant="t1")
    by_topic: dict[str, list[dict]] = {}
    for topic, event in base.events:
        by_topic.setdefault(topic, []).append(event)
    land_events(settings, tmp_path / "events", by_topic)
    transform(settings, pg_dsn, full_refresh=True, tests=False)
    clean = mart_rows(pg_dsn)
    assert _discards(pg_dsn) == []

    hostile = _hostile(base)
    _write_raw(pg_dsn, hostile)
    expected = sorted((table, str(payload["id"])[:20], reason) for table, payload, reason in hostile)

    # an incremental cycle over them completes, discards each with its reason, changes no mart
    result = transform(settings, pg_dsn, tests=False, only_changed=True)
    assert result.success
    assert _discards(pg_dsn) == expected
    assert mart_rows(pg_dsn) == clean
    assert result.discards[("voice_callthread", "missing field call_id")] == 1
    assert sum(result.discards.values()) == len(hostile)
    sample = metrics.TRANSFORM_DISCARDS.labels("gca_cfg", "field dbid does not fit bigint")._value.get()
    assert sample == 1

    # the same window again (the look-back re-reads it) and a full refresh: still each once
    wide = settings.model_copy(update={"lookback_minutes": 600})
    transform(wide, pg_dsn, tests=False, select=["path:models/staging"])  # the discards are staging's
    assert _discards(pg_dsn) == expected
    transform(settings, pg_dsn, full_refresh=True, tests=False)
    assert _discards(pg_dsn) == expected
    after_full = mart_rows(pg_dsn)
    after_full.pop("date_time", None)
    clean.pop("date_time", None)
    assert after_full == clean
