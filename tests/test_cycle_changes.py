"""A cycle builds only what changed: `dbt source freshness`, then the models downstream of the
sources with new rows (pipeline/freshness.py, transform(only_changed=True))."""

from __future__ import annotations

import json
import time
from pathlib import Path

import orjson
import psycopg
import pytest

from infomart.settings import Settings
from ingest.landing import ensure_raw_schema
from pipeline.freshness import state_dir
from pipeline.transform import TransformError, TransformResult, transform
from tests.conftest import EventFactory, count

# Models of each side: built when their source has new rows, left alone when another source has.
CALL_MODELS = {"stg_events__voice_callthread", "int_voice__calls", "int_voice__parties", "interaction_fact"}
NOT_DOWNSTREAM_OF_CALLS = {
    "stg_events__voice_agentstate",
    "int_agent_state__events",
    "resource_state_reason",
    "stg_events__gca_cfg",
    "int_config__history",
    "snp_config__objects",
    "media_type",  # a seed
}


@pytest.fixture
def cycle_settings(tmp_path: Path, pg_dsn: str) -> Settings:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        ensure_raw_schema(conn)
    return Settings(
        home=tmp_path / "home", pg_dsn=pg_dsn, kafka_bootstrap_servers="127.0.0.1:1", metrics_port=0
    )


def _land(conn: psycopg.Connection, table: str, *events: dict) -> None:
    for ev in events:
        conn.execute(f"insert into raw.{table} (payload) values (%s)", (orjson.dumps(ev).decode(),))


def _call(events: EventFactory, call_id: str, ts: str) -> list[dict]:
    return [
        events.make(
            "CallCreated",
            ts,
            call_id=call_id,
            thread_id=call_id,
            call_type="Inbound",
            ani="+15550001",
            dnis="+18005550100",
            user_data={},
        ),
        events.make(
            "PartyAdded",
            ts,
            call_id=call_id,
            party_id=f"{call_id}-p1",
            dn="+15550001",
            dn_type="External",
            agent_id=None,
            reason="New",
            initiator_party_id=None,
        ),
    ]


def _cycle(settings: Settings) -> TransformResult:
    return transform(settings, settings.pg_dsn, tests=False, only_changed=True)  # type: ignore[arg-type]


def _ran(result: TransformResult) -> set[str]:
    return {n.name for n in result.nodes if n.status == "success"}


def _state(settings: Settings) -> dict[str, str]:
    doc = json.loads((state_dir(settings.home) / "sources.json").read_text())
    return {r["unique_id"].rsplit(".", 1)[-1]: r["max_loaded_at"] for r in doc["results"]}


def _mart_rows(dsn: str) -> dict[str, list[tuple]]:
    """Every row of three facts, every column but the audit keys (a full refresh stamps new ones)."""
    out = {}
    with psycopg.connect(dsn) as conn:
        for table in ("interaction_fact", "interaction_resource_fact", "sm_res_state_fact"):
            cur = conn.execute(f"select * from infomart.{table}")
            keep = [i for i, c in enumerate(cur.description or []) if not c.name.endswith("audit_key")]
            out[table] = sorted(repr(tuple(row[i] for i in keep)) for row in cur.fetchall())
    return out


