"""dbt staging models: typed columns, one row per logical event, incremental == full refresh."""

from __future__ import annotations

from pathlib import Path

import orjson
import psycopg

from infomart.settings import Settings
from ingest.archive_ingester import ArchiveIngester, find_archives
from pipeline.transform import transform
from tests.conftest import EventFactory
from tests.helpers import build_models

STAGING = [
    "stg_events__voice_callthread",
    "stg_events__voice_agentstate",
    "stg_events__digital_itx",
    "stg_events__digital_agentstate",
    "stg_events__voice_outbound",
    "stg_events__gca_cfg",
]

SELECT_STAGING = ["--select", "path:models/staging"]  # the staging models, with their data tests


def _land(settings: Settings, folder: Path, by_topic: dict[str, list[dict]]) -> None:
    folder.mkdir(parents=True)
    for topic, evs in by_topic.items():
        (folder / f"{topic}.ndjson").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in evs))
    ing = ArchiveIngester(settings, settings.pg_dsn)  # type: ignore[arg-type]
    try:
        ing.ingest(find_archives([folder], settings))
    finally:
        ing.close()


def _staging_rows(dsn: str) -> dict[str, list[tuple]]:
    """Every staging row, all columns but the landing bookkeeping, in a stable order."""
    out = {}
    with psycopg.connect(dsn) as conn:
        for model in STAGING:
            cols = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'staging'"
                    " and table_name = %s and column_name <> 'landed_at' order by ordinal_position",
                    (model,),
                )
            ]
            assert cols, f"staging.{model} was not built"
            collist = ", ".join(f"{c}::text" for c in cols)
            out[model] = conn.execute(f"select {collist} from staging.{model} order by event_id").fetchall()
    return out


def _one_of_each(events: EventFactory, source: str = "sip-a") -> dict[str, list[dict]]:
    ts = "2026-11-23T10:00:00.123Z"
    return {
        "voice-callthread": [
            events.make(
                "CallCreated",
                ts,
                source,
                call_id="c-1",
                thread_id="t-1",
                call_type="Inbound",
                ani="+1555",
                dnis="+1800",
                user_data={"segment": "gold"},
            ),
            events.make(
                "PartyAdded",
                ts,
                source,
                call_id="c-1",
                party_id="p-1",
                dn="+1555",
                dn_type="External",
                agent_id=None,
                reason="New",
                initiator_party_id=None,
            ),
            events.make(
                "Released", "2026-11-23T10:01:00.000Z", source, call_id="c-1", party_id="p-1", cause="Normal"
            ),
        ],
        "voice-agentstate": [
            events.make("AgentLogin", ts, source, agent_id="a1", dn="1001", place="pl1", queues=["Q1", "Q2"]),
            events.make("AgentNotReady", ts, source, agent_id="a1", workmode="AuxWork", reason_code=None),
        ],
        "digital-itx": [
            events.make(
                "InteractionCreated",
                ts,
                "ixn-a",
                itx_id="i-1",
                media_type="chat",
                direction="Inbound",
                customer_id="cust-1",
                user_data={},
            ),
            events.make("Transferred", ts, "ixn-a", itx_id="i-1", agent_id="a1", to_queue="Chat_Q"),
            events.make("Completed", ts, "ixn-a", itx_id="i-1", reason="Resolved"),
        ],
        "digital-agentstate": [
            events.make("MediaLogin", ts, "ixn-a", agent_id="a1", media_type="chat", capacity=3),
        ],
        "voice-outbound": [
            events.make(
                "RecordDialed",
                ts,
                "ocs-a",
                campaign_id="camp1",
                record_id="r1",
                chain_id="ch1",
                attempt=2,
                contact="+1666",
                call_id="c-9",
            ),
            events.make(
                "DialResult", ts, "ocs-a", campaign_id="camp1", record_id="r1", call_id="c-9", result="Busy"
            ),
        ],
        "gca-cfg": [
            events.make(
                "ConfigUpsert",
                ts,
                "gca",
                object_type="Person",
                dbid=101,
                config_version=7,
                attributes={"user_name": "a1"},
            ),
            events.make("ConfigDelete", ts, "gca", object_type="Person", dbid=102, config_version=8),
        ],
    }


def test_staging_types_every_topic(settings: Settings, events: EventFactory, tmp_path: Path):
    _land(settings, tmp_path / "a", _one_of_each(events))
    result = transform(settings, settings.pg_dsn)  # type: ignore[arg-type]  # models and data tests
    assert result.success and not result.failures()
    assert sum(1 for n in result.nodes if n.resource_type == "test") >= 50
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    with psycopg.connect(dsn) as conn:
        call = conn.execute(
            "select event_ts, seq, call_type, user_data->>'segment', source"
            " from staging.stg_events__voice_callthread"
            " where event_type = 'CallCreated'"
        ).fetchone()
        agent = conn.execute(
            "select queues, workmode, reason_code from staging.stg_events__voice_agentstate"
            " where event_type = 'AgentNotReady' or event_type = 'AgentLogin' order by event_type"
        ).fetchall()
        dial = conn.execute(
            "select attempt, dial_result, campaign_group"
            " from staging.stg_events__voice_outbound order by event_type"
        ).fetchall()
        cfg = conn.execute(
            "select object_type, dbid, config_version, is_deleted"
            " from staging.stg_events__gca_cfg order by dbid"
        ).fetchall()
        itx = conn.execute(
            "select to_queue, completion_reason from staging.stg_events__digital_itx order by event_type"
        ).fetchall()
        cap = conn.execute("select capacity from staging.stg_events__digital_agentstate").fetchone()
    assert call is not None
    assert call[0].isoformat() == "2026-11-23T10:00:00.123000+00:00"
    assert call[1:] == (1, "Inbound", "gold", "sip-a")
    assert agent == [(["Q1", "Q2"], None, None), (None, "AuxWork", None)]
    assert dial == [(None, "Busy", None), (2, None, None)]
    assert cfg == [("Person", 101, 7, False), ("Person", 102, 8, True)]
    assert itx == [(None, "Resolved"), (None, None), ("Chat_Q", None)]
    assert cap == (3,)


