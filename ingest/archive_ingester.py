"""NDJSON archives -> raw tables, idempotently.

An archive is a file of one JSON event per line (``.ndjson``/``.jsonl``, optionally
``.gz``). Its topic comes from its name or its folder's: ``voice-callthread.ndjson``,
``voice-callthread-2026-11-23.ndjson.gz`` or ``voice-callthread/part-0001.ndjson``
(either the logical topic id or the configured Kafka topic name), or from ``--topic``.

Progress is kept per file *content* (sha256) in ``raw.archive_files``, committed with each
batch: re-running the same files adds nothing, a renamed copy is recognised, and an
interrupted file resumes at the first line not yet landed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from infomart import metrics
from infomart.settings import LOGICAL_TOPICS, Settings
from ingest.batch_writer import OrderedBatchWriter
from ingest.contract import Contract, limits_of
from ingest.landing import Batch, Reject, ensure_raw_schema, write_batch

log = logging.getLogger(__name__)

SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")


class ArchiveError(Exception):
    """An archive cannot be read as asked; the message says what to do."""


@dataclass
class ArchiveFile:
    path: Path
    topic: str
    sha256: str
    size: int


@dataclass
class ArchiveStats:
    files: int = 0
    skipped_files: int = 0
    events: dict[str, int] = field(default_factory=dict)
    rejects: int = 0

    @property
    def total(self) -> int:
        return sum(self.events.values())


def _topic_of(path: Path, names: dict[str, str]) -> str | None:
    """Longest topic name that the file name (or its folder's name) starts with."""
    for candidate in (path.name, path.parent.name):
        best = None
        for name, logical in names.items():
            if candidate.startswith(name) and (best is None or len(name) > len(best[0])):
                best = (name, logical)
        if best:
            return best[1]
    return None


def find_archives(
    paths: list[Path], settings: Settings, topic: str | None = None, skipped: list[Path] | None = None
) -> list[ArchiveFile]:
    """Archives to ingest. A file named on the command line must have a topic; a file found by
    walking a folder without one (e.g. the simulator's ledger/) is left out and appended to
    ``skipped`` so the caller can say so."""
    names = {t: t for t in LOGICAL_TOPICS} | {k: v for v, k in settings.topics.by_logical().items()}
    if topic is not None and topic not in names:
        raise ArchiveError(f"--topic {topic!r} is not a topic; use one of {', '.join(LOGICAL_TOPICS)}")
    files: list[tuple[Path, bool]] = []  # (file, named explicitly)
    for p in paths:
        if p.is_dir():
            files.extend(
                (f, False) for f in sorted(p.rglob("*")) if f.is_file() and f.name.endswith(SUFFIXES)
            )
        elif p.is_file():
            files.append((p, True))
        else:
            raise ArchiveError(f"{p}: no such file or folder")
    found = []
    for f, named in files:
        t = names[topic] if topic else _topic_of(f, names)
        if t is None and not named:
            log.warning("%s: no topic in its name or its folder's name, left out", f)
            if skipped is not None:
                skipped.append(f)
            continue
        if t is None:
            raise ArchiveError(
                f"{f}: cannot tell its topic; name it <topic>*.ndjson[.gz], put it in a folder named after "
                f"the topic, or pass --topic (topics: {', '.join(LOGICAL_TOPICS)})"
            )
        digest = hashlib.sha256()
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        found.append(ArchiveFile(f, t, digest.hexdigest(), f.stat().st_size))
    return found


def _lines(path: Path) -> Iterator[bytes]:
    raw = open(path, "rb")  # noqa: SIM115
    stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw  # type: ignore[assignment]
    try:
        for line in stream:
            yield line.rstrip(b"\r\n")
    except (OSError, EOFError) as exc:
        raise ArchiveError(f"{path}: cannot read past a corrupt or truncated block: {exc}") from exc
    finally:
        stream.close()
        raw.close()


Progress = Callable[[ArchiveFile, int, ArchiveStats], None]  # file, bytes read so far (approx), stats


class ArchiveIngester:
    def __init__(self, settings: Settings, dsn: str) -> None:
        self.settings = settings
        self.conn = psycopg.connect(dsn, autocommit=True)
        ensure_raw_schema(self.conn)
        self.contract = Contract(settings.tenant, limits_of(settings))

    def ingest(self, archives: list[ArchiveFile], progress: Progress | None = None) -> ArchiveStats:
        stats = ArchiveStats()
        for af in archives:
            row = self.conn.execute(
                "select lines_done, completed from raw.archive_files where sha256 = %s", (af.sha256,)
            ).fetchone()
            if row and row[1]:
                stats.skipped_files += 1
                log.info("%s: already ingested (same content), skipped", af.path)
                continue
            if row is None:
                self.conn.execute(
                    "insert into raw.archive_files (sha256, file_name, topic) values (%s, %s, %s)"
                    " on conflict do nothing",
                    (af.sha256, str(af.path), af.topic),
                )
            self._ingest_file(af, row[0] if row else 0, stats, progress)
            stats.files += 1
        return stats

    def _ingest_file(
        self, af: ArchiveFile, skip: int, stats: ArchiveStats, progress: Progress | None
    ) -> None:
        check = self.contract.check
        batch_size = self.settings.batch_size
        name = str(af.path)
        line_no = 0
        done_bytes = 0
        batch = Batch("archive")
        writer = OrderedBatchWriter()  # validate the next batch while the previous one lands
        try:
            for line_no, line in enumerate(_lines(af.path), start=1):
                done_bytes += len(line) + 1
                if line_no <= skip:
                    continue
                if line.strip():
                    event, reason = check(af.topic, line)
                    if event is not None:
                        batch.add(af.topic, line, name, line_no, event["ts"])
                    else:
                        batch.rejects.append(Reject(af.topic, reason, line, file=name, line=line_no))
                if len(batch) >= batch_size:
                    writer.submit(self._lander(af, batch, line_no, False, stats, done_bytes, progress))
                    batch = Batch("archive")
            writer.submit(self._lander(af, batch, max(line_no, skip), True, stats, done_bytes, progress))
        finally:
            writer.close()

    def _lander(
        self,
        af: ArchiveFile,
        batch: Batch,
        lines_done: int,
        completed: bool,
        stats: ArchiveStats,
        done_bytes: int,
        progress: Progress | None,
    ) -> Callable[[], None]:
        """The landing of one batch, to run on the writer thread."""

        def land() -> None:
            self._flush(af, batch, lines_done, completed, stats)
            if progress:
                progress(af, done_bytes, stats)

        return land

    def _flush(
        self, af: ArchiveFile, batch: Batch, lines_done: int, completed: bool, stats: ArchiveStats
    ) -> None:
        def save(cur: psycopg.Cursor) -> None:
            cur.execute(
                "update raw.archive_files set lines_done = %s, completed = %s, updated_at = now(),"
                " events_landed = events_landed + %s, events_rejected = events_rejected + %s"
                " where sha256 = %s",
                (lines_done, completed, batch.event_count, len(batch.rejects), af.sha256),
            )

        refused = write_batch(self.conn, batch, save)
        if refused:
            # rows PostgreSQL refused were landed as rejects by the fallback: move them in the counters
            self.conn.execute(
                "update raw.archive_files set events_landed = events_landed - %s,"
                " events_rejected = events_rejected + %s where sha256 = %s",
                (len(refused), len(refused), af.sha256),
            )
        n = batch.event_count - len(refused)
        stats.events[af.topic] = stats.events.get(af.topic, 0) + n
        stats.rejects += len(batch.rejects) + len(refused)
        metrics.EVENTS_LANDED.labels(topic=af.topic, origin="archive").inc(n)
        for r in [*batch.rejects, *refused]:
            metrics.EVENTS_REJECTED.labels(topic=r.topic, reason=r.reason.split(":", 1)[0]).inc()

    def close(self) -> None:
        self.conn.close()
