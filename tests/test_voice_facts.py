"""A simulated day of 20,000+ calls and 100 agents: the marts and the subhr aggregates
(ag2_queue_subhr, ag2_agent_subhr, ag2_i_sess_state_subhr) equal the simulator's ground-truth
ledger row by row, and the same day delivered messily in 10 incremental cycles (as `infomart run`
runs them: only the models whose sources have new rows) gives exactly the
marts and aggregates of one clean full refresh (the messy day's routed parties are linked to the queues and
routing points only by Diverted, the clean day's by initiator_party_id too)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from infomart.settings import LOGICAL_TOPICS, Settings
from ingest.archive_ingester import ArchiveIngester, find_archives
from pipeline.transform import transform
from simulator import SimulationConfig, simulate, write_ndjson
from tests import ledger_compare

# digital and outbound volumes above the defaults: at least 5,000 digital interactions and 5,000
# dial attempts in the day (issue 14)
DAY = dict(
    seed=5,
    agents=100,
    duration_hours=24,
    calls_per_hour=833,
    chats_per_hour=250,
    emails_per_hour=60,
    dials_per_hour=220,
)


def _database(pg_server: str) -> str:
    name = f"day_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    info = conninfo_to_dict(pg_server)
    info["dbname"] = name
    return make_conninfo(**info)


def _settings(dsn: str, home: Path, bootstrap: str) -> Settings:
    # the whole day lands within minutes here: a look-back of 0 (landings commit in order, one
    # ingester) keeps each cycle to its own new rows, as in production where the look-back only
    # covers ingest lag; re-reading within the look-back is tested in test_staging.py
    return Settings(
        home=home,
        pg_dsn=dsn,
        kafka_bootstrap_servers=bootstrap,
        metrics_port=0,
        batch_size=20_000,
        lookback_minutes=0,
    )


def _land(settings: Settings, folder: Path) -> None:
    ing = ArchiveIngester(settings, settings.pg_dsn)  # type: ignore[arg-type]
    try:
        ing.ingest(find_archives([folder], settings))
    finally:
        ing.close()


@pytest.fixture(scope="module")
def clean_day(tmp_path_factory: pytest.TempPathFactory, pg_server: str, kafka_bootstrap: str):  # type: ignore[no-untyped-def]
    """The day delivered cleanly and built with one full refresh: (dsn, ledger folder)."""
    tmp = tmp_path_factory.mktemp("clean_day")
    result = simulate(SimulationConfig(**DAY))  # type: ignore[arg-type]
    write_ndjson(result, tmp / "events")
    dsn = _database(pg_server)
    settings = _settings(dsn, tmp / "home", kafka_bootstrap)
    _land(settings, tmp / "events")
    started = time.perf_counter()
    transform(settings, dsn, full_refresh=True, tests=False)
    seconds = time.perf_counter() - started
    print(f"\nclean day: {len(result.deliveries):,} events, full refresh in {seconds:.1f} s")
    return dsn, tmp / "events" / "ledger"


def test_simulated_day_equals_the_ledger(clean_day):  # type: ignore[no-untyped-def]
    dsn, ledger = clean_day
    inbound = sum(
        1 for line in (ledger / "interactions.ndjson").read_text().splitlines() if '"Inbound"' in line
    )
    assert inbound >= 20_000, f"the day must have at least 20,000 inbound calls, it has {inbound}"
    irf = ledger_compare.compare_irf(dsn, ledger)
    msf = ledger_compare.compare_msf(dsn, ledger)
    ixn = ledger_compare.compare_interactions(dsn, ledger)
    print(f"\nequal to the ledger: {irf:,} IRF rows, {msf:,} MSF rows, {ixn:,} INTERACTION_FACT rows")
    assert irf > 20_000 and msf > 20_000 and ixn > 20_000


def test_simulated_day_digital_facts_equal_the_ledger(clean_day):  # type: ignore[no-untyped-def]
    """MEASURES.md "Digital interactions": every offer's IRF row and every stay's MSF row of the
    day's chats and emails equal the ledger computed from the simulation's own offers and stays."""
    dsn, ledger = clean_day
    digital = len((ledger / "digital.ndjson").read_text().splitlines())
    with psycopg.connect(dsn) as conn:
        overlapping = conn.execute(
            "select count(*) from infomart.interaction_resource_fact a"
            " join infomart.interaction_resource_fact b on a.agent_id = b.agent_id"
            " and a.media_type_key = b.media_type_key"
            " and a.interaction_resource_id < b.interaction_resource_id"
            " and a.start_ts < b.end_ts and b.start_ts < a.end_ts"
            " where a.media_type_key = 2 and a.talk_count = 1 and b.talk_count = 1"
        ).fetchone()[0]  # type: ignore[index]
    irf = ledger_compare.compare_digital_irf(dsn, ledger)
    msf = ledger_compare.compare_digital_msf(dsn, ledger)
    print(
        f"\n{digital:,} digital interactions; equal to the ledger: {irf:,} IRF rows (offers),"
        f" {msf:,} MSF rows (queue stays); {overlapping:,} pairs of accepted chats overlapping on one agent"
    )
    assert digital >= 5_000, f"the day must have at least 5,000 digital interactions, it has {digital}"
    assert irf > 5_000 and msf > 5_000 and overlapping > 100


def test_simulated_day_outbound_facts_equal_the_ledger(clean_day):  # type: ignore[no-untyped-def]
    """MEASURES.md "Outbound campaigns": every dial attempt's CONTACT_ATTEMPT_FACT row and every
    campaign group run equal the ledger computed from the simulation's records and campaigns."""
    dsn, ledger = clean_day
    attempts = ledger_compare.compare_contact_attempts(dsn, ledger)
    groups = ledger_compare.compare_campaign_group_sessions(dsn, ledger)
    with psycopg.connect(dsn) as conn:
        by_result = dict(
            conn.execute(
                "select call_result, count(*) from infomart.contact_attempt_fact group by 1"
            ).fetchall()
        )
        connected = conn.execute(
            "select count(*) from infomart.contact_attempt_fact where interaction_resource_id is not null"
        ).fetchone()[0]  # type: ignore[index]
    print(
        f"\nequal to the ledger: {attempts:,} dial attempts {by_result}, {connected:,} connected to an agent,"
        f" {groups} campaign group runs"
    )
    assert attempts >= 5_000 and connected > 100 and groups >= 2


