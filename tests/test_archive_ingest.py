"""NDJSON archives -> raw tables: landing, idempotent replay, rejects, resume."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import orjson
import psycopg
import pytest

from infomart.settings import Settings
from ingest.archive_ingester import ArchiveError, ArchiveIngester, find_archives
from ingest.landing import Batch, ensure_raw_schema, write_batch
from tests.conftest import EventFactory, count


def _call_events(events: EventFactory, n_calls: int) -> list[dict]:
    out = []
    for i in range(n_calls):
        call = f"c-{i}"
        out.append(
            events.make(
                "CallCreated",
                f"2026-11-23T10:{i % 60:02d}:00.000Z",
                call_id=call,
                thread_id=f"t-{i}",
                call_type="Inbound",
                ani="+15551230001",
                dnis="+18005550100",
                user_data={"segment": "gold"},
            )
        )
        out.append(events.make("CallEnded", f"2026-11-23T10:{i % 60:02d}:30.000Z", call_id=call))
    return out


def _write(path: Path, lines: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
    return path


def _ingest(settings: Settings, *paths: Path, topic: str | None = None):  # type: ignore[no-untyped-def]
    ing = ArchiveIngester(settings, settings.pg_dsn)  # type: ignore[arg-type]
    try:
        return ing.ingest(find_archives(list(paths), settings, topic))
    finally:
        ing.close()


def test_archive_lands_every_event_once_even_when_replayed(
    settings: Settings, events: EventFactory, tmp_path: Path
):
    evs = _call_events(events, 50)
    f = _write(tmp_path / "a" / "voice-callthread.ndjson", [orjson.dumps(e) for e in evs])

    stats = _ingest(settings, f)
    assert stats.events == {"voice-callthread": 100}
    assert stats.rejects == 0
    dsn = settings.pg_dsn
    assert count(dsn, "select count(*) from raw.voice_callthread") == 100

    # the same file again, a renamed copy, and a gzip copy of the same lines in a topic folder
    again = _ingest(settings, f)
    assert again.skipped_files == 1 and again.total == 0
    copy = tmp_path / "b" / "voice-callthread-copy.ndjson"
    copy.parent.mkdir()
    shutil.copy(f, copy)
    assert _ingest(settings, copy).skipped_files == 1
    assert count(dsn, "select count(*) from raw.voice_callthread") == 100

    # coordinates are kept: file and line
    with psycopg.connect(dsn) as conn:
        lines = [r[0] for r in conn.execute("select archive_line from raw.voice_callthread order by 1")]
        files = {r[0] for r in conn.execute("select archive_file from raw.voice_callthread")}
    assert lines == list(range(1, 101))
    assert files == {str(f)}


def test_gzip_archive_in_topic_folder(settings: Settings, events: EventFactory, tmp_path: Path):
    evs = [
        events.make(
            "AgentLogin", "2026-11-23T08:00:00.000Z", agent_id="a1", dn="1001", place="p1", queues=[]
        ),
        events.make("AgentReady", "2026-11-23T08:00:01.000Z", agent_id="a1"),
    ]
    _write(tmp_path / "voice-agentstate" / "part-0001.ndjson.gz", [orjson.dumps(e) for e in evs])
    stats = _ingest(settings, tmp_path)
    assert stats.events == {"voice-agentstate": 2}
    assert count(settings.pg_dsn, "select count(*) from raw.voice_agentstate") == 2


def test_invalid_lines_go_to_rejects_with_reason_and_coordinates(
    settings: Settings, events: EventFactory, tmp_path: Path
):
    good = events.make("CallEnded", "2026-11-23T10:00:00.000Z", call_id="c-1")
    other_tenant = {**events.make("CallEnded", "2026-11-23T10:00:00.000Z", call_id="c-2"), "tenant": "t2"}
    missing = events.make("CallEnded", "2026-11-23T10:00:00.000Z")  # no call_id
    lines = [
        orjson.dumps(good),
        b"{not json",
        orjson.dumps(other_tenant),
        orjson.dumps(missing),
        b"",  # blank lines are skipped, not rejected
        b"\xff\xfe garbage",
    ]
    f = _write(tmp_path / "voice-callthread.ndjson", lines)
    stats = _ingest(settings, f)
    assert stats.events == {"voice-callthread": 1}
    assert stats.rejects == 4
    with psycopg.connect(settings.pg_dsn) as conn:
        rows = conn.execute(
            "select archive_line, split_part(reason, ':', 1), raw_bytes, archive_file"
            " from raw.rejects order by 1"
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        (2, "invalid_json"),
        (3, "wrong_tenant"),
        (4, "schema"),
        (6, "invalid_json"),
    ]
    assert bytes(rows[0][2]) == b"{not json"
    assert bytes(rows[3][2]) == b"\xff\xfe garbage"
    assert {r[3] for r in rows} == {str(f)}


def test_database_refusal_becomes_a_reject_not_a_crash(settings: Settings, events: EventFactory):
    """A row PostgreSQL refuses is rejected alone with the database's message; the rest of the
    batch and the position still commit. (The contract already stops everything we know jsonb
    refuses, so the batch is built by hand here to reach this last line of defence.)"""
    good = [
        orjson.dumps(events.make("CallEnded", "2026-11-23T10:00:00.000Z", call_id=f"c-{i}")) for i in range(3)
    ]
    refused = b'{"x": 1e999999}'  # valid JSON text, but beyond PostgreSQL numeric
    batch = Batch("archive")
    for line, raw in enumerate([good[0], refused, good[1], good[2]], start=1):
        batch.add("voice-callthread", raw, "f.ndjson", line)
    saved = []
    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:  # type: ignore[arg-type]
        ensure_raw_schema(conn)
        out = write_batch(conn, batch, lambda cur: saved.append(cur.execute("select 1").fetchone()))
    assert [(r.line, r.reason.split(":")[0]) for r in out] == [(2, "database")]
    assert "numeric" in out[0].reason
    assert saved == [(1,)]
    assert count(settings.pg_dsn, "select count(*) from raw.voice_callthread") == 3
    with psycopg.connect(settings.pg_dsn) as conn:  # type: ignore[arg-type]
        row = conn.execute("select archive_line, raw_bytes, archive_file from raw.rejects").fetchone()
    assert row is not None and (row[0], bytes(row[1]), row[2]) == (2, refused, "f.ndjson")


def test_interrupted_file_resumes_at_first_line_not_landed(
    settings: Settings, events: EventFactory, tmp_path: Path
):
    evs = _call_events(events, 30)
    f = _write(tmp_path / "voice-callthread.ndjson", [orjson.dumps(e) for e in evs])
    archives = find_archives([f], settings)
    # pretend an earlier run committed the first 25 lines and died
    ing = ArchiveIngester(settings, settings.pg_dsn)  # type: ignore[arg-type]
    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn, conn.cursor() as cur:
        with cur.copy("copy raw.voice_callthread (payload, archive_file, archive_line) from stdin") as cp:
            for i, e in enumerate(evs[:25], start=1):
                cp.write_row((orjson.dumps(e).decode(), str(f), i))
        conn.execute(
            "insert into raw.archive_files (sha256, file_name, topic, lines_done, events_landed)"
            " values (%s, %s, 'voice-callthread', 25, 25)",
            (archives[0].sha256, str(f)),
        )
    stats = ing.ingest(archives)
    ing.close()
    assert stats.events == {"voice-callthread": 35}
    with psycopg.connect(settings.pg_dsn) as conn:
        lines = [r[0] for r in conn.execute("select archive_line from raw.voice_callthread order by 1")]
        done = conn.execute("select lines_done, completed, events_landed from raw.archive_files").fetchone()
    assert lines == list(range(1, 61))
    assert done == (60, True, 60)


def test_unknown_topic_file_is_a_clear_error(settings: Settings, tmp_path: Path):
    f = _write(tmp_path / "calls.ndjson", [b"{}"])
    with pytest.raises(ArchiveError, match="cannot tell its topic"):
        find_archives([f], settings)
    with pytest.raises(ArchiveError, match="no such file"):
        find_archives([tmp_path / "missing.ndjson"], settings)
    assert find_archives([f], settings, topic="voice-callthread")[0].topic == "voice-callthread"


def test_folder_walk_leaves_out_files_without_a_topic(
    settings: Settings, events: EventFactory, tmp_path: Path
):
    _write(tmp_path / "voice-callthread.ndjson", [orjson.dumps(_call_events(events, 1)[0])])
    _write(tmp_path / "ledger" / "parties.ndjson", [b'{"not": "an event"}'])
    skipped: list[Path] = []
    found = find_archives([tmp_path], settings, skipped=skipped)
    assert [a.path.name for a in found] == ["voice-callthread.ndjson"]
    assert skipped == [tmp_path / "ledger" / "parties.ndjson"]
