"""Config adapter: Configuration Database -> gca-cfg + snapshots -> raw -> staging -> history.

Real services: the embedded PostgreSQL (Info Mart and Configuration Database are two databases),
the tansu broker, and moto_server as the S3 peer.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg
import pytest

from cli.config_demo import demo_changed_at, load_demo
from infomart.objectstore import LocalObjectStore, ObjectNotFound, S3ObjectStore
from infomart.settings import S3Settings, Settings
from ingest.config.adapter import ConfigAdapter, _read_ranges, read_snapshot, ts_text
from ingest.config.database import init_schema
from ingest.config.feed import feed_configuration
from ingest.config.writer import write_changes
from ingest.contract import Contract
from ingest.kafka_client import make_consumer, make_producer
from ingest.kafka_ingester import KafkaIngester
from pipeline.transform import run_dbt
from tests import helpers

BIN = Path(sys.executable).parent


# ------------------------------------------------------------------ fixtures and helpers
@pytest.fixture(scope="module")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Settings]:
    yield from helpers.moto_s3(tmp_path_factory.mktemp("moto"), prefix="site-a")


def _adapter(settings: Settings, cfg_dsn: str, store=None, batch_size: int = 1000) -> ConfigAdapter:  # type: ignore[no-untyped-def]
    bootstrap = settings.kafka_bootstrap_servers
    return ConfigAdapter(
        settings,
        cfg_dsn,
        make_producer(settings, bootstrap),  # type: ignore[arg-type]
        make_consumer(settings, bootstrap),  # type: ignore[arg-type]
        store,
        batch_size=batch_size,
    )


def _close(adapter: ConfigAdapter) -> None:
    adapter.close()
    adapter.producer.close()
    adapter.consumer.close()


def _topic_events(settings: Settings) -> list[dict]:
    """Every message of the gca-cfg topic, parsed, checked against the contract, with its key."""
    consumer = make_consumer(settings, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    topic = settings.topics.gca_cfg
    try:
        parts = consumer.partitions(topic) or []
        tps = [(topic, p) for p in parts]
        got = _read_ranges(consumer, {tp: (0, None) for tp in tps}, hint_ends=consumer.end_offsets(tps))
    finally:
        consumer.close()
    contract = Contract(settings.tenant)
    out = []
    for msgs in got.values():
        for m in msgs:
            ev, reason = contract.check("gca-cfg", m.value)
            assert reason is None, reason
            out.append(ev)
    return out


@dataclass(frozen=True)
class _Change:
    object_type: str
    dbid: int
    changed_at: datetime
    attributes: dict | None


def versions_max(latest: dict[tuple[str, int], tuple[int, datetime]]) -> int:
    return max(v for v, _ in latest.values())


def _versions(events: list[dict]) -> Counter:
    return Counter((e["object_type"], e["dbid"], e["config_version"]) for e in events)


def _latest_changes(cfg_dsn: str) -> dict[tuple[str, int], tuple[int, datetime]]:
    with psycopg.connect(cfg_dsn) as conn:
        rows = conn.execute(
            "select object_type, dbid, max(config_version), max(changed_at) from cfg.change_log group by 1, 2"
        ).fetchall()
    return {(t, d): (v, at) for t, d, v, at in rows}


def _existing(cfg_dsn: str) -> set[tuple[str, int]]:
    from ingest.config.adapter import OBJECT_VIEWS

    with psycopg.connect(cfg_dsn) as conn:
        return {
            (t, d) for t, view in OBJECT_VIEWS.items() for (d,) in conn.execute(f"select dbid from {view}")
        }


def _land_and_transform(settings: Settings, full_refresh: bool = False) -> None:
    ing = KafkaIngester(settings, settings.pg_dsn, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    try:
        ing.run(until_drained=True)
    finally:
        ing.close()
    # the configuration path only: the dimensions downstream of it also need the event models
    args = [
        "build",
        "--select",
        "stg_events__gca_cfg",
        "int_config__history",
        "int_config__current",
        "snp_config__objects",
    ]
    run_dbt(settings, settings.pg_dsn, [*args, "--full-refresh"] if full_refresh else args)  # type: ignore[arg-type]


def _history(dsn: str) -> dict[tuple[str, int], list[tuple]]:
    out: dict[tuple[str, int], list[tuple]] = {}
    with psycopg.connect(dsn) as conn:
        for row in conn.execute(
            "select object_type, dbid, config_version, valid_from, valid_to, is_current, is_deleted,"
            " object_name, attributes from intermediate.int_config__history order by 1, 2, 3"
        ):
            out.setdefault((row[0], row[1]), []).append(row[2:])
    return out


# ------------------------------------------------------------------ object storage and snapshots
def _exercise_store(store) -> None:  # type: ignore[no-untyped-def]
    store.put("a/b/one.bin", b"\x00\x01two")
    store.put("a/c.txt", b"three")
    assert store.get("a/b/one.bin") == b"\x00\x01two"
    assert store.list("a/") == ["a/b/one.bin", "a/c.txt"]
    assert store.exists("a/c.txt") and not store.exists("a/missing")
    store.put("a/c.txt", b"replaced")
    assert store.get("a/c.txt") == b"replaced"
    store.delete("a/c.txt")
    with pytest.raises(ObjectNotFound):
        store.get("a/c.txt")
    with pytest.raises(ValueError):
        store.put("../escape", b"x")


def test_snapshot_to_local_folder_and_s3_read_back_equal(
    settings: Settings, cfg_dsn: str, moto_s3: S3Settings, tmp_path: Path
):
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        load_demo(conn, "t1", agents=6)
        version = conn.execute("select max(config_version) from cfg.change_log").fetchone()[0]  # type: ignore[index]
        person = conn.execute("select attributes from cfg.obj_person where dbid = 100003").fetchone()[0]  # type: ignore[index]
    local = LocalObjectStore(tmp_path / "objects")
    s3 = S3ObjectStore(moto_s3)
    _exercise_store(local)
    _exercise_store(s3)

    adapter = _adapter(settings, cfg_dsn, local)
    try:
        assert adapter.reader.role == "cfg_reader"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            adapter.reader.conn.execute("delete from cfg.cfg_person")
        info_local = adapter.write_snapshot()
        adapter.store = s3
        info_s3 = adapter.write_snapshot()
    finally:
        _close(adapter)
    key = f"config-snapshots/t1/{version:020d}.json.gz"
    assert info_local.key == info_s3.key == key
    assert local.list("config-snapshots/") == [key, "config-snapshots/t1/latest.json"]
    assert s3.list("config-snapshots/") == [key, "config-snapshots/t1/latest.json"]
    # the S3 keys live under the configured prefix
    raw_keys = [o["Key"] for o in s3.client.list_objects_v2(Bucket=moto_s3.bucket)["Contents"]]  # type: ignore[attr-defined]
    assert f"site-a/{key}" in raw_keys
    from_local = read_snapshot(local, "t1")
    from_s3 = read_snapshot(s3, "t1")
    for doc in (from_local, from_s3):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc.pop("taken_at"))
    assert from_local == from_s3
    assert from_local["config_version"] == version
    counts = {
        "Skill": 6,
        "AgentGroup": 5,
        "ActionCode": 9,
        "Queue": 7,
        "Campaign": 2,
        "DN": 10,
        "Place": 6,
        "Person": 6,
    }
    assert from_local["counts"] == counts
    assert {t: len(v) for t, v in from_local["objects"].items()} == counts
    by_dbid = {o["dbid"]: o for o in from_local["objects"]["Person"]}
    assert by_dbid[100003]["attributes"] == person
    assert by_dbid[100003]["attributes"]["user_name"] == "agent0003"
    assert 0 < by_dbid[100003]["config_version"] <= version


# ------------------------------------------------------------------ initial load, restart
def test_initial_load_publishes_every_object_once_matching_the_simulator(settings: Settings, cfg_dsn: str):
    from simulator.config import SimulationConfig
    from simulator.simulation import simulate

    agents = 12
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        load_demo(conn, "t1", agents=agents, changed_at=demo_changed_at())
    store = LocalObjectStore(settings.local_objects)
    adapter = _adapter(settings, cfg_dsn, store, batch_size=50)
    try:
        stats = adapter.run(once=True)
    finally:
        _close(adapter)
    objects = _existing(cfg_dsn)
    assert len(objects) == 33 + 3 * agents
    assert (stats.upserts, stats.deletes, stats.batches) == (len(objects), 0, 2)

    events = _topic_events(settings)
    assert len(events) == len(objects)
    assert {(e["object_type"], e["dbid"]) for e in events} == objects
    latest = _latest_changes(cfg_dsn)
    for e in events:
        version, changed_at = latest[(e["object_type"], e["dbid"])]
        assert e["config_version"] == version
        assert e["ts"] == ts_text(changed_at)
        assert e["id"] == f"gca-{e['object_type']}-{e['dbid']}-{version}"
        assert (e["type"], e["source"], e["tenant"], e["v"]) == ("ConfigUpsert", "gca", "t1", 1)
    assert sorted(e["seq"] for e in events) == list(range(1, len(events) + 1))
    assert {e["ts"] for e in events} == {"2026-11-23T08:00:00.000Z"}  # the demo data set's time
    assert read_snapshot(store, "t1")["config_version"] == max(v for v, _ in latest.values())

    # the demo data set is the simulator's configuration: same objects, same attributes ...
    sim = simulate(SimulationConfig(agents=agents, duration_hours=1.0))
    assert {(c.object_type, c.dbid) for c in sim.config_changes} == objects
    ours = {(e["object_type"], e["dbid"]): e["attributes"] for e in events}
    for c in sim.config_changes:
        mine = ours[(c.object_type, c.dbid)]
        assert c.attributes and {k: mine[k] for k in c.attributes} == c.attributes, (c.object_type, c.dbid)
    # ... so writing the simulator's configuration (changed at its start, the demo data set's
    # time) into this database changes nothing
    assert {c.changed_at for c in sim.config_changes} == {demo_changed_at()}
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        written = write_changes(conn, "t1", sim.config_changes)
        now = conn.execute("select max(config_version) from cfg.change_log").fetchone()[0]  # type: ignore[index]
    assert now == versions_max(latest)
    assert (written.changes, written.transactions, written.logged_objects, written.outdated) == (
        len(objects),
        1,
        0,
        0,
    )

    # a restart with no change publishes nothing
    adapter = _adapter(settings, cfg_dsn, store)
    try:
        pos = adapter.start()
        at_start = (pos.empty, pos.watermark, len(pos.tail))
        stats = adapter.poll()
    finally:
        _close(adapter)
    # the last batch carried W = the first batch's last version: the rest is re-read, not re-sent
    versions = sorted(e["config_version"] for e in events)
    assert at_start == (False, versions[49], len(objects) - 50)
    assert (stats.published, stats.already_published) == (0, len(objects) - 50)
    assert len(_topic_events(settings)) == len(objects)


# ------------------------------------------------------------------ the simulator's changes, real path
def test_simulated_changes_reach_the_history_at_their_simulated_times(settings: Settings, cfg_dsn: str):
    """Simulator -> Configuration Database (writer, simulated change times) -> adapter (one poll per
    change time) -> gca-cfg -> raw -> staging -> int_config__history."""
    from simulator.config import SimulationConfig
    from simulator.simulation import simulate

    # 6 agents, 2 h from 08:00: new agent0007 at 08:30 (25 %), agent0002 moves at 08:48 (40 %),
    # agent0003's skill at 09:00 (50 %), agent0006 deleted 5 min after its logout (09:11:30.213)
    sim = simulate(SimulationConfig(seed=2, agents=6, duration_hours=2.0, config_changes=True))
    changes = sim.config_changes
    times = sorted({c.to_json()["ts"] for c in changes})
    assert (
        times[:4]
        == [
            "2026-11-23T08:00:00.000Z",
            "2026-11-23T08:30:00.000Z",
            "2026-11-23T08:48:00.000Z",
            "2026-11-23T09:00:00.000Z",
        ]
        and len(times) == 5
    )
    deleted_ts = next(c.to_json()["ts"] for c in changes if c.attributes is None)
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        init_schema(conn, "t1")
    fed = feed_configuration(settings, cfg_dsn, settings.kafka_bootstrap_servers, changes)  # type: ignore[arg-type]
    # a first poll (nothing yet), then one poll per change time
    written = fed.written
    assert (written.changes, written.transactions, written.outdated, fed.polls) == (len(changes), 5, 0, 6)
    events = _topic_events(settings)
    assert len(events) == fed.published
    by_object: dict[tuple[str, int], list[dict]] = {}
    for e in sorted(events, key=lambda e: e["config_version"]):
        by_object.setdefault((e["object_type"], e["dbid"]), []).append(e)
    start = "2026-11-23T08:00:00.000Z"
    assert [(e["ts"], e["type"]) for e in by_object[("Person", 100002)]] == [
        (start, "ConfigUpsert"),
        ("2026-11-23T08:48:00.000Z", "ConfigUpsert"),
    ]
    assert [e["ts"] for e in by_object[("Person", 100003)]] == [start, "2026-11-23T09:00:00.000Z"]
    assert [(e["ts"], e["type"]) for e in by_object[("Person", 100006)]] == [
        (start, "ConfigUpsert"),
        (deleted_ts, "ConfigDelete"),
    ]
    # the new agent's DN, Place and Person at 08:30 (the DN is logged again when its place is set,
    # in the same transaction: one version per object)
    for obj in (("DN", 200007), ("Place", 300007), ("Person", 100007)):
        assert [e["ts"] for e in by_object[obj]] == ["2026-11-23T08:30:00.000Z"], obj
    moved = by_object[("Person", 100002)]
    assert moved[0]["attributes"]["agent_groups"] != moved[1]["attributes"]["agent_groups"]
    # every other object once, at the start
    changed = (100002, 100003, 100006, 200007, 300007, 100007)
    others = {k: v for k, v in by_object.items() if k[1] not in changed}
    assert {len(v) for v in others.values()} == {1} and {v[0]["ts"] for v in others.values()} == {start}

    # the same day written again changes nothing and publishes nothing
    again = feed_configuration(settings, cfg_dsn, settings.kafka_bootstrap_servers, changes)  # type: ignore[arg-type]
    assert (again.published, again.written.logged_objects, again.written.outdated) == (0, 0, 3)
    assert len(_topic_events(settings)) == len(events)

    _land_and_transform(settings)
    history = _history(settings.pg_dsn)  # type: ignore[arg-type]
    at = {t: datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (*times, deleted_ts)}
    assert [(r[1], r[2], r[4], r[6]["agent_groups"]) for r in history[("Person", 100002)]] == [
        (at[start], at["2026-11-23T08:48:00.000Z"], False, moved[0]["attributes"]["agent_groups"]),
        (at["2026-11-23T08:48:00.000Z"], None, False, moved[1]["attributes"]["agent_groups"]),
    ]
    assert [(r[1], r[2], r[4]) for r in history[("Person", 100006)]] == [
        (at[start], at[deleted_ts], False),
        (at[deleted_ts], None, True),
    ]
    assert [(r[1], r[2]) for r in history[("Person", 100007)]] == [(at["2026-11-23T08:30:00.000Z"], None)]


# ------------------------------------------------------------------ history of every object type
CHANGES: list[tuple[str, str, tuple]] = [
    # (object type, statement, params): one transaction each
    ("Skill", "insert into cfg.cfg_skill (dbid, tenant_dbid, name) values (120, %s, 'Quality')", ("T",)),
    ("Skill", "update cfg.cfg_skill set name = 'WebChat' where dbid = 104", ()),
    ("Skill", "delete from cfg.cfg_skill where dbid = 106", ()),
    (
        "AgentGroup",
        "insert into cfg.cfg_agent_group (dbid, tenant_dbid, name) values (220, %s, 'AG_New')",
        ("T",),
    ),
    ("AgentGroup", "update cfg.cfg_agent_group set enabled = false where dbid = 203", ()),
    ("AgentGroup", "delete from cfg.cfg_agent_group where dbid = 201", ()),
    (
        "ActionCode",
        "insert into cfg.cfg_action_code (dbid, tenant_dbid, name, code, action_type)"
        " values (320, %s, 'Coaching', 'COACHING', 'NotReady')",
        ("T",),
    ),
    ("ActionCode", "update cfg.cfg_action_code set code = 'BRK' where dbid = 301", ()),
    ("ActionCode", "delete from cfg.cfg_action_code where dbid = 304", ()),
    (
        "Queue",
        "insert into cfg.cfg_dn (dbid, tenant_dbid, number, dn_type, media_type)"
        " values (420, %s, 'VQ_Vip', 'VirtualQueue', 'voice')",
        ("T",),
    ),
    ("Queue", "update cfg.cfg_dn set number = 'VQ_Sales_EMEA' where dbid = 401", ()),
    ("Queue", "delete from cfg.cfg_dn where dbid = 407", ()),
    (
        "Campaign",
        "insert into cfg.cfg_campaign (dbid, tenant_dbid, name, dialing_mode)"
        " values (520, %s, 'CMP_New', 'Preview')",
        ("T",),
    ),
    ("Campaign", "update cfg.cfg_campaign set dialing_mode = 'Preview' where dbid = 501", ()),
    ("Campaign", "delete from cfg.cfg_campaign where dbid = 502", ()),
    (
        "DN",
        "insert into cfg.cfg_dn (dbid, tenant_dbid, number, dn_type)"
        " values (620, %s, '8009', 'RoutingPoint')",
        ("T",),
    ),
    ("DN", "update cfg.cfg_dn set number = '9002' where dbid = 604", ()),
    ("DN", "delete from cfg.cfg_dn where dbid = 603", ()),
    (
        "Place",
        "insert into cfg.cfg_place (dbid, tenant_dbid, name) values (300099, %s, 'Place_0099')",
        ("T",),
    ),
    ("Place", "update cfg.cfg_place set name = 'Place_0001b' where dbid = 300001", ()),
    ("Place", "delete from cfg.cfg_place where dbid = 300004", ()),
    (
        "Person",
        "insert into cfg.cfg_person (dbid, tenant_dbid, employee_id, user_name, first_name, last_name)"
        " values (100099, %s, 'E00099', 'agent0099', 'Zoe', 'Zed')",
        ("T",),
    ),
    ("Person", "update cfg.cfg_person set last_name = 'Changed' where dbid = 100002", ()),
    ("Person", "delete from cfg.cfg_person where dbid = 100003", ()),
]


def test_add_update_delete_of_each_object_type_in_history(settings: Settings, cfg_dsn: str):
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        load_demo(conn, "t1", agents=4)
        tenant = conn.execute("select dbid from cfg.cfg_tenant where name = 't1'").fetchone()[0]  # type: ignore[index]
    adapter = _adapter(settings, cfg_dsn)
    try:
        adapter.run(once=True)
        _land_and_transform(settings)
        before = _history(settings.pg_dsn)  # type: ignore[arg-type]
        assert all(len(rows) == 1 and rows[0][3] for rows in before.values())  # one current row each

        changed: dict[str, list[tuple[int, int]]] = {}  # type -> (dbid, version of that change)
        with psycopg.connect(cfg_dsn, autocommit=True) as conn:
            for object_type, stmt, params in CHANGES:
                with conn.transaction():
                    conn.execute(stmt, tuple(tenant if p == "T" else p for p in params))
                    dbid, version = conn.execute(
                        "select dbid, config_version from cfg.change_log where object_type = %s"
                        " order by config_version desc limit 1",
                        (object_type,),
                    ).fetchone()  # type: ignore[misc]
                changed.setdefault(object_type, []).append((dbid, version))
                time.sleep(0.003)  # distinct change times
            with pytest.raises(psycopg.errors.RaiseException, match="cannot change"):
                conn.execute("update cfg.cfg_dn set dn_type = 'Extension' where dbid = 601")
            with pytest.raises(psycopg.errors.RaiseException, match="bypass the change log"):
                conn.execute("truncate cfg.cfg_skill cascade")
        stats = adapter.poll()
    finally:
        _close(adapter)
    assert stats.published == stats.changed_objects > len(CHANGES)  # fan-out: persons showing renamed names
    _land_and_transform(settings)
    history = _history(settings.pg_dsn)  # type: ignore[arg-type]
    latest = _latest_changes(cfg_dsn)
    with psycopg.connect(cfg_dsn) as conn:
        change_time = dict(conn.execute("select config_version, changed_at from cfg.change_log").fetchall())

    for object_type, [(added, v_add), (updated, v_upd), (deleted, v_del)] in changed.items():
        # added: one current row from the change's time
        assert [r[:5] for r in history[(object_type, added)]] == [
            (v_add, change_time[v_add], None, True, False)
        ]
        # updated: the old version ends exactly when the new one starts
        *_, old, new = history[(object_type, updated)]
        assert new[0] == v_upd, object_type
        assert old[2] == new[1] == change_time[v_upd], object_type
        assert (old[3], new[3], new[2], old[4], new[4]) == (False, True, None, False, False)
        assert old[6] != new[6]
        # deleted: the history is kept, the last row says deleted and keeps the attributes
        *kept, gone = history[(object_type, deleted)]
        assert gone[:5] == (v_del, change_time[v_del], None, True, True), object_type
        assert kept and kept[-1][2] == change_time[v_del] and not kept[-1][4]
        assert gone[6] == kept[-1][6] and gone[5] == kept[-1][5]
    # specific values
    assert history[("Skill", 104)][-1][5] == "WebChat"
    assert history[("Person", 100002)][-1][6]["last_name"] == "Changed"
    assert history[("Queue", 401)][-1][5] == "VQ_Sales_EMEA"
    assert history[("DN", 601)][-1][6]["queue"] == "VQ_Sales_EMEA"  # fan-out to the routing point
    # the members of the deleted group lost it (agents 1 and 4: AG_Sales). Agent 1's place was
    # renamed later in the same poll: the changes of one object in one poll are coalesced into
    # one version, at the time of its last change
    for dbid, last_change in ((100001, changed["Place"][1][1]), (100004, changed["Place"][2][1])):
        first, last = history[("Person", dbid)]
        assert "AG_Sales" in first[6]["agent_groups"] and "AG_Sales" not in last[6]["agent_groups"]
        assert first[2] == last[1] == change_time[last_change]
        assert last[0] == latest[("Person", dbid)][0] > changed["AgentGroup"][2][1]
    assert history[("Person", 100001)][-1][6]["place"] == "Place_0001b"
    assert history[("Person", 100004)][-1][6]["place"] is None  # its place was deleted
    # every history row is a version the adapter published, with its time
    for (object_type, dbid), rows in history.items():
        assert rows[-1][0] == latest[(object_type, dbid)][0]
        assert all(r[1] == change_time[r[0]] for r in rows)

    # the audit snapshot: one row per version seen, the deletion recorded
    with psycopg.connect(settings.pg_dsn) as conn:  # type: ignore[arg-type]
        snap = conn.execute(
            "select config_version, is_deleted, dbt_valid_to is null from snapshots.snp_config__objects"
            " where object_type = 'Person' and dbid = 100003 order by config_version"
        ).fetchall()
    assert snap == [(before[("Person", 100003)][0][0], False, False), (changed["Person"][2][1], True, True)]

    # a full rebuild gives the same history
    _land_and_transform(settings, full_refresh=True)
    assert _history(settings.pg_dsn) == history  # type: ignore[arg-type]


# ------------------------------------------------------------------ queue thresholds
def _queue_attributes(events: list[dict]) -> dict[int, dict]:
    """The latest published attributes of each Queue (by config_version)."""
    out: dict[int, tuple[int, dict]] = {}
    for e in events:
        if e["object_type"] == "Queue" and e["config_version"] > out.get(e["dbid"], (0, {}))[0]:
            out[e["dbid"]] = (e["config_version"], e.get("attributes"))
    return {dbid: attributes for dbid, (_, attributes) in out.items()}


def test_queue_thresholds_are_published_as_queue_attributes(settings: Settings, cfg_dsn: str):
    """The demo data set's thresholds (VQ_Sales 30 s / 5 s, VQ_Chat 60 s / not set, the others
    none) in the initial load; a threshold set, changed and cleared by SQL is one Queue change
    each (no fan-out), published with the contract's checks; bad thresholds are refused."""
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        load_demo(conn, "t1", agents=2)
    adapter = _adapter(settings, cfg_dsn)
    try:
        adapter.run(once=True)
        queues = _queue_attributes(_topic_events(settings))
        assert {
            d: (a["name"], a.get("service_level_threshold"), a.get("short_abandon_threshold"))
            for d, a in queues.items()
        } == {
            401: ("VQ_Sales", 30, 5),
            402: ("VQ_Support", None, None),
            403: ("VQ_Billing", None, None),
            404: ("VQ_Chat", 60, None),
            405: ("VQ_Chat_Escalation", None, None),
            406: ("VQ_Email", None, None),
            407: ("VQ_Email_Escalation", None, None),
        }
        assert "short_abandon_threshold" not in queues[404]  # not set: absent, not null
        assert queues[402] == {
            "name": "VQ_Support",
            "type": "VirtualQueue",
            "media_type": "voice",
            "switch": "SIP_Switch",
            "enabled": True,
        }

        with psycopg.connect(cfg_dsn, autocommit=True) as conn:
            before = conn.execute("select max(config_version) from cfg.change_log").fetchone()[0]  # type: ignore[index]
            for stmt in (
                "update cfg.cfg_dn set short_abandon_threshold = 7 where dbid = 402",  # set
                "update cfg.cfg_dn set service_level_threshold = 12.5 where dbid = 401",  # changed
                "update cfg.cfg_dn set service_level_threshold = null where dbid = 404",  # cleared
                "update cfg.cfg_dn set short_abandon_threshold = 7 where dbid = 402",  # the same: no change
            ):
                conn.execute(stmt)
            logged = conn.execute(
                "select object_type, dbid, op from cfg.change_log where config_version > %s"
                " order by config_version",
                (before,),
            ).fetchall()
            for bad in (
                "update cfg.cfg_dn set service_level_threshold = -1 where dbid = 401",
                "update cfg.cfg_dn set short_abandon_threshold = -0.001 where dbid = 401",
                "update cfg.cfg_dn set service_level_threshold = 20 where dbid = 601",  # a routing point
            ):
                with pytest.raises(psycopg.errors.CheckViolation):
                    conn.execute(bad)
        assert logged == [("Queue", 402, "U"), ("Queue", 401, "U"), ("Queue", 404, "U")]
        stats = adapter.poll()
        assert (stats.upserts, stats.deletes) == (3, 0)
        queues = _queue_attributes(_topic_events(settings))
    finally:
        _close(adapter)
    assert queues[402]["short_abandon_threshold"] == 7 and "service_level_threshold" not in queues[402]
    assert (queues[401]["service_level_threshold"], queues[401]["short_abandon_threshold"]) == (12.5, 5)
    assert "service_level_threshold" not in queues[404] and "short_abandon_threshold" not in queues[404]

    # the writer sets them from the published shape, and clears one given as None
    later = datetime(2030, 1, 1, tzinfo=UTC)  # after the changes above, whatever the clock says
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        written = write_changes(
            conn,
            "t1",
            [
                _Change("Queue", 403, later, queues[403] | {"service_level_threshold": 45}),
                _Change("Queue", 402, later, queues[402] | {"short_abandon_threshold": None}),
            ],
        )
        assert written.logged_objects == 2
        assert conn.execute(
            "select dbid, service_level_threshold, short_abandon_threshold from cfg.cfg_dn"
            " where dbid in (402, 403) order by dbid"
        ).fetchall() == [(402, None, None), (403, 45, None)]