def _redundant_copy(evs: dict[str, list[dict]], peer: str) -> dict[str, list[dict]]:
    """The HA peer's copy of the voice events: same ids, its own source and sequence."""
    out: dict[str, list[dict]] = {}
    seq = 1000
    for topic, lst in evs.items():
        if topic.startswith("voice-") and topic != "voice-outbound":
            out[topic] = []
            for e in lst:
                seq += 1
                out[topic].append({**e, "source": peer, "seq": seq})
    return out


def test_duplicates_replays_and_arrival_order_never_change_staging(
    settings: Settings, events: EventFactory, tmp_path: Path
):
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    day = _one_of_each(events)
    late = {"voice-callthread": [events.make("CallEnded", "2026-11-23T09:00:00.000Z", call_id="c-0")]}
    peer = _redundant_copy(day, "sip-b")

    # arrival: the peer's copies first, then the original, then a replay of everything, then a late event,
    # with an incremental transform after each landing
    _land(settings, tmp_path / "1", peer)
    build_models(settings, SELECT_STAGING, tests=False)
    _land(settings, tmp_path / "2", day)
    build_models(settings, SELECT_STAGING, tests=False)
    replay = {
        t: [*day.get(t, []), *peer.get(t, [])] for t in day
    }  # new files: same events, other bytes order
    for lst in replay.values():
        lst.reverse()
    _land(settings, tmp_path / "3", replay)
    build_models(settings, SELECT_STAGING, tests=False)
    _land(settings, tmp_path / "4", late)
    build_models(settings, SELECT_STAGING)  # with the data tests (unique event_id among them)
    after_cycles = _staging_rows(dsn)

    # exactly one row per logical event, and the kept copy is the same whatever arrived first
    n_logical = sum(len(v) for v in day.values()) + 1
    assert sum(len(v) for v in after_cycles.values()) == n_logical
    with psycopg.connect(dsn) as conn:
        sources = {
            r[0] for r in conn.execute("select distinct source from staging.stg_events__voice_callthread")
        }
        raw_copies = conn.execute("select count(*) from raw.voice_callthread").fetchone()[0]  # type: ignore[index]
    assert sources == {"sip-a"}  # sip-a sorts before sip-b: chosen on every site
    assert raw_copies == 3 + 3 + 6 + 1  # raw keeps every copy as it came

    # a full rebuild from raw gives the very same rows
    build_models(settings, SELECT_STAGING, tests=False, full_refresh=True)
    assert _staging_rows(dsn) == after_cycles


def test_a_row_committed_late_with_an_older_landing_is_staged_without_a_look_back(
    settings: Settings, events: EventFactory, tmp_path: Path
):
    """Rows land with their transaction's start as landed_at: one held open while later rows land
    and a cycle runs commits below that cycle's high-water mark. The floor recorded with the cycle's
    build (the oldest open writer's start, ctl.ctl_model_build.landed_floor) still takes it next
    cycle, with no look-back at all (lookback_minutes 0)."""
    settings = settings.model_copy(update={"lookback_minutes": 0})
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    ts = "2026-11-23T10:00:00.000Z"
    agent = {"agent_id": "a-late"}
    login = events.make("AgentLogin", ts, **agent, dn="5001", place="pl1", queues=["Q1"])
    _land(settings, tmp_path / "a", {"voice-agentstate": [login]})
    transform(settings, dsn, tests=False, select=["stg_events__voice_agentstate"])

    held = events.make("AgentReady", "2026-11-23T10:00:05.000Z", **agent)
    with psycopg.connect(dsn) as late:  # a writer whose transaction began before the next landing
        late.execute(
            "insert into raw.voice_agentstate (payload, event_ts) values (%s, %s)",
            (orjson.dumps(held).decode(), held["ts"]),
        )
        (began,) = late.execute("select now()").fetchone()  # type: ignore[misc]
        later = events.make(
            "AgentNotReady", "2026-11-23T10:00:09.000Z", **agent, workmode="AuxWork", reason_code="Break"
        )
        _land(settings, tmp_path / "b", {"voice-agentstate": [later]})
        transform(settings, dsn, tests=False, select=["stg_events__voice_agentstate"])
        with psycopg.connect(dsn) as conn:
            staged = {r[0] for r in conn.execute("select event_id from staging.stg_events__voice_agentstate")}
            (floor,) = conn.execute(  # type: ignore[misc]
                "select landed_floor from ctl.ctl_model_build where model_name = %s",
                ("stg_events__voice_agentstate",),
            ).fetchone()
        assert later["id"] in staged and held["id"] not in staged
        assert floor is not None and floor <= began  # the open writer bounded the floor
        late.commit()

    transform(settings, dsn, tests=False, select=["stg_events__voice_agentstate"])
    with psycopg.connect(dsn) as conn:
        staged = {r[0] for r in conn.execute("select event_id from staging.stg_events__voice_agentstate")}
        (high,) = conn.execute("select max(landed_at) from staging.stg_events__voice_agentstate").fetchone()  # type: ignore[misc]
    assert held["id"] in staged, "the row committed late was skipped"
    assert high > began  # it did land below the mark: only the floor could take it