def test_simulated_day_user_data_equals_the_ledger(clean_day):  # type: ignore[no-untyped-def]
    """MEASURES.md "User data": every IRF row's gen, cust and dim columns (the mapping of
    dbt_project.yml) equal the values the simulation set, under each key's rule (CALL: at the
    call's end; PARTY: at the end of the party's part, after-call work included), cut to their
    length; the cuts equal dq_user_data_truncations."""
    dsn, ledger = clean_day
    rows, cuts = ledger_compare.compare_user_data(dsn, ledger)
    with psycopg.connect(dsn) as conn:
        differ = conn.execute(
            "select count(*) from infomart.irf_user_data_gen_1"
            " where disposition is distinct from call_disposition"
        ).fetchone()[0]  # type: ignore[index]
    print(f"\nequal to the ledger: user data of {rows:,} IRF rows; {differ:,} rows where the after-call-work"
          f" disposition (PARTY) differs from the call's (CALL); values cut: {cuts}")  # fmt: skip
    assert rows > 25_000 and differ > 1_000 and cuts["agent_note"] > 0 and cuts["disposition"] > 0


def test_subhr_aggregates_equal_the_interval_ledger(clean_day):  # type: ignore[no-untyped-def]
    dsn, ledger = clean_day
    for name, (table, _, _) in ledger_compare.AGGREGATES_COMPARED.items():
        rows, cells = ledger_compare.compare_aggregates(dsn, ledger, name)
        print(f"\n{table}: {rows:,} rows and {cells:,} cells equal to the ledger")
        assert rows > 200 and cells > 5_000


def mart_rows(dsn: str) -> dict[str, list[tuple]]:
    """Every row of every table and view of the infomart schema (facts, dimensions, aggregates), all
    columns but landing bookkeeping, as text."""
    out = {}
    with psycopg.connect(dsn) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'infomart'"
                " and table_name <> 'date_time' order by 1"
            )
        ]
        for table in tables:
            cols = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'infomart'"
                    " and table_name = %s"
                    " and column_name not like '%%landed_at' and column_name not like '%%audit_key'"
                    " order by ordinal_position",
                    (table,),
                )
            ]
            collist = ", ".join(f'"{c}"::text' for c in cols)
            out[table] = conn.execute(f"select {collist} from infomart.{table} order by {collist}").fetchall()
    return out


def test_messy_delivery_in_ten_cycles_equals_one_clean_full_refresh(
    clean_day, tmp_path: Path, pg_server: str, kafka_bootstrap: str
):  # type: ignore[no-untyped-def]
    clean_dsn, _ = clean_day
    # messy upstream too: routed parties without initiator_party_id, linked only by Diverted
    # (routing points included); the simulation and its ledger are the clean day's
    messy_config = SimulationConfig(
        **DAY,  # type: ignore[arg-type]
        redundant_sources=True,
        shuffle=True,
        late_share=0.05,
        omit_routed_initiator=True,
    )
    messy = simulate(messy_config)
    dsn = _database(pg_server)
    settings = _settings(dsn, tmp_path / "home", kafka_bootstrap)
    chunk = len(messy.deliveries) // 10 + 1
    timings = []
    for cycle in range(10):
        folder = tmp_path / f"cycle{cycle}"
        folder.mkdir()
        part = messy.deliveries[cycle * chunk : (cycle + 1) * chunk]
        for topic in LOGICAL_TOPICS:
            (folder / f"{topic}.ndjson").write_bytes(
                b"".join(d.value + b"\n" for d in part if d.topic == topic)
            )
        _land(settings, folder)
        started = time.perf_counter()
        # a cycle as `infomart run` runs it: only the models downstream of sources with new rows
        transform(settings, dsn, tests=False, only_changed=True)
        timings.append(time.perf_counter() - started)
    print(f"\n{len(messy.deliveries):,} messy deliveries in 10 cycles; transform seconds: "
          + ", ".join(f"{t:.1f}" for t in timings))  # fmt: skip

    incremental, clean = mart_rows(dsn), mart_rows(clean_dsn)
    assert sorted(incremental) == sorted(clean)
    for table in clean:
        got, want = incremental[table], clean[table]
        if got != want:
            missing = sorted(set(want) - set(got), key=repr)[:2]
            extra = sorted(set(got) - set(want), key=repr)[:2]
            pytest.fail(
                f"{table}: {len(got)} rows vs {len(want)}; only in clean: {missing}; only in messy: {extra}"
            )
    print("identical tables: " + ", ".join(f"{t} ({len(r):,})" for t, r in clean.items()))
