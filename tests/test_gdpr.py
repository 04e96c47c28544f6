"""GDPR export and forget (pipeline/gdpr.py, the landing rule of ingest/forget.py): a simulated
hour landed and transformed; one customer (an ANI) and one employee (an agent id) exported and
forgotten; nothing in any schema holds them after, twice changes nothing, a replay of the same
archive lands pseudonymised and the models keep the pseudonyms through an incremental cycle and a
full refresh; the history is recorded and purged after its retention."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
import pytest
from typer.testing import CliRunner

from cli.main import app
from infomart.settings import Settings, SettingsError, load_settings
from ingest.forget import ForgetList, digest, pseudonym
from ingest.landing import Batch, Reject, ensure_raw_schema, write_batch
from pipeline.gdpr import Subject, export, forget, purge_expired, purge_history
from pipeline.transform import transform
from simulator import SimulationConfig, simulate, write_ndjson
from tests.conftest import EventFactory, count
from tests.helpers import land_folder
from tests.test_voice_facts import mart_rows

AGENT = "agent0001"
OTHER_AGENT = "agent0002"
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # the requests' time (the history's clock)


def _person(events: EventFactory, dbid: int, agent: str, first: str, last: str) -> dict:
    return events.make(
        "ConfigUpsert",
        "2026-11-23T07:00:00.000Z",
        source="cfg-adapter",
        object_type="Person",
        dbid=dbid,
        config_version=dbid - 100_000,
        attributes={
            "user_name": agent,
            "employee_id": f"E{dbid}",
            "first_name": first,
            "last_name": last,
            "email": f"{agent}@example.com",
            "is_agent": True,
            "agent_logins": [{"login_code": agent, "switch": "SIP_Switch", "wrapup_time": 0}],
        },
    )


def _archive(folder: Path) -> str:
    """A simulated hour plus two Persons and a call whose user data holds the ANI; the ANI."""
    write_ndjson(simulate(SimulationConfig(seed=7, agents=4, duration_hours=1)), folder)
    shutil.rmtree(folder / "ledger")
    ani = next(
        e["ani"]
        for e in map(orjson.loads, (folder / "voice-callthread.ndjson").read_bytes().splitlines())
        if e["type"] == "CallCreated" and e["call_type"] == "Inbound"
    )
    events = EventFactory()
    persons = [
        _person(events, 100_001, AGENT, "Anna", "Berg"),
        _person(events, 100_002, OTHER_AGENT, "Anna", "Lind"),
    ]
    (folder / "gca-cfg.ndjson").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in persons))
    call = {"call_id": "c-gdpr-1", "thread_id": "t-gdpr-1"}
    extra = [
        events.make(
            "CallCreated",
            "2026-11-23T08:30:00.000Z",
            call_type="Inbound",
            ani="+15550000000",
            dnis="+18005550100",
            user_data={"callback_number": ani, "segment": "gold", "notes": [ani]},
            **call,
        ),
        events.make("CallEnded", "2026-11-23T08:31:00.000Z", **call),
    ]
    (folder / "voice-callthread-extra.ndjson").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in extra))
    return ani


_land = land_folder  # every line must pass the contract; returns the lines read


def _holders(dsn: str, value: str) -> list[str]:
    """schema.table.column of every text, JSON, array or bytea column anywhere (but the gdpr
    schema) whose value contains `value`, even as a part of a longer string."""
    found = []
    with psycopg.connect(dsn) as conn:
        columns = conn.execute(
            "select c.table_schema, c.table_name, c.column_name, c.data_type"
            " from information_schema.columns c"
            " join information_schema.tables t using (table_schema, table_name)"
            " where t.table_type = 'BASE TABLE' and c.table_schema not in ('gdpr', 'information_schema')"
            " and c.table_schema not like 'pg\\_%%'"
            " and c.data_type in"
            " ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'bytea')"
        ).fetchall()
        schemas = {s for s, *_ in columns}
        assert {"raw", "staging", "intermediate", "infomart", "snapshots"} <= schemas
        for schema, table, column, data_type in columns:
            text = f"encode(\"{column}\", 'escape')" if data_type == "bytea" else f'"{column}"::text'
            hit = conn.execute(
                f'select exists (select from "{schema}"."{table}" where strpos({text}, %s) > 0)', (value,)
            ).fetchone()[0]  # type: ignore[index]
            if hit:
                found.append(f"{schema}.{table}.{column}")
    return found


def _fingerprint(dsn: str) -> dict[str, str]:
    """A digest of every row of every table outside the gdpr schema."""
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
            " and table_schema not in ('gdpr', 'information_schema') and table_schema not like 'pg\\_%'"
        ).fetchall()
        return {
            f"{s}.{t}": conn.execute(
                f"select md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from \"{s}\".\"{t}\" r"
            ).fetchone()[0]  # type: ignore[index]
            for s, t in tables
        }


def _where(result, table: str) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(f.column, f.path) for f in result.found if f.table == table}


@pytest.fixture
def gdpr_settings(tmp_path: Path, pg_dsn: str) -> Settings:
    return Settings(home=tmp_path / "home", pg_dsn=pg_dsn, tenant="t1", batch_size=2000, metrics_port=0)


def test_export_forget_replay_and_history(gdpr_settings: Settings, tmp_path: Path):
    settings, dsn = gdpr_settings, gdpr_settings.pg_dsn
    assert dsn is not None
    folder = tmp_path / "archive"
    ani = _archive(folder)
    landed = _land(settings, folder)
    assert transform(settings, dsn, tests=False).success
    clock = lambda: AT  # noqa: E731

    # export: every value, where it is
    customer = export(settings, dsn, Subject("ani", ani), clock=clock)
    assert ("payload", "ani") in _where(customer, "raw.voice_callthread")
    assert ("payload", "user_data.callback_number") in _where(customer, "raw.voice_callthread")
    assert ("payload", "user_data.notes[0]") in _where(customer, "raw.voice_callthread")
    assert {("ani", ""), ("user_data", "callback_number")} <= _where(
        customer, "staging.stg_events__voice_callthread"
    )
    assert _where(customer, "infomart.interaction_fact")
    assert all(f.value == ani for f in customer.found)
    raw_hit = next(f for f in customer.found if f.table == "raw.voice_callthread")
    assert raw_hit.row_key["event_id"] and raw_hit.row_key["archive_line"]

    employee = export(settings, dsn, Subject("agent_id", AGENT), clock=clock)
    assert ("payload", "agent_id") in _where(employee, "raw.voice_agentstate")
    assert {("payload", "attributes.user_name"), ("payload", "attributes.first_name")} <= _where(
        employee, "raw.gca_cfg"
    )
    assert ("agent_id", "") in _where(employee, "staging.stg_events__voice_agentstate")
    assert ("agent_id", "") in _where(employee, "infomart.sm_res_session_fact")
    assert {("resource_name", ""), ("agent_first_name", ""), ("agent_last_name", "")} <= _where(
        employee, "infomart.resource_"
    )
    names = {f.value for f in employee.found}
    assert {AGENT, "Anna", "Berg", f"{AGENT}@example.com", "E100001"} <= names
    assert "Lind" not in names  # the other agent's names are not this person's

    # digital customers and outbound contacts the same way
    digital = next(
        e["customer_id"]
        for e in map(orjson.loads, (folder / "digital-itx.ndjson").read_bytes().splitlines())
        if e["type"] == "InteractionCreated"
    )
    found = export(settings, dsn, Subject("customer_id", digital), clock=clock)
    assert ("payload", "customer_id") in _where(found, "raw.digital_itx")
    assert ("source_address", "") in _where(found, "infomart.interaction_fact")
    contact = next(
        e["contact"]
        for e in map(orjson.loads, (folder / "voice-outbound.ndjson").read_bytes().splitlines())
        if e["type"] == "RecordDialed"
    )
    found = export(settings, dsn, Subject("contact", contact), clock=clock)
    assert ("payload", "contact") in _where(found, "raw.voice_outbound")
    assert ("contact", "") in _where(found, "staging.stg_events__voice_outbound")

    # the CLI: JSON on stdout
    env = {"INFOMART_PG_DSN": dsn, "INFOMART_HOME": str(settings.home)}
    done = CliRunner().invoke(app, ["gdpr", "export", "--ani", ani], env=env)
    assert done.exit_code == 0, done.output
    document = orjson.loads(done.stdout)
    assert document["subject"] == {"type": "customer", "identifier": "ani", "value": ani}
    assert len(document["values"]) == len(customer.found)
    assert (
        CliRunner().invoke(app, ["gdpr", "export", "--ani", ani, "--agent-id", AGENT], env=env).exit_code == 2
    )

    # forget both (the second with the full refresh that rekeys what is hashed from names)
    assert _holders(dsn, ani) and _holders(dsn, AGENT) and _holders(dsn, "Berg")
    gone = forget(settings, dsn, Subject("ani", ani), rebuild=False, clock=clock)
    assert gone.pseudonym and gone.pseudonym.startswith("forgotten:")
    assert gone.rows_changed["raw.voice_callthread"] >= 2
    assert _holders(dsn, ani) == []
    forgotten_agent = forget(settings, dsn, Subject("agent_id", AGENT), clock=clock)
    assert forgotten_agent.rebuilt
    for value in (ani, AGENT, "Berg", "E100001"):
        assert _holders(dsn, value) == [], value
    stats = (
        "select count(*) from pg_stats where schemaname not in ('gdpr', 'pg_catalog')"
        " and strpos(concat(most_common_vals::text, histogram_bounds::text), %s) > 0"
    )
    assert count(dsn, stats, ani) == 0 and count(dsn, stats, AGENT) == 0  # nor in the statistics
    with psycopg.connect(dsn) as conn:
        first_names = dict(
            conn.execute(
                "select user_name, agent_first_name from infomart.resource_ where user_name is not null"
            )
        )
        assert first_names[OTHER_AGENT] == "Anna"  # another person's equal name is left alone
        assert first_names[forgotten_agent.pseudonym] == pseudonym(_key(conn), "Anna")
        agents = {r[0] for r in conn.execute("select distinct agent_id from infomart.sm_res_session_fact")}
        assert forgotten_agent.pseudonym in agents and AGENT not in agents
        assert conn.execute("select count(*) from gdpr.ctl_gdpr_forget").fetchone()[0] == 2  # type: ignore[index]
        # the forget list holds no personal data
        assert not conn.execute(
            "select count(*) from gdpr.ctl_gdpr_forget where digest = %s or pseudonym like %s",
            (ani, f"%{ani}%"),
        ).fetchone()[0]  # type: ignore[index]
    forgotten = mart_rows(dsn)

    # idempotent: again, nothing changes
    before = _fingerprint(dsn)
    again = forget(settings, dsn, Subject("agent_id", AGENT), clock=clock)
    assert again.rows_changed == {} and not again.rebuilt and again.pseudonym == forgotten_agent.pseudonym
    assert forget(settings, dsn, Subject("ani", ani), clock=clock).rows_changed == {}
    assert _fingerprint(dsn) == before
    assert export(settings, dsn, Subject("ani", ani), clock=clock).found == []

    # a replay of the same archive lands pseudonymised (the archive ingester's progress dropped,
    # as a restore would): incremental, then full refresh, give the same pseudonymised marts
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("delete from raw.archive_files")
    assert _land(settings, folder) == landed
    for value in (ani, AGENT, "Berg"):
        assert _holders(dsn, value) == [], value
    assert transform(settings, dsn, tests=False).success
    assert _holders(dsn, ani) == [] and _holders(dsn, AGENT) == []
    assert mart_rows(dsn) == forgotten
    built = transform(settings, dsn, full_refresh=True)  # the data tests hold on pseudonyms too
    assert built.success and not built.failures()
    assert _holders(dsn, ani) == [] and _holders(dsn, AGENT) == []
    assert mart_rows(dsn) == forgotten

    # the history: every field checked, the values found; purged after the retention
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "select request_type, table_name, column_name, original_value, replacement_value"
            " from gdpr.ctl_gdpr_history where request_id = %s",
            (gone.request_id,),
        ).fetchall()
        assert ("forget", "raw.voice_callthread", "payload.ani", ani, gone.pseudonym) in rows
        assert ("forget", "infomart.interaction_fact", "source_address", ani, gone.pseudonym) in rows
        checked_empty = [r for r in rows if r[3] is None]
        assert ("forget", "infomart.group_", "group_name", None, None) in checked_empty
        exports = conn.execute(
            "select count(*) from gdpr.ctl_gdpr_history"
            " where request_type = 'export' and original_value = %s",
            (AGENT,),
        ).fetchone()[0]  # type: ignore[index]
        assert exports > 0
        at_clock = conn.execute(
            "select count(*) from gdpr.ctl_gdpr_history where created = %s", (AT,)
        ).fetchone()[0]  # type: ignore[index]
        cli_rows = conn.execute(
            "select count(*) from gdpr.ctl_gdpr_history where created > %s", (AT,)
        ).fetchone()[0]  # type: ignore[index]
        assert at_clock and cli_rows  # the CLI's export ran on the real clock
        assert purge_history(conn, 15, AT + timedelta(days=14)) == 0
        assert purge_history(conn, 15, AT + timedelta(days=15, seconds=1)) == at_clock
        # what `infomart run` does after every cycle
        assert purge_expired(dsn, 15, datetime.now(UTC) + timedelta(days=16)) == cli_rows
        assert conn.execute("select count(*) from gdpr.ctl_gdpr_history").fetchone()[0] == 0  # type: ignore[index]

    # the CLI's forget, without the rebuild, with what it replaced as JSON
    out = tmp_path / "forgotten.json"
    done = CliRunner().invoke(
        app, ["gdpr", "forget", "--contact", contact, "--no-rebuild", "--out", str(out)], env=env
    )
    assert done.exit_code == 0, done.output
    document = orjson.loads(out.read_bytes())
    assert document["pseudonym"].startswith("forgotten:") and document["rows_changed"]["raw.voice_outbound"]
    assert {v["value"] for v in document["values"]} == {contact} and not document["rebuilt"]
    assert _holders(dsn, contact) == []


def _key(conn: psycopg.Connection) -> bytes:
    return bytes(conn.execute("select digest_key from gdpr.ctl_gdpr_key").fetchone()[0])  # type: ignore[index]


def test_the_landing_rule_replaces_exact_values_and_the_holders_personal_fields():
    key = b"k" * 32
    rules = ForgetList(key, {digest(key, "+15551234567"): pseudonym(key, "+15551234567")})
    event = {
        "id": "+15551234567",  # envelope: never rewritten
        "type": "CallCreated",
        "ani": "+15551234567",
        "dnis": "+15551234567-not-the-same",
        "user_data": {"customer_name": "Eva", "other": ["+15551234567", 3], "segment": "gold"},
    }
    new = orjson.loads(rules.rewrite(orjson.dumps(event)))  # type: ignore[arg-type]
    p = pseudonym(key, "+15551234567")
    assert new["id"] == "+15551234567" and new["ani"] == p and new["dnis"] == event["dnis"]
    assert new["user_data"] == {"customer_name": pseudonym(key, "Eva"), "other": [p, 3], "segment": "gold"}
    assert rules.rewrite(orjson.dumps(new)) is None  # a pseudonym is never rewritten: idempotent
    assert rules.rewrite(b"not json") is None
    assert not ForgetList()  # empty: landing parses nothing


def test_history_retention_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    assert load_settings().gdpr_history_retention_days == 15
    monkeypatch.setenv("INFOMART_GDPR_HISTORY_RETENTION_DAYS", "31")
    with pytest.raises(SettingsError, match=r"INFOMART_GDPR_HISTORY_RETENTION_DAYS.*at most 30 days"):
        load_settings()
    monkeypatch.setenv("INFOMART_GDPR_HISTORY_RETENTION_DAYS", "0")
    assert load_settings().gdpr_history_retention_days == 0


def test_both_ingesters_land_through_the_forget_list(gdpr_settings: Settings, events: EventFactory):
    """write_batch (ingest/landing.py) is the one place: a Kafka batch, its JSON rejects too."""
    dsn = gdpr_settings.pg_dsn
    assert dsn is not None
    ani = "+15559876543"
    with psycopg.connect(dsn, autocommit=True) as conn:
        ensure_raw_schema(conn)
        write_batch(conn, Batch("kafka"), lambda cur: None)  # no forget list yet: nothing to read
    assert purge_expired(dsn, 15) == 0  # the cycles' purge makes no schema
    assert count(dsn, "select count(*) from pg_namespace where nspname = 'gdpr'") == 0
    gone = forget(gdpr_settings, dsn, Subject("ani", ani), clock=lambda: AT)
    assert gone.rows_changed == {} and not gone.rebuilt
    call = events.make(
        "CallCreated",
        "2026-11-23T08:00:00.000Z",
        call_id="c-1",
        thread_id="t-1",
        call_type="Inbound",
        ani=ani,
        dnis="+18005550100",
        user_data={"callback": ani},
    )
    batch = Batch("kafka")
    batch.add("voice-callthread", orjson.dumps(call), 0, 41)
    batch.rejects.append(Reject("voice-callthread", "schema: ...", orjson.dumps({**call, "v": 9}), 0, 42))
    with psycopg.connect(dsn, autocommit=True) as conn:
        write_batch(conn, batch, lambda cur: None)
        payload = conn.execute("select payload from raw.voice_callthread").fetchone()[0]  # type: ignore[index]
        reject = bytes(conn.execute("select raw_bytes from raw.rejects").fetchone()[0])  # type: ignore[index]
    assert payload["ani"] == gone.pseudonym and payload["user_data"] == {"callback": gone.pseudonym}
    assert payload["id"] == call["id"]
    assert ani.encode() not in reject and gone.pseudonym.encode() in reject  # type: ignore[union-attr]