def test_thresholds_reach_a_configuration_database_made_before_them(cfg_dsn: str):
    """A database whose schema predates the thresholds gets them from the idempotent schema file
    (what `infomart config-db init` applies), with their checks; existing rows keep none."""
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        init_schema(conn, "t1")
        load_demo(conn, "t1", agents=2)
        conn.execute("drop view cfg.obj_queue")  # the schema before the thresholds
        conn.execute(
            "alter table cfg.cfg_dn drop constraint cfg_dn_thresholds_of_queues,"
            " drop column service_level_threshold, drop column short_abandon_threshold"
        )
        init_schema(conn, "t1")
        init_schema(conn, "t1")  # and again: idempotent
        assert conn.execute("select attributes from cfg.obj_queue where dbid = 401").fetchone()[0] == {  # type: ignore[index]
            "name": "VQ_Sales",
            "type": "VirtualQueue",
            "media_type": "voice",
            "switch": "SIP_Switch",
            "enabled": True,
        }
        conn.execute("update cfg.cfg_dn set service_level_threshold = 25 where dbid = 401")
        assert (
            conn.execute(
                "select attributes -> 'service_level_threshold' from cfg.obj_queue where dbid = 401"
            ).fetchone()[0]
            == 25
        )  # type: ignore[index]
        checks = conn.execute(
            "select count(*) from pg_constraint where conrelid = 'cfg.cfg_dn'::regclass and contype = 'c'"
            " and pg_get_constraintdef(oid) like '%threshold%'"
        ).fetchone()[0]  # type: ignore[index]
        assert checks == 3  # >= 0 twice, thresholds of queues only
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("update cfg.cfg_dn set short_abandon_threshold = -5 where dbid = 401")


