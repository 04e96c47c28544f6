"""`infomart run` rides through outages (issue 11): PostgreSQL stopped and restarted, the broker
stopped and restarted (the in-memory broker loses its topics; the same events are published
again), while the loop runs. Nothing is lost, nothing lands twice, the loop never stops, and
``gim_server_state`` goes negative during the outage and back to 1.

The PostgreSQL server and the broker are this test's own (the shared ones are not stopped). The
transform step is a stand-in that only reads the database (it fails while PostgreSQL is down,
like dbt does): what is under test is the loop and the ingester; the transform's own failures
take the same path (tests/test_cli_run.py, tests/test_cycle_changes.py)."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import psycopg
import pytest

from cli.publish import Delivery, publish
from infomart import embedded, metrics
from infomart.settings import Settings
from ingest.kafka_client import make_producer
from ingest.kafka_ingester import KafkaIngester
from pipeline import cycle
from pipeline.cycle import CycleReport, run_cycles
from pipeline.transform import TransformResult
from simulator import SimulationConfig, simulate


@pytest.fixture
def own_postgres() -> Iterator[tuple[Path, str]]:
    home = Path(tempfile.mkdtemp(prefix="imt-outage-", dir="/tmp"))
    dsn = embedded.start_embedded_postgres(home, "outage")
    yield home, dsn
    embedded.stop_embedded_postgres(home)
    shutil.rmtree(home, ignore_errors=True)


def _wait(what: str, done: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


EVENT_TABLES = ("voice_callthread", "voice_agentstate", "digital_itx", "digital_agentstate", "voice_outbound")


def _landed(dsn: str) -> tuple[int, int]:
    """(rows, distinct event ids) over the raw event tables; (-1, -1) while PostgreSQL is down."""
    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            tables = (
                "voice_callthread",
                "voice_agentstate",
                "digital_itx",
                "digital_agentstate",
                "voice_outbound",
            )
            landed = " union all ".join(f"select payload from raw.{t}" for t in tables)
            row = conn.execute(
                f"select count(*), count(distinct payload->>'id') from ({landed}) as landed"
            ).fetchone()
            return int(row[0]), int(row[1])  # type: ignore[index]
    except psycopg.Error:
        return -1, -1


def test_run_rides_through_a_postgres_and_a_broker_restart(
    own_postgres: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_home, dsn = own_postgres
    port = embedded.free_port()
    broker, _ = embedded.start_tansu(port=port)
    bootstrap = f"127.0.0.1:{port}"
    sim = simulate(SimulationConfig(seed=11, agents=4, duration_hours=1))
    deliveries: list[Delivery] = [d for d in sim.deliveries if d.topic != "gca-cfg"]
    half = len(deliveries) // 2
    settings = Settings(
        home=tmp_path / "home",
        pg_dsn=dsn,
        kafka_bootstrap_servers=bootstrap,
        metrics_port=0,
        cycle_seconds=1,
        outage_retry_max_seconds=2,
        batch_size=500,
    )
    topics = settings.topics.by_logical()

    def send(batch: list[Delivery]) -> None:
        producer = make_producer(settings, bootstrap)
        publish(batch, producer, topics, partitions=2)
        producer.close()

    def stand_in_transform(settings: Settings, dsn: str, **_: object) -> TransformResult:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            conn.execute("select count(*) from raw.voice_callthread")
        return TransformResult(True, 0.0)

    monkeypatch.setattr(cycle, "transform", stand_in_transform)
    reports: list[CycleReport] = []
    states: list[float] = []

    def on_cycle(report: CycleReport) -> None:
        reports.append(report)
        states.append(metrics.GIM_SERVER_STATE._value.get())  # type: ignore[attr-defined]

    send(deliveries[:half])
    ingester = KafkaIngester(settings, dsn, bootstrap)
    loop = threading.Thread(target=run_cycles, args=(settings, dsn, ingester), kwargs={"on_cycle": on_cycle})
    loop.start()
    try:
        _wait("the first half to land", lambda: _landed(dsn)[0] == half)

        # PostgreSQL goes away while events keep arriving
        embedded.stop_embedded_postgres(pg_home)
        send(deliveries[half:])
        _wait("two failed cycles", lambda: sum(1 for r in reports if r.error is not None) >= 2)
        assert min(states) <= -2  # failing twice (or more) in a row
        assert {r.failed_step for r in reports if r.error is not None} <= {"ingest", "transform"}
        embedded.start_embedded_postgres(pg_home, "outage")
        _wait("everything to land after the restart", lambda: _landed(dsn)[0] >= len(deliveries))
        time.sleep(2)
        assert _landed(dsn) == (len(deliveries), len(deliveries))  # exactly once through the outage

        # the broker restarts empty: the same events again change nothing, new ones land
        broker.terminate()
        broker.wait(10)
        before = len(reports)
        broker, _ = embedded.start_tansu(port=port)
        send(deliveries)
        _wait("cycles after the broker restart", lambda: len(reports) >= before + 3)
        extra = simulate(SimulationConfig(seed=12, agents=2, duration_hours=1))
        more = [d for d in extra.deliveries if d.topic != "gca-cfg"][:40]
        send(more)
        total = len(deliveries) + len(more)
        _wait("the new events after the broker restart", lambda: _landed(dsn)[1] >= total)
        time.sleep(2)  # a few more cycles: nothing else may land
    finally:
        ingester.stop.set()
        loop.join(30)
        ingester.close()
        broker.terminate()
        broker.wait(10)
    assert not loop.is_alive()
    rows, distinct = _landed(dsn)
    # none lost. The restarted in-memory broker's topics start again at 0: a consumer whose stored
    # offset is past their end is reset to the earliest and may land the republished copies
    # again, which staging keeps once (keep_one_copy, tests/test_staging.py)
    assert distinct == total
    assert rows >= distinct
    assert states[-1] == 1  # running again
    assert reports[-1].error is None


def test_config_adapter_rides_through_a_configuration_database_restart(
    own_postgres: tuple[Path, str], settings: Settings
) -> None:
    """Following, the adapter's polls fail while its Configuration Database is down; it reconnects,
    takes its lock again, and publishes the change made after the restart, each change once."""
    from cli.config_demo import load_demo
    from ingest.config.adapter import ConfigAdapter, PollStats
    from ingest.kafka_client import make_consumer
    from tests.test_config_adapter import _topic_events

    pg_home, _ = own_postgres
    cfg_dsn = embedded.start_embedded_postgres(pg_home, "cfg")
    with psycopg.connect(cfg_dsn, autocommit=True) as conn:
        load_demo(conn, settings.tenant, agents=2)
    bootstrap = settings.kafka_bootstrap_servers
    assert bootstrap is not None
    quick = settings.model_copy(update={"outage_retry_max_seconds": 1})
    adapter = ConfigAdapter(
        quick, cfg_dsn, make_producer(quick, bootstrap), make_consumer(quick, bootstrap), None
    )
    polls: list[PollStats] = []
    loop = threading.Thread(
        target=adapter.run, kwargs={"interval_s": 0.3, "on_poll": lambda s, _: polls.append(s)}
    )
    loop.start()
    try:
        _wait("the initial load", lambda: bool(polls) and polls[0].published > 0)
        initial = polls[0].published
        embedded.stop_embedded_postgres(pg_home)
        seen = len(polls)
        time.sleep(2.5)  # polls fail meanwhile (logged, retried)
        assert len(polls) == seen  # no poll succeeded without its database
        assert loop.is_alive()
        cfg_dsn = embedded.start_embedded_postgres(pg_home, "cfg")
        with psycopg.connect(cfg_dsn, autocommit=True) as conn:
            conn.execute("update cfg.cfg_skill set name = 'Skill renamed after the outage' where dbid = 101")
        _wait("the change after the restart", lambda: sum(p.published for p in polls[seen:]) > 0)
    finally:
        adapter.stop.set()
        loop.join(30)
        adapter.close()
        adapter.producer.close()
        adapter.consumer.close()
    assert not loop.is_alive()
    events = _topic_events(settings)
    assert len(events) == len({e["id"] for e in events}) == initial + sum(p.published for p in polls[1:])
    assert any(b"Skill renamed after the outage" in orjson.dumps(e) for e in events)