def test_idle_cycle_runs_nothing_and_new_calls_run_only_their_models(
    cycle_settings: Settings, events: EventFactory
) -> None:
    dsn = cycle_settings.pg_dsn
    assert dsn is not None
    with psycopg.connect(dsn, autocommit=True) as conn:
        _land(conn, "voice_agentstate", events.make("AgentReady", "2026-11-23T10:00:00.000Z", agent_id="a1"))
        _land(conn, "voice_callthread", *_call(events, "c1", "2026-11-23T10:01:00.000Z"))

    first = _cycle(cycle_settings)  # no state yet: everything, seeds included
    assert first.built_sources is None
    assert _ran(first) >= CALL_MODELS | NOT_DOWNSTREAM_OF_CALLS
    assert set(first.sources) == {
        "voice_callthread",
        "voice_agentstate",
        "digital_itx",
        "digital_agentstate",
        "voice_outbound",
        "gca_cfg",
    }
    assert first.sources["voice_callthread"].max_loaded_at is not None
    assert first.sources["gca_cfg"].max_loaded_at is None  # no rows
    state_after_first = _state(cycle_settings)

    idle = _cycle(cycle_settings)
    assert idle.built_sources == []
    assert idle.nodes == []  # no dbt build at all
    assert _state(cycle_settings) == state_after_first

    with psycopg.connect(dsn, autocommit=True) as conn:
        _land(conn, "voice_callthread", *_call(events, "c2", "2026-11-23T10:05:00.000Z"))
    calls = _cycle(cycle_settings)
    assert calls.built_sources == ["voice_callthread"]
    ran = _ran(calls)
    assert ran >= CALL_MODELS, ran
    assert ran.isdisjoint(NOT_DOWNSTREAM_OF_CALLS), ran & NOT_DOWNSTREAM_OF_CALLS
    assert count(dsn, "select count(*) from staging.stg_events__voice_callthread") == 4
    assert count(dsn, "select count(*) from infomart.interaction_fact") == 2
    assert _state(cycle_settings)["voice_callthread"] > state_after_first["voice_callthread"]
    assert _state(cycle_settings)["voice_agentstate"] == state_after_first["voice_agentstate"]

    assert _cycle(cycle_settings).nodes == []  # idle again

    # What the cycles built is what a full refresh builds.
    incremental = _mart_rows(dsn)
    transform(cycle_settings, dsn, full_refresh=True, tests=False)
    assert _mart_rows(dsn) == incremental


def test_failed_build_does_not_advance_the_state(cycle_settings: Settings, events: EventFactory) -> None:
    dsn = cycle_settings.pg_dsn
    assert dsn is not None
    with psycopg.connect(dsn, autocommit=True) as conn:
        _land(conn, "voice_callthread", *_call(events, "c1", "2026-11-23T10:01:00.000Z"))
    _cycle(cycle_settings)
    before = _state(cycle_settings)

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "create function staging.refuse() returns trigger language plpgsql as"
            " $$ begin raise exception 'refused by the test'; end $$"
        )
        conn.execute(
            "create trigger refuse before insert on staging.stg_events__voice_callthread"
            " for each statement execute function staging.refuse()"
        )
        _land(conn, "voice_callthread", *_call(events, "c2", "2026-11-23T10:05:00.000Z"))
    with pytest.raises(TransformError, match="refused by the test"):
        _cycle(cycle_settings)
    assert _state(cycle_settings) == before

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("drop trigger refuse on staging.stg_events__voice_callthread")
    retried = _cycle(cycle_settings)  # the source is still fresher than the state
    assert retried.built_sources == ["voice_callthread"]
    assert "stg_events__voice_callthread" in _ran(retried)
    assert count(dsn, "select count(*) from staging.stg_events__voice_callthread") == 4
    assert _state(cycle_settings)["voice_callthread"] > before["voice_callthread"]


def test_rows_committed_late_by_an_open_transaction_are_built(
    cycle_settings: Settings, events: EventFactory
) -> None:
    """An ingester's rows carry its transaction's start as landed_at; when that transaction commits
    after a cycle saw later rows, the next cycle must still build them."""
    dsn = cycle_settings.pg_dsn
    assert dsn is not None
    with psycopg.connect(dsn, autocommit=True) as conn:
        _land(conn, "voice_callthread", *_call(events, "c1", "2026-11-23T10:01:00.000Z"))
    _cycle(cycle_settings)

    slow = psycopg.connect(dsn)  # a transaction that started first and commits last
    _land(slow, "voice_callthread", *_call(events, "late", "2026-11-23T10:02:00.000Z"))
    with psycopg.connect(dsn, autocommit=True) as conn:
        _land(conn, "voice_callthread", *_call(events, "c2", "2026-11-23T10:03:00.000Z"))
    assert _cycle(cycle_settings).built_sources == ["voice_callthread"]  # builds c2, cannot see "late"
    slow.commit()
    slow.close()

    after = _cycle(cycle_settings)
    assert after.built_sources == ["voice_callthread"]
    assert count(dsn, "select count(*) from staging.stg_events__voice_callthread") == 6
    assert count(dsn, "select count(*) from infomart.interaction_fact") == 3
    assert _cycle(cycle_settings).nodes == []