# ------------------------------------------------------------------ SIGKILL and restart
def _env(settings: Settings, cfg_dsn: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOMART_")}
    env.update(
        {
            "INFOMART_CONFIG_DB_DSN": cfg_dsn,
            "INFOMART_PG_DSN": settings.pg_dsn or "",
            "INFOMART_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers or "",
            "INFOMART_HOME": str(settings.home),
            "INFOMART_TOPICS__GCA_CFG": settings.topics.gca_cfg,
        }
    )
    return env


def test_sigkill_mid_run_and_restart_publish_every_change_exactly_once(settings: Settings, cfg_dsn: str):
    env = _env(settings, cfg_dsn)
    done = subprocess.run(
        [str(BIN / "infomart"), "config-db", "init", "--demo", "--agents", "1200"],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert b"3,633 objects" in done.stdout
    # three partitions: a batch cut short by the kill can reach one partition and not another
    producer = make_producer(settings, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    producer.create_topics([settings.topics.gca_cfg], 3)
    producer.close()
    consumer = make_consumer(settings, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    tps = [(settings.topics.gca_cfg, p) for p in range(3)]
    cmd = [str(BIN / "infomart"), "config-adapter", "--once", "--batch-size", "40", "--no-snapshots"]
    rng = random.Random(11)
    at_kill = []
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        for kill in range(2):
            before = sum(consumer.end_offsets(tps).values())
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if sum(consumer.end_offsets(tps).values()) > before:
                    break
                time.sleep(0.02)
            time.sleep(rng.uniform(0.05, 0.4))
            assert proc.poll() is None, "the adapter finished before it could be killed"
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            on_topic = _topic_events(settings)
            at_kill.append(len(on_topic))
            # changes while the adapter is down
            if kill == 0:
                conn.execute("update cfg.cfg_person set last_name = 'Down' where dbid = 100001")
                conn.execute("delete from cfg.cfg_person where dbid = 101200")  # probably not published yet
            else:
                conn.execute("update cfg.cfg_skill set name = 'Selling' where dbid = 101")  # fan-out
                conn.execute("delete from cfg.cfg_person where dbid = 100002")
                # an object already on the topic is deleted while the adapter is down
                published_code = min(e["dbid"] for e in on_topic if e["object_type"] == "ActionCode")
                conn.execute("delete from cfg.cfg_action_code where dbid = %s", (published_code,))
    consumer.close()
    assert at_kill[0] > 0 and at_kill[-1] < 3633, at_kill

    done = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    events = _topic_events(settings)
    versions = _versions(events)
    assert [k for k, n in versions.items() if n > 1] == []  # nothing twice
    assert len({e["id"] for e in events}) == len(events)
    assert sorted(e["seq"] for e in events) == list(range(1, len(events) + 1))  # gap-free seq
    latest = _latest_changes(cfg_dsn)
    existing = _existing(cfg_dsn)
    published_objects = {(t, d) for t, d, _ in versions}
    for obj in existing:  # nothing missing: every object at its latest version
        assert (*obj, latest[obj][0]) in versions, obj
    deletes = {(e["object_type"], e["dbid"]): e for e in events if e["type"] == "ConfigDelete"}
    gone = published_objects - existing
    assert set(deletes) == gone  # a deleted object that was published has its ConfigDelete ...
    for obj in gone:
        assert deletes[obj]["config_version"] == latest[obj][0]  # ... at the deletion's version
    assert (
        deletes[("ActionCode", published_code)]["config_version"] == latest[("ActionCode", published_code)][0]
    )
    down = [e for e in events if (e["object_type"], e["dbid"]) == ("Person", 100001)]
    assert down[-1]["attributes"]["last_name"] == "Down"
    assert down[-1]["config_version"] == latest[("Person", 100001)][0]
    selling = Counter(
        e["dbid"]
        for e in events
        if e["type"] == "ConfigUpsert" and "Selling" in e["attributes"].get("skills", {})
    )
    with psycopg.connect(cfg_dsn) as conn:
        with_skill = {
            d for (d,) in conn.execute("select person_dbid from cfg.cfg_skill_level where skill_dbid = 101")
        }
    assert len(with_skill) > 400 and set(selling) == with_skill and set(selling.values()) == {1}

    # a restart with no change publishes nothing; the events land in staging exactly once
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert len(_topic_events(settings)) == len(events)
    ing = KafkaIngester(settings, settings.pg_dsn, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    try:
        stats = ing.run(until_drained=True)
    finally:
        ing.close()
    assert (stats.events, stats.rejects) == ({"gca-cfg": len(events)}, 0)


def test_restart_after_a_batch_cut_short_on_one_partition(settings: Settings, cfg_dsn: str):
    """A kill during a flush can leave a batch on some partitions and not on others."""
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        load_demo(conn, "t1", agents=3)  # 42 objects: batches of 10
    producer = make_producer(settings, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    full = settings.model_copy(
        update={"topics": settings.topics.model_copy(update={"gca_cfg": "full-" + uuid.uuid4().hex})}
    )
    cut = settings.model_copy(
        update={"topics": settings.topics.model_copy(update={"gca_cfg": "cut-" + uuid.uuid4().hex})}
    )
    producer.create_topics([full.topics.gca_cfg, cut.topics.gca_cfg], 3)
    adapter = _adapter(full, cfg_dsn, batch_size=10)
    try:
        adapter.run(once=True)
    finally:
        _close(adapter)
    consumer = make_consumer(settings, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    tps = [(full.topics.gca_cfg, p) for p in range(3)]
    got = _read_ranges(consumer, {tp: (0, None) for tp in tps}, hint_ends=consumer.end_offsets(tps))
    consumer.close()
    sent = sorted(
        ((orjson.loads(m.value), m.partition) for msgs in got.values() for m in msgs),
        key=lambda x: x[0]["seq"],
    )
    assert [e["seq"] for e, _ in sent] == list(range(1, 43))
    # the copy: batches 1 and 2 whole, batch 3 without what went to one partition, no batch 4 and 5
    lost_partition = sent[25][1]
    kept = [(e, p) for e, p in sent if e["seq"] <= 20 or (e["seq"] <= 30 and p != lost_partition)]
    for e, _ in kept:
        producer.send(cut.topics.gca_cfg, f"{e['object_type']}:{e['dbid']}".encode(), orjson.dumps(e))
    producer.flush()
    producer.close()
    lost = [e for e, p in sent if 20 < e["seq"] <= 30 and p == lost_partition]
    assert lost and len(kept) < 30

    adapter = _adapter(cut, cfg_dsn, batch_size=10)
    try:
        pos = adapter.start()
        at_start = (pos.watermark, pos.seq_through, pos.holes, len(pos.tail))
        stats = adapter.poll()
    finally:
        _close(adapter)
    third = [e for e, _ in sent if 20 < e["seq"] <= 30]
    assert at_start == (sent[19][0]["config_version"], 20, [e["seq"] for e in lost], 10 - len(lost))
    assert (stats.upserts, stats.already_published) == (len(lost) + 12, 10 - len(lost))
    assert third[0]["published_through"] == sent[19][0]["config_version"]
    events = _topic_events(cut)
    assert _versions(events) == _versions([e for e, _ in sent])  # the same 42 versions, each once
    assert sorted(e["seq"] for e in events) == list(range(1, 43))  # the lost numbers were reused
