"""Real services for the tests: an embedded PostgreSQL and a tansu broker on loopback.

Each test that needs a database gets a fresh one on the shared server, so tests never see
each other's rows. Set INFOMART_TEST_PG_DSN / INFOMART_TEST_KAFKA to use servers of your own.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
import pytest
from psycopg import sql

from infomart import embedded
from infomart.settings import Settings

# keep the developer's own INFOMART_* settings out of the tests
for _k in [k for k in os.environ if k.startswith("INFOMART_") and not k.startswith("INFOMART_TEST_")]:
    del os.environ[_k]


#: the test files that take longest (seconds on 2 cores, `pytest --durations`), started first so
#: that the two workers end together; the others follow in name order
LONGEST_FIRST = (
    "test_voice_facts.py",  # 470
    "test_cycle_changes.py",  # 330
    "test_end_to_end.py",  # 275
    "test_queue_thresholds.py",  # 190
    "test_config_dimensions.py",  # 190
    "test_lint.py",  # 175
    "test_gdpr.py",  # 115
    "test_aggregates.py",  # 115
    "test_discards.py",  # 110
    "test_voice_scenarios.py",  # 120
    "test_reports.py",  # 100
    "test_staging.py",  # 100
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: (rank.get(item.path.name, len(rank)), item.path.name))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Admin DSN of a PostgreSQL server (embedded unless INFOMART_TEST_PG_DSN is set)."""
    given = os.environ.get("INFOMART_TEST_PG_DSN")
    if given:
        yield given
        return
    home = Path(tempfile.mkdtemp(prefix="imt-", dir="/tmp"))
    dsn = embedded.start_embedded_postgres(home, "postgres")
    yield dsn
    embedded.stop_embedded_postgres(home)
    shutil.rmtree(home, ignore_errors=True)


_db_counter = itertools.count()


@pytest.fixture
def pg_dsn(pg_server: str) -> Iterator[str]:
    """DSN of a brand-new database, dropped after the test."""
    name = f"t_{os.getpid()}_{next(_db_counter)}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(pg_server)
    info["dbname"] = name
    yield make_conninfo(**info)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture
def cfg_dsn(pg_server: str) -> Iterator[str]:
    """A brand-new database for a Configuration Database, dropped after the test."""
    name = f"cfg_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(pg_server)
    info["dbname"] = name
    yield make_conninfo(**info)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Kafka-compatible broker on loopback (tansu, in-memory) unless INFOMART_TEST_KAFKA is set."""
    given = os.environ.get("INFOMART_TEST_KAFKA")
    if given:
        yield given
        return
    proc, broker = embedded.start_tansu(log_file=tmp_path_factory.mktemp("tansu") / "tansu.log")
    yield broker.bootstrap
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def topic_prefix() -> str:
    """Unique topic names per test on the shared broker."""
    return f"t{uuid.uuid4().hex[:8]}-"


@pytest.fixture
def settings(tmp_path: Path, pg_dsn: str, kafka_bootstrap: str, topic_prefix: str) -> Settings:
    topics = {
        t.replace("-", "_"): f"{topic_prefix}{t}"
        for t in (
            "voice-callthread",
            "voice-agentstate",
            "digital-itx",
            "digital-agentstate",
            "voice-outbound",
            "gca-cfg",
        )
    }
    return Settings(
        home=tmp_path / "home",
        pg_dsn=pg_dsn,
        kafka_bootstrap_servers=kafka_bootstrap,
        tenant="t1",
        topics=topics,  # type: ignore[arg-type]
        batch_size=2000,
        metrics_port=0,
    )


# ------------------------------------------------------------------ hand-made events
class EventFactory:
    """Builds valid contract events with unique ids and per-source sequence numbers."""

    def __init__(self, tenant: str = "t1") -> None:
        self.tenant = tenant
        self.seq: dict[str, int] = {}
        self.n = 0

    def make(self, type_: str, ts: str, source: str = "sip-a", **fields: object) -> dict:
        self.n += 1
        self.seq[source] = self.seq.get(source, 0) + 1
        return {
            "id": f"ev-{uuid.uuid4().hex[:12]}-{self.n}",
            "tenant": self.tenant,
            "source": source,
            "seq": self.seq[source],
            "ts": ts,
            "type": type_,
            "v": 1,
            **fields,
        }

    @staticmethod
    def dumps(event: dict) -> bytes:
        return orjson.dumps(event)


@pytest.fixture
def events() -> EventFactory:
    return EventFactory()


def count(dsn: str, query: str, *args: object) -> int:
    with psycopg.connect(dsn) as conn:
        return int(conn.execute(query, args or None).fetchone()[0])  # type: ignore[index]