def _ended_call(events: EventFactory, call_id: str, ts: str, end_ts: str) -> list[dict]:
    return [
        *_call(events, call_id, ts),
        events.make("Released", end_ts, call_id=call_id, party_id=f"{call_id}-p1", cause="Normal"),
        events.make("CallEnded", end_ts, call_id=call_id),
    ]


def _ag2_id(dsn: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "select date_time_key, media_type_key, interaction_type_key, entered, abandoned"
            " from infomart.ag2_id_subhr order by 1, 2, 3"
        ).fetchall()


def test_aggregates_on_their_own_cadence_catch_up(cycle_settings: Settings, events: EventFactory) -> None:
    """With aggregates_every_seconds, the cycles between builds leave the aggregates out; the next
    due cycle builds them even without new events, and they equal a full rebuild."""
    dsn = cycle_settings.pg_dsn
    assert dsn is not None
    hourly = cycle_settings.model_copy(update={"aggregates_every_seconds": 3600})
    with psycopg.connect(dsn, autocommit=True) as conn:
        _land(
            conn,
            "voice_callthread",
            *_ended_call(events, "c1", "2026-11-23T10:01:00.000Z", "2026-11-23T10:03:00.000Z"),
        )
    first = _cycle(hourly)  # no state yet: everything, the aggregates too
    assert not first.aggregates_deferred and "ag2_id_subhr" in _ran(first)
    assert sum(r[3] for r in _ag2_id(dsn)) == 1

    with psycopg.connect(dsn, autocommit=True) as conn:
        _land(
            conn,
            "voice_callthread",
            *_ended_call(events, "c2", "2026-11-23T10:20:00.000Z", "2026-11-23T10:21:00.000Z"),
        )
    facts_only = _cycle(hourly)
    assert facts_only.aggregates_deferred and facts_only.built_sources == ["voice_callthread"]
    ran = _ran(facts_only)
    assert "interaction_fact" in ran and not any(name.startswith("ag2_") for name in ran), ran
    assert count(dsn, "select count(*) from infomart.interaction_fact") == 2
    assert sum(r[3] for r in _ag2_id(dsn)) == 1  # not yet
    assert _cycle(hourly).nodes == []  # idle and not due: nothing

    due = cycle_settings.model_copy(update={"aggregates_every_seconds": 1})
    time.sleep(1.1)
    catch_up = _cycle(due)  # no new events, but the aggregates are owed
    assert catch_up.built_sources == [] and not catch_up.aggregates_deferred
    ran = _ran(catch_up)
    assert "ag2_id_subhr" in ran and "interaction_fact" not in ran, ran
    assert sum(r[3] for r in _ag2_id(dsn)) == 2
    assert _cycle(due).nodes == []  # nothing owed any more

    caught_up = _ag2_id(dsn)
    transform(cycle_settings, dsn, full_refresh=True, tests=False)
    assert _ag2_id(dsn) == caught_up


