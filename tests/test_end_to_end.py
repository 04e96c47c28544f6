"""The whole path with simulated events: archives and Kafka, redundant sources, shuffled and
late delivery, several cycles -> staging holds exactly the logical events, whatever happened."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg

from cli.publish import publish
from infomart import embedded
from infomart.settings import LOGICAL_TOPICS, Settings
from ingest.archive_ingester import ArchiveIngester, find_archives
from ingest.kafka_client import make_producer
from ingest.kafka_ingester import KafkaIngester
from pipeline.transform import transform
from simulator import SimulationConfig, simulate, write_ndjson
from tests.test_staging import STAGING, _staging_rows

STAGING_OF = dict(zip(LOGICAL_TOPICS, STAGING, strict=True))


def _logical_ids(deliveries) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    ids: dict[str, set[str]] = {t: set() for t in LOGICAL_TOPICS}
    for d in deliveries:
        ids[d.topic].add(orjson.loads(d.value)["id"])
    return ids


def _staging_ids(dsn: str) -> dict[str, set[str]]:
    with psycopg.connect(dsn) as conn:
        return {
            t: {r[0] for r in conn.execute(f"select event_id from staging.{m}")}
            for t, m in STAGING_OF.items()
        }


def test_messy_delivery_over_two_paths_gives_exactly_the_logical_events(settings: Settings, tmp_path: Path):
    dsn: str = settings.pg_dsn  # type: ignore[assignment]
    messy = simulate(
        SimulationConfig(
            seed=11, agents=12, duration_hours=2, redundant_sources=True, shuffle="full", late_share=0.05
        )
    )
    clean = simulate(SimulationConfig(seed=11, agents=12, duration_hours=2))
    expected = _logical_ids(clean.deliveries)
    assert _logical_ids(messy.deliveries) == expected  # the delivery options change delivery, not events
    assert len(messy.deliveries) > sum(len(v) for v in expected.values())  # there are duplicates to remove

    # first half of the messy stream through Kafka, with a transform; then all of it as archives
    half = len(messy.deliveries) // 2
    producer = make_producer(settings, settings.kafka_bootstrap_servers, client="confluent")  # type: ignore[arg-type]
    publish(messy.deliveries[:half], producer, settings.topics.by_logical(), partitions=3)
    producer.close()
    ing = KafkaIngester(settings, dsn, settings.kafka_bootstrap_servers)  # type: ignore[arg-type]
    ing.run(until_drained=True)
    ing.close()
    transform(settings, dsn, tests=False)
    write_ndjson(messy, tmp_path / "archive", gzip=True)
    arch = ArchiveIngester(settings, dsn)
    stats = arch.ingest(find_archives([tmp_path / "archive"], settings))
    arch.close()
    assert stats.rejects == 0
    result = transform(settings, dsn)  # with the data tests
    assert not result.failures()
    assert _staging_ids(dsn) == expected
    incremental = _staging_rows(dsn)

    # the clean stream in a fresh full refresh gives the very same rows
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("voice_callthread", "voice_agentstate", "digital_itx", "digital_agentstate"):
            conn.execute(f"truncate raw.{table}")
        conn.execute("truncate raw.voice_outbound, raw.gca_cfg, raw.archive_files")
    write_ndjson(clean, tmp_path / "clean")
    arch = ArchiveIngester(settings, dsn)
    arch.ingest(find_archives([tmp_path / "clean"], settings))
    arch.close()
    transform(settings, dsn, full_refresh=True, tests=False)
    assert _staging_rows(dsn) == incremental


def test_readme_demo_runs_on_its_own_embedded_services(tmp_path: Path):
    """The README's first command, minus the set-up that ./dev does: `infomart demo`. Then the
    README's configuration commands, as a new user tries them: `config-db init --demo`, the
    adapter, an agent moved to another group in the Configuration Database, the adapter again,
    `ingest kafka`, `transform`: the membership changes at the change time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFOMART_", "PG"))}
    home = Path("/tmp") / f"imdemo-{os.getpid()}"
    env["INFOMART_HOME"] = str(home)
    cmd = [sys.executable, "-m", "cli.main"]

    def run(*args: str) -> str:
        done = subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (args, done.stdout[-3000:] + done.stderr[-3000:])
        return " ".join(done.stdout.split())  # rich wraps lines at 80 columns

    try:
        stdout = run("demo", "--hours", "1", "--agents", "6")
        assert "staging.stg_events__voice_callthread" in stdout
        assert "infomart.interaction_resource_fact" in stdout
        assert "infomart.sm_res_state_fact" in stdout
        assert "rejected: 0" in stdout
        assert "demo finished" in stdout
        # 6 agents: 33 objects and a DN, a Place and a Person per agent, through the adapter
        assert "configuration: 51 simulated changes, 51 objects changed in the Configuration" in stdout
        assert "│ gca-cfg │ 51 │" in stdout

        assert "demo data set not loaded" in run("config-db", "init", "--demo")
        run("config-adapter", "--once")
        cfg_dsn = embedded.start_embedded_postgres(home, "cfgdb_t1")
        with psycopg.connect(cfg_dsn, autocommit=True) as conn:
            groups = conn.execute(
                "select g.name from cfg.cfg_agent_group_member as m"
                " inner join cfg.cfg_agent_group as g on m.group_dbid = g.dbid where m.person_dbid = 100002"
            ).fetchall()
            assert groups == [("AG_Support",)]
            conn.execute("update cfg.cfg_agent_group_member set group_dbid = 201 where person_dbid = 100002")
            moved_at = conn.execute(
                "select changed_at from cfg.change_log order by config_version desc limit 1"
            ).fetchone()[0]  # type: ignore[index]
        run("config-adapter", "--once")
        run("ingest", "kafka")
        run("transform")
        dsn = embedded.start_embedded_postgres(home, "infomart_t1")
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                "select g.group_name, r.start_ts, r.end_ts from infomart.resource_group_fact as r"
                " inner join infomart.group_ as g on r.group_key = g.group_key"
                " where r.resource_cfg_dbid = 100002 order by r.start_ts"
            ).fetchall()
        start = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        assert rows == [("AG_Support", start, moved_at), ("AG_Sales", moved_at, None)]
    finally:
        subprocess.run([*cmd, "embedded", "stop"], env=env, capture_output=True, timeout=60)
        subprocess.run(["rm", "-rf", env["INFOMART_HOME"]], check=False)
