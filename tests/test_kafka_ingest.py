"""Kafka -> raw tables: offsets in the same transaction, resume, rejects, and SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import orjson
import psycopg
import pytest

from cli.publish import Delivery, publish
from infomart.settings import Settings
from ingest.kafka_client import make_producer
from ingest.kafka_ingester import KafkaIngester
from ingest.landing import ensure_raw_schema
from tests.conftest import EventFactory, count


def _calls(events: EventFactory, n: int) -> list[Delivery]:
    out = []
    for i in range(n):
        call = f"c-{i}"
        e = events.make("CallEnded", f"2026-11-23T10:00:{i % 60:02d}.{i % 1000:03d}Z", call_id=call)
        out.append(Delivery("voice-callthread", call, orjson.dumps(e)))
    return out


def _publish(settings: Settings, deliveries: list[Delivery], client: str = "confluent") -> None:
    producer = make_producer(settings, settings.kafka_bootstrap_servers, client=client)  # type: ignore[arg-type]
    publish(deliveries, producer, settings.topics.by_logical(), partitions=3)
    producer.close()


@pytest.mark.parametrize("client", ["kafka-python", "confluent"])
def test_kafka_lands_everything_and_resumes_from_stored_offsets(
    settings: Settings, events: EventFactory, client: str
):
    settings = settings.model_copy(update={"kafka_client": client})
    first = _calls(events, 500)
    _publish(settings, first)
    ing = KafkaIngester(settings, settings.pg_dsn, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    stats = ing.run(until_drained=True)
    ing.close()
    assert stats.events == {"voice-callthread": 500}
    dsn = settings.pg_dsn
    # the stored offsets cover exactly what landed, per partition
    with psycopg.connect(dsn) as conn:  # type: ignore[arg-type]
        per_partition = dict(
            conn.execute("select kafka_partition, count(*) from raw.voice_callthread group by 1").fetchall()
        )
        offsets = dict(
            conn.execute(
                "select kafka_partition, next_offset from raw.consumer_offsets where consumer = %s",
                (settings.offsets_consumer,),
            ).fetchall()
        )
    assert per_partition == offsets

    # a new process resumes after the stored offsets: only the new events land
    _publish(settings, _calls(events, 200))
    ing = KafkaIngester(settings, dsn, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    stats = ing.run(until_drained=True)
    ing.close()
    assert stats.total == 200
    assert count(dsn, "select count(*) from raw.voice_callthread") == 700  # type: ignore[arg-type]
    assert count(dsn, "select count(distinct payload->>'id') from raw.voice_callthread") == 700  # type: ignore[arg-type]


def test_a_bounded_slice_returns_under_unending_traffic(settings: Settings, events: EventFactory):
    """A cycle's ingest (``slice_seconds``) takes what the topics held when it began and returns,
    though the publisher never stops: the transform of `infomart run` still gets its turn."""
    _publish(settings, _calls(events, 300))
    stop = threading.Event()

    def publish_forever() -> None:
        producer = make_producer(settings, settings.kafka_bootstrap_servers, client="confluent")  # type: ignore[arg-type]
        n = 1000
        while not stop.is_set():
            publish(_calls(events, n + 20)[n:], producer, settings.topics.by_logical(), partitions=3)
            n += 20
            time.sleep(0.05)
        producer.close()

    publisher = threading.Thread(target=publish_forever, daemon=True)
    publisher.start()
    try:
        time.sleep(1.0)
        ing = KafkaIngester(settings, settings.pg_dsn, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
        first = ing.run(until_drained=True, slice_seconds=30.0)
        still_publishing = publisher.is_alive()
        second = ing.run(until_drained=True, slice_seconds=30.0)
        ing.close()
    finally:
        stop.set()
        publisher.join()
    assert still_publishing  # the slice ended at the offsets of its start, not at a drained topic
    assert first.total >= 300 and second.total > 0  # the next slice takes what arrived meanwhile
    dsn = settings.pg_dsn
    assert count(dsn, "select count(*) from raw.voice_callthread") == first.total + second.total  # type: ignore[arg-type]
    # every landed event carries its event time, the day partition it lives in
    assert (
        count(
            dsn,  # type: ignore[arg-type]
            "select count(*) from raw.voice_callthread"
            " where event_ts is distinct from (payload->>'ts')::timestamptz",
        )
        == 0
    )
    # their day (2026-11-23) has no partition yet: the default partition took them, none refused
    assert count(dsn, "select count(*) from raw.voice_callthread_default") == first.total + second.total  # type: ignore[arg-type]


def test_kafka_rejects_keep_their_coordinates(settings: Settings, events: EventFactory):
    good = events.make("AgentReady", "2026-11-23T10:00:00.000Z", agent_id="a1")
    bad_type = events.make("CallEnded", "2026-11-23T10:00:00.000Z", call_id="c-1")  # wrong topic
    deliveries = [
        Delivery("voice-agentstate", "a1", orjson.dumps(good)),
        Delivery("voice-agentstate", "a1", b"not json at all"),
        Delivery("voice-agentstate", "a1", orjson.dumps(bad_type)),
    ]
    _publish(settings, deliveries)
    ing = KafkaIngester(settings, settings.pg_dsn, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    stats = ing.run(until_drained=True)
    ing.close()
    assert stats.events == {"voice-agentstate": 1}
    assert stats.rejects == 2
    with psycopg.connect(settings.pg_dsn) as conn:  # type: ignore[arg-type]
        rows = conn.execute(
            "select topic, split_part(reason, ':', 1), kafka_partition, kafka_offset, raw_bytes"
            " from raw.rejects order by kafka_offset"
        ).fetchall()
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("voice-agentstate", "invalid_json", 1),
        ("voice-agentstate", "unknown_type", 2),
    ]
    assert bytes(rows[0][4]) == b"not json at all"
    assert count(settings.pg_dsn, "select max(next_offset) from raw.consumer_offsets") == 3  # type: ignore[arg-type]


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOMART_")}
    env.update(
        {
            "INFOMART_PG_DSN": settings.pg_dsn or "",
            "INFOMART_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers or "",
            "INFOMART_HOME": str(settings.home),
            "INFOMART_BATCH_SIZE": "500",
            "INFOMART_METRICS_PORT": "0",
        }
    )
    for logical, name in settings.topics.by_logical().items():
        env[f"INFOMART_TOPICS__{logical.replace('-', '_').upper()}"] = name
    return env


def test_sigkill_at_random_points_loses_and_duplicates_nothing(settings: Settings, events: EventFactory):
    n = 30_000
    deliveries = _calls(events, n)
    _publish(settings, deliveries)
    expected = {orjson.loads(d.value)["id"] for d in deliveries}
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    with psycopg.connect(dsn, autocommit=True) as conn:
        ensure_raw_schema(conn)
    rng = random.Random(7)
    cmd = [sys.executable, "-m", "cli.main", "ingest", "kafka", "--until-drained"]
    kills = 0
    landed_at_kill = []
    while kills < 3:
        before = count(dsn, "select count(*) from raw.voice_callthread") if kills else 0
        proc = subprocess.Popen(cmd, env=_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # wait until this run has landed something, then kill it at a random moment
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if count(dsn, "select count(*) from raw.voice_callthread") > before:
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is not None:
            break  # finished before we could kill it: the load is too small for this machine
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        landed_at_kill.append(count(dsn, "select count(*) from raw.voice_callthread"))
    assert kills == 3, f"the ingester finished before 3 kills (landed at kills: {landed_at_kill})"
    assert landed_at_kill[-1] < n, "the kills must happen during the load"

    done = subprocess.run(cmd, env=_env(settings), capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    with psycopg.connect(dsn) as conn:
        ids = [r[0] for r in conn.execute("select payload->>'id' from raw.voice_callthread")]
        dup_coords = conn.execute(
            "select count(*) from (select kafka_partition, kafka_offset from raw.voice_callthread"
            " group by 1, 2 having count(*) > 1) d"
        ).fetchone()[0]  # type: ignore[index]
    assert len(ids) == n, f"landed {len(ids)} rows for {n} events (kills at {landed_at_kill})"
    assert set(ids) == expected
    assert dup_coords == 0


def _landed(dsn: str) -> int:
    return count(dsn, "select count(*) from raw.voice_callthread")


def test_a_consumer_group_shares_the_partitions_and_a_killed_member_loses_and_doubles_nothing(
    settings: Settings, events: EventFactory
):
    """Two `infomart ingest kafka --follow` processes in one consumer group: the group gives each
    a share of the partitions; one is killed mid-load (SIGKILL), the group gives its partitions to
    the other, which resumes them at the offsets stored with the rows: every event lands once."""
    n = 40_000
    deliveries = _calls(events, n)
    producer = make_producer(settings, settings.kafka_bootstrap_servers, client="confluent")  # type: ignore[arg-type]
    publish(deliveries[: n // 4], producer, settings.topics.by_logical(), partitions=4)
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    with psycopg.connect(dsn, autocommit=True) as conn:
        ensure_raw_schema(conn)
    env = _env(settings) | {
        "INFOMART_KAFKA_GROUP_ID": "infomart-ingest",
        "INFOMART_BATCH_SIZE": "200",
        "INFOMART_LOG_FORMAT": "json",  # one line per record, on stdout
    }
    cmd = [sys.executable, "-m", "cli.main", "--verbose", "ingest", "kafka", "--follow"]
    settings.home.mkdir(parents=True, exist_ok=True)
    logs = [settings.home / f"member{i}.log" for i in range(2)]
    members = [
        subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.DEVNULL) for log in logs
    ]
    try:
        deadline = time.monotonic() + 120  # both joined and landing
        while _landed(dsn) < n // 4 and time.monotonic() < deadline:
            time.sleep(0.1)  # the first quarter landed: both members have joined
        rest = threading.Thread(
            target=publish, args=(deliveries[n // 4 :], producer, settings.topics.by_logical(), 4)
        )
        rest.start()
        while _landed(dsn) < n // 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        members[0].send_signal(signal.SIGKILL)  # mid-load, most likely mid-batch
        members[0].wait()
        killed_at = _landed(dsn)
        rest.join()
        deadline = time.monotonic() + 180
        while _landed(dsn) < n and time.monotonic() < deadline:
            time.sleep(0.25)
        time.sleep(2)  # anything more would be a duplicate
    finally:
        producer.close()
        for member in members:
            if member.poll() is None:
                member.send_signal(signal.SIGTERM)
                try:
                    member.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    member.kill()
    assert killed_at < n, "the kill must happen during the load"
    survivor_log = logs[1].read_text()
    with psycopg.connect(dsn) as conn:
        ids = [r[0] for r in conn.execute("select payload->>'id' from raw.voice_callthread")]
        partitions = {
            p: o
            for p, o in conn.execute(
                "select kafka_partition, next_offset from raw.consumer_offsets where consumer = %s",
                (settings.offsets_consumer,),
            )
        }
        landed = dict(
            conn.execute("select kafka_partition, count(*) from raw.voice_callthread group by 1").fetchall()
        )
    assert len(ids) == n and set(ids) == {orjson.loads(d.value)["id"] for d in deliveries}
    assert partitions == landed  # the stored offsets are exactly what landed, per partition
    # the survivor had a share first, then every partition once the group gave it the killed one's
    assignments = [
        line for line in survivor_log.splitlines() if "consumer group infomart-ingest: assigned" in line
    ]
    assert len(assignments) >= 2, survivor_log[-3000:]
    assert all(f"[{p}]" in assignments[-1] for p in range(4)), assignments
    assert any(not all(f"[{p}]" in a for p in range(4)) for a in assignments), assignments  # a share