def test_the_cycle_selection_is_what_dbt_selects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pipeline/selection.py gives, per source and with or without the aggregates, exactly the
    tables that dbt's own selector lists (the cycles pass them to dbt as one tag)."""
    from dbt.cli.main import dbtRunner

    from pipeline import cadence, selection
    from pipeline.transform import PROJECT_DIR, dbt_env, dbt_vars, parsed_manifest

    settings = Settings(home=tmp_path, pg_dsn="postgresql://nobody@127.0.0.1:1/none", metrics_port=0)
    for key, value in dbt_env(settings.pg_dsn, settings).items():  # type: ignore[arg-type]
        monkeypatch.setenv(key, value)  # restored after the test (PGPORT would reach the next server)
    manifest = parsed_manifest(settings, settings.pg_dsn, "selection-test")  # type: ignore[arg-type]
    assert manifest is not None

    def dbt_ls(*args: str) -> list[str]:
        res = dbtRunner(manifest=manifest).invoke(  # type: ignore[arg-type]
            [
                "ls",
                *args,
                "--resource-type",
                "model",
                "seed",
                "snapshot",
                "--output",
                "name",
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(PROJECT_DIR),
                "--vars",
                dbt_vars(settings),
                "--quiet",
            ]
        )
        assert res.success, res.exception
        return sorted(res.result)  # type: ignore[arg-type]

    views = ["--exclude", "config.materialized:view", "config.materialized:ephemeral"]
    for source in ("voice_callthread", "voice_agentstate", "digital_itx", "gca_cfg"):
        ours = selection.downstream_models(manifest, [source], True, cadence.AGGREGATES_PATH)
        assert ours and ours == dbt_ls("--select", f"source:events.{source}+", *views), source
        facts_only = selection.downstream_models(manifest, [source], False, cadence.AGGREGATES_PATH)
        assert facts_only == dbt_ls("--select", f"source:events.{source}+", *views, cadence.AGGREGATES), (
            source
        )
    both = selection.downstream_models(
        manifest, ["voice_callthread", "gca_cfg"], False, cadence.AGGREGATES_PATH
    )
    assert both == dbt_ls(
        "--select", "source:events.voice_callthread+", "source:events.gca_cfg+", *views, cadence.AGGREGATES
    )
    assert selection.models_under(manifest, cadence.AGGREGATES_PATH) == dbt_ls(
        "--select", cadence.AGGREGATES, *views
    )
    # the tag selects exactly the named models, and moves with the next cycle's set
    tag = selection.tag_cycle(manifest, ["int_voice__calls", "interaction_fact"])
    assert dbt_ls("--select", tag) == ["int_voice__calls", "interaction_fact"]
    selection.tag_cycle(manifest, ["date_time"])
    assert dbt_ls("--select", tag) == ["date_time"]


def test_date_time_grows_by_the_new_slots_only(cycle_settings: Settings, events: EventFactory) -> None:
    """DATE_TIME (incremental): a cycle adds the slots a late, earlier event needs and keeps the
    rows it has; the range has no gap or duplicate and ends the days ahead (plus a day) from now."""
    dsn = cycle_settings.pg_dsn
    assert dsn is not None
    with psycopg.connect(dsn, autocommit=True) as conn:
        _land(conn, "voice_callthread", *_call(events, "c1", "2026-01-02T10:00:00.000Z"))
    _cycle(cycle_settings)
    shape = (
        "select min(cal_date_time), count(*), count(distinct date_time_key),"
        " (max(date_time_key) - min(date_time_key)) / 900 + 1,"
        " max(cal_date_time) <= now() + interval '367 days', max(date_time_key) from infomart.date_time"
    )
    with psycopg.connect(dsn) as conn:
        first, rows, keys, span, bounded, last = conn.execute(shape).fetchone()  # type: ignore[misc]
        created = conn.execute(
            "select xmin::text from infomart.date_time where cal_date_time = '2026-06-01'"
        ).fetchone()
    assert str(first.date()) == "2026-01-01"  # var date_time_start
    assert rows == keys == span and bounded

    with psycopg.connect(dsn, autocommit=True) as conn:  # an earlier call: the days before are added
        _land(conn, "voice_callthread", *_call(events, "c0", "2025-12-30T23:59:00.000Z"))
    assert "date_time" in _ran(_cycle(cycle_settings))
    with psycopg.connect(dsn) as conn:
        first, rows2, keys, span, bounded, last2 = conn.execute(shape).fetchone()  # type: ignore[misc]
        kept = conn.execute(
            "select xmin::text from infomart.date_time where cal_date_time = '2026-06-01'"
        ).fetchone()
    assert str(first.date()) == "2025-12-30"
    # the end follows the clock: a 15-minute boundary passed between the cycles adds its slot
    assert rows2 == keys == span == rows + 2 * 96 + (last2 - last) // 900 and bounded
    assert kept == created  # the rows it had were not rewritten
