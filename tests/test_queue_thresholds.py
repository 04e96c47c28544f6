"""Per-queue thresholds from the Configuration Database, end to end: VQ_A's thresholds (30 s
service level, 8 s short abandon) are written into the Configuration Database, published by the
config adapter and landed from gca-cfg; VQ_B has none (the settings: 20 s / 10 s). Calls land from
archives, dbt builds the aggregates. Then VQ_A's thresholds are changed to 15 s / 5 s at 14:00 in
the Configuration Database (the writer, with that change time), published, landed: the next
incremental build re-aggregates VQ_A's intervals from 14:00 on with the new thresholds, the
earlier ones keep the old ones, and the rows equal a full refresh. Every value is worked out by
hand below. Then a simulated day with the simulator's per-queue thresholds (one changed at 14:00),
configured through the same path: every voice row of ag2_queue_subhr equals the interval ledger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from infomart.settings import Settings
from simulator import SimulationConfig, simulate, write_ndjson
from tests.conftest import EventFactory
from tests.helpers import (
    build_models,
    configure_through_adapter,
    drop_all_schemas,
    land_events,
    land_folder,
    module_database,
    with_topics_of_its_own,
)
from tests.ledger_compare import aggregate_rows as _table_rows

SELECT = ["--select", "+path:models/aggregates", "+resource_", "+group_", "date_time"]
DAY = "2026-11-23"
VQ_A, VQ_B = 401, 402


@pytest.fixture(scope="module")
def module_settings(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("thresholds-home")
    yield from module_database(pg_server, home, "t_thr", lookback_minutes=0)


@pytest.fixture
def settings(module_settings: Settings, kafka_bootstrap: str) -> Settings:
    return with_topics_of_its_own(drop_all_schemas(module_settings), kafka_bootstrap)


@dataclass(frozen=True)
class QueueChange:
    """A Queue object after a change, at its change time (an ObjectChange of the writer)."""

    dbid: int
    changed_at: datetime
    attributes: dict[str, Any]
    object_type: str = "Queue"


def _t(hhmmss: str) -> str:
    return f"{DAY}T{hhmmss}Z" if "." in hhmmss else f"{DAY}T{hhmmss}.000Z"


def _at(hhmmss: str) -> datetime:
    return datetime.fromisoformat(_t(hhmmss).replace("Z", "+00:00"))


def _key(hhmmss: str) -> int:
    """DATE_TIME_KEY: UTC epoch seconds of the interval start."""
    return int(_at(hhmmss).timestamp())


def _queue(name: str, **thresholds: float) -> dict[str, Any]:
    return {"name": name, "media_type": "voice", "type": "VirtualQueue", "switch": "SIP_Switch", **thresholds}


class Calls:
    """Inbound voice calls of the contract through one queue."""

    def __init__(self) -> None:
        self.ev = EventFactory()

    def _entered(self, call_id: str, queue: str, at: str) -> list[dict]:
        """Created and queued at ``at`` (contract ts text)."""
        ev, q = self.ev, f"{call_id}-q"
        return [
            ev.make(
                "CallCreated",
                at,
                call_id=call_id,
                thread_id=f"t-{call_id}",
                call_type="Inbound",
                ani="+15550002",
                dnis="+18005550100",
                user_data={},
            ),
            ev.make(
                "PartyAdded",
                at,
                call_id=call_id,
                party_id=f"{call_id}-c",
                dn="+15550002",
                dn_type="External",
                agent_id=None,
                reason="New",
                initiator_party_id=None,
            ),
            ev.make(
                "PartyAdded",
                at,
                call_id=call_id,
                party_id=q,
                dn=queue,
                dn_type="Queue",
                agent_id=None,
                reason="Route",
                initiator_party_id=None,
            ),
            ev.make("Queued", at, call_id=call_id, party_id=q, queue=queue),
        ]

    def abandon(self, call_id: str, queue: str, at: str, until: str) -> list[dict]:
        ev = self.ev
        return [
            *self._entered(call_id, queue, at),
            ev.make("Released", until, call_id=call_id, party_id=f"{call_id}-c", cause="Normal"),
            ev.make("Released", until, call_id=call_id, party_id=f"{call_id}-q", cause="Abandoned"),
            ev.make("CallEnded", until, call_id=call_id),
        ]

    def answered(self, call_id: str, queue: str, at: str, diverted: str, established: str) -> list[dict]:
        """Entered at ``at``, diverted to agent_x (ringing), answered, released 60 s later (hh:mm:ss)."""
        ev, q, a, c = self.ev, f"{call_id}-q", f"{call_id}-ag", f"{call_id}-c"
        end_ts = (_at(established) + timedelta(seconds=60)).strftime("%H:%M:%S")
        return [
            *self._entered(call_id, queue, _t(at)),
            ev.make("Diverted", _t(diverted), call_id=call_id, party_id=q, target_party_id=a),
            ev.make(
                "PartyAdded",
                _t(diverted),
                call_id=call_id,
                party_id=a,
                dn="70001",
                dn_type="Extension",
                agent_id="agent_x",
                reason="Route",
                initiator_party_id=q,
            ),
            ev.make("Released", _t(diverted), call_id=call_id, party_id=q, cause="Normal"),
            ev.make("Ringing", _t(diverted), call_id=call_id, party_id=a),
            ev.make("Established", _t(established), call_id=call_id, party_id=a),
            ev.make("Released", _t(end_ts), call_id=call_id, party_id=c, cause="Normal"),
            ev.make("Released", _t(end_ts), call_id=call_id, party_id=a, cause="Normal"),
            ev.make("CallEnded", _t(end_ts), call_id=call_id),
        ]


def _calls() -> list[dict]:
    calls = Calls()
    return [
        # VQ_A before 14:00 (30 s / 8 s)
        *calls.answered("a1", "VQ_A", "13:00:00", "13:00:20", "13:00:25"),  # 20 s + 5 s ring = 25 s
        *calls.abandon("a2", "VQ_A", _t("13:05:00"), _t("13:05:09")),  # 9 s
        *calls.abandon("a3", "VQ_A", _t("13:20:00"), _t("13:20:06")),  # 6 s
        *calls.abandon("a7", "VQ_A", _t("13:59:59.999"), _t("14:00:05.999")),  # entered before 14:00, 6 s
        # VQ_A from 14:00 on (15 s / 5 s once the change is configured)
        *calls.answered("a4", "VQ_A", "14:00:00", "14:00:12", "14:00:16"),  # 16 s
        *calls.abandon("a5", "VQ_A", _t("14:20:00"), _t("14:20:06")),  # 6 s
        *calls.answered("a6", "VQ_A", "14:35:00", "14:35:10", "14:35:14"),  # 14 s
        # VQ_B: no thresholds in configuration, the settings' 20 s / 10 s
        *calls.answered("b1", "VQ_B", "13:00:00", "13:00:15", "13:00:20"),  # 20 s: at the threshold
        *calls.abandon("b2", "VQ_B", _t("14:10:00"), _t("14:10:10")),  # 10 s: at the threshold
        *calls.answered("b3", "VQ_B", "14:40:00", "14:40:18", "14:40:21"),  # 21 s
    ]


def _queue_rows(dsn: str, queue: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "select q.date_time_key, q.service_level_threshold::float, q.short_abandon_threshold::float,"
            " q.entered, q.accepted, q.accepted_thr, q.abandoned, q.abandoned_short, q.service_level"
            " from infomart.ag2_queue_subhr q join infomart.resource_ r using (resource_key)"
            " where r.resource_name = %s order by 1, 2",
            (queue,),
        ).fetchall()


def _day_rows(dsn: str, queue: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "select q.service_level_threshold::float, q.short_abandon_threshold::float, q.entered,"
            " q.accepted, q.accepted_thr, q.abandoned, q.abandoned_short"
            " from infomart.ag2_queue_day q join infomart.resource_ r using (resource_key)"
            " where r.resource_name = %s order by 1",
            (queue,),
        ).fetchall()


def _all_queue_rows(dsn: str) -> dict[str, list[str]]:
    with psycopg.connect(dsn) as conn:
        return {
            table: [r[0] for r in conn.execute(f"select to_jsonb(t)::text from {table} t order by 1")]
            for table in (
                "infomart.ag2_queue_subhr",
                "infomart.ag2_queue_hour",
                "infomart.ag2_queue_day",
                "intermediate.int_config__queue_thresholds",
            )
        }


# VQ_B (the settings' 20 s / 10 s) in both phases
VQ_B_ROWS = [
    (_key("13:00:00"), 20.0, 10.0, 1, 1, 1, 0, 0, 1.0),  # b1: 20 s <= 20 s
    (_key("14:00:00"), 20.0, 10.0, 1, 0, 0, 1, 1, None),  # b2: 10 s <= 10 s is short; SL 0 / (1 - 1)
    (_key("14:30:00"), 20.0, 10.0, 1, 1, 0, 0, 0, 0.0),  # b3: 21 s > 20 s
]
# VQ_A before 14:00, both phases (30 s / 8 s)
VQ_A_BEFORE = [
    # a1 25 s <= 30 s; a2 9 s > 8 s is not short: SL 1 / (1 + 1 - 0)
    (_key("13:00:00"), 30.0, 8.0, 2, 1, 1, 1, 0, 0.5),
    (_key("13:15:00"), 30.0, 8.0, 1, 0, 0, 1, 1, None),  # a3: 6 s <= 8 s
    (_key("13:45:00"), 30.0, 8.0, 1, 0, 0, 1, 1, None),  # a7: entered 13:59:59.999, old thresholds
]


def test_a_threshold_changed_at_14_00_in_the_configuration_database(
    settings: Settings, cfg_dsn: str, tmp_path: Path
) -> None:
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    midnight = _at("00:00:00")
    land_events(settings, tmp_path / "calls", {"voice-callthread": _calls()})
    fed = configure_through_adapter(
        settings,
        cfg_dsn,
        [
            QueueChange(
                VQ_A, midnight, _queue("VQ_A", service_level_threshold=30, short_abandon_threshold=8)
            ),
            QueueChange(VQ_B, midnight, _queue("VQ_B")),
        ],
    )
    assert (fed.upserts, fed.deletes) == (2, 0)
    with psycopg.connect(cfg_dsn) as conn:
        assert conn.execute(
            "select number, service_level_threshold, short_abandon_threshold from cfg.cfg_dn order by dbid"
        ).fetchall() == [("VQ_A", 30, 8), ("VQ_B", None, None)]
    build_models(settings, SELECT, tests=False)  # the data tests run on the incremental build below

    # 1. VQ_A at 30 s / 8 s all day
    assert _queue_rows(dsn, "VQ_A") == [
        *VQ_A_BEFORE,
        (_key("14:00:00"), 30.0, 8.0, 1, 1, 1, 0, 0, 1.0),  # a4: 16 s <= 30 s
        (_key("14:15:00"), 30.0, 8.0, 1, 0, 0, 1, 1, None),  # a5: 6 s <= 8 s
        (_key("14:30:00"), 30.0, 8.0, 1, 1, 1, 0, 0, 1.0),  # a6: 14 s
    ]
    assert _queue_rows(dsn, "VQ_B") == VQ_B_ROWS

    # 2. at 14:00 VQ_A's thresholds become 15 s / 5 s in the Configuration Database
    fed = configure_through_adapter(
        settings,
        cfg_dsn,
        [
            QueueChange(
                VQ_A, _at("14:00:00"), _queue("VQ_A", service_level_threshold=15, short_abandon_threshold=5)
            )
        ],
    )
    assert (fed.upserts, fed.deletes) == (1, 0)
    with psycopg.connect(cfg_dsn) as conn:
        assert conn.execute(
            "select object_type, dbid, changed_at, op from cfg.change_log"
            " order by config_version desc limit 1"
        ).fetchone() == ("Queue", VQ_A, _at("14:00:00"), "U")
    build_models(settings, SELECT)
    with psycopg.connect(dsn) as conn:
        history = conn.execute(
            "select valid_from, valid_to, attributes -> 'service_level_threshold',"
            " attributes -> 'short_abandon_threshold' from intermediate.int_config__history"
            " where object_type = 'Queue' and dbid = %s order by config_version",
            (VQ_A,),
        ).fetchall()
    assert history == [(midnight, _at("14:00:00"), 30, 8), (_at("14:00:00"), None, 15, 5)]
    expected_a = [
        *VQ_A_BEFORE,  # entered before 14:00: the old thresholds
        (_key("14:00:00"), 15.0, 5.0, 1, 1, 0, 0, 0, 0.0),  # a4: entered at 14:00, 16 s > 15 s
        (_key("14:15:00"), 15.0, 5.0, 1, 0, 0, 1, 0, 0.0),  # a5: 6 s > 5 s is not short; SL 0 / 1
        (_key("14:30:00"), 15.0, 5.0, 1, 1, 1, 0, 0, 1.0),  # a6: 14 s <= 15 s
    ]
    assert _queue_rows(dsn, "VQ_A") == expected_a
    assert _queue_rows(dsn, "VQ_B") == VQ_B_ROWS  # no thresholds: the settings, unchanged
    # the day: one row per thresholds in force (a1 a2 a3 a7 | a4 a5 a6)
    assert _day_rows(dsn, "VQ_A") == [(15.0, 5.0, 3, 2, 1, 1, 0), (30.0, 8.0, 4, 1, 1, 3, 2)]
    assert _day_rows(dsn, "VQ_B") == [(20.0, 10.0, 3, 2, 1, 1, 1)]

    # the incremental cycle ends in the rows of a full refresh
    incremental = _all_queue_rows(dsn)
    build_models(settings, SELECT, tests=False, full_refresh=True)
    assert _all_queue_rows(dsn) == incremental
    assert _queue_rows(dsn, "VQ_A") == expected_a


def test_a_simulated_day_with_queue_thresholds_equals_the_ledger(
    settings: Settings, cfg_dsn: str, tmp_path: Path
) -> None:
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    # 08:00-16:00: VQ_Sales 30 s / 5 s, from 14:00 15 s / 8 s; the other voice queues the settings
    # (busy: 150 calls an hour for 10 agents, so short abandons happen before and after 14:00)
    result = simulate(SimulationConfig(seed=7, agents=10, calls_per_hour=150, queue_thresholds=True))
    write_ndjson(result, tmp_path / "day")
    land_folder(settings, tmp_path / "day")
    configure_through_adapter(settings, cfg_dsn, result.config_changes)
    build_models(settings, SELECT)
    ledger = [
        orjson.loads(x) for x in (tmp_path / "day/ledger/queue_intervals.ndjson").read_bytes().splitlines()
    ]
    want = {
        (
            w["date_time_key"],
            w["queue"],
            w["interaction_type"],
            float(w["service_level_threshold"]),
            float(w["short_abandon_threshold"]),
        ): w
        for w in ledger
        if w["media_type"] == "voice"
    }
    thresholds = ["service_level_threshold", "short_abandon_threshold"]
    rows = _table_rows(dsn, "ag2_queue_subhr", "queue", thresholds)
    got = {key[1:]: row for key, row in rows.items() if key[0] == "voice"}  # keys lead with the media
    assert sorted(got) == sorted(want)
    assert {(k[1], k[3], k[4]) for k in want} == {
        ("VQ_Sales", 30.0, 5.0),
        ("VQ_Sales", 15.0, 8.0),
        ("VQ_Support", 20.0, 10.0),
        ("VQ_Billing", 20.0, 10.0),
    }
    change = _key("14:00:00")
    assert all(
        (k[3], k[4]) == ((15.0, 8.0) if k[0] >= change else (30.0, 5.0)) for k in want if k[1] == "VQ_Sales"
    )
    cells = 0
    for key, w in want.items():
        row = got[key]
        for column in (
            "entered",
            "accepted",
            "accepted_thr",
            "abandoned",
            "abandoned_short",
            "accepted_time_ms",
        ):
            assert row[column] == w[column], f"{column} differs:\n ledger {w}\n table  {row}"
            cells += 1
        assert (row["service_level"] is None) == (w["service_level"] is None), (w, row)
        if w["service_level"] is not None:
            assert abs(row["service_level"] - w["service_level"]) < 1e-9, (w, row)
    print(f"\nag2_queue_subhr: {len(want)} voice rows, {cells} cells equal to the ledger")
    for thresholds in ((30.0, 5.0), (15.0, 8.0)):
        sales = [w for k, w in want.items() if k[1] == "VQ_Sales" and k[3:] == thresholds]
        assert sum(w["abandoned_short"] for w in sales) > 0 and sum(w["accepted_thr"] for w in sales) > 0
    assert len(want) > 50
