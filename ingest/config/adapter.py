"""The config adapter (Genesys GCA): Configuration Database -> snapshot in object storage + ``gca-cfg``.

Change detection: a change table filled by triggers
------------------------------------------------------
Every insert, update or delete in the Configuration Database's ``cfg`` tables writes one row per
affected object into ``cfg.change_log`` (``ingest/config/config_db.sql``): ``config_version`` (one
sequence), ``changed_at``, ``object_type``, ``dbid``, ``tenant_dbid``, ``op``. Writers are
serialised by the triggers, so versions are handed out in commit order and any snapshot of the
database sees a gap-free prefix of them. One poll is one REPEATABLE READ, read-only transaction:

1. ``max(config_version)``: an index-only look at the end of the primary key. Idle poll = this.
2. the change-log rows of this tenant above the published watermark ``W`` (a primary-key range
   scan), grouped per object: its latest version and that version's change time. Several changes of one
   object in one poll are coalesced into its latest state.
3. the current attributes of those objects from the views ``cfg.obj_<type>`` (index lookups).

Reading the attributes in the same snapshot as the change log makes every event's attributes
exactly the object's state at its ``config_version``. Chosen over a version column (a deleted row
leaves no version behind, and a part table, e.g. skill levels, would need one too) and over a
full compare of snapshots (cost proportional to the whole configuration on every poll).

What is published
-----------------
Per changed object, in ``config_version`` order: ``ConfigUpsert`` with ``attributes`` = the row of
its ``cfg.obj_<type>`` view (the whole object as a report needs it, see the SQL file), or
``ConfigDelete`` when it is gone (also for an object created and deleted between two polls: what
is published must not depend on when the polls ran). The initial load (empty topic) publishes
every existing object at its latest version and skips objects deleted before it. States an
object had between two polls are coalesced away (its history shows the state before until the
time of its last change), so the poll interval bounds how long a transient state can be missed.
The envelope: ``id`` = ``gca-<object_type>-<dbid>-<config_version>``
(deterministic: staging keeps one row per id, so even a republish can never count twice),
``source`` = ``gca``, ``ts`` = the change time from the change log, key ``object_type:dbid``.
Extra fields (the contract allows them) carry the adapter's progress in the topic itself:
``published_through`` (every change up to this version is on the topic), ``seq_through``
(every ``seq`` up to this one is on the topic or was abandoned) and, while the initial load is
in progress, ``initial_through`` (the version the initial load reflects), so a restart after a
kill makes exactly the decisions the uninterrupted run would have made.

Exactly once: the topic is the source of truth
----------------------------------------------
Nothing is stored anywhere else. Events are sent in batches; after each batch the producer is
flushed and every event id of the batch must be read back from the topic (the delivery check:
the shared producer does not report failed sends, and some brokers' end offsets are not exact);
else the adapter re-reads its position from the topic. Only then do ``W`` and ``seq_through`` advance, and the
next batch carries them. At start (and after a mismatch) the adapter reads each partition of the
topic backwards from its end until it reaches one of its messages whose ``published_through`` is
below the highest one found (``W``): everything before that point is older than the last complete
batch. The messages above ``W`` found on the way (at most the batches in flight when the previous
run died) are exactly the uncertain part; they are not sent again. So a restart never republishes
an unchanged object and never misses a change, with any number of partitions (a batch cut short
by a kill can reach one partition and not another). An empty topic means an empty Info Mart:
initial load, every object at its latest version. ``seq``: per-source counter +1 per event,
continued from the topic; numbers a killed batch left unused on the topic are given to the first
events sent after the restart, so ``seq`` stays gap-free (unless the restart has fewer events to
send than holes, which needs reordering inside a partition; those numbers are then skipped).

One adapter per Configuration Database and tenant (a session advisory lock); it must be the only
producer of the topic with ``source=gca``. The topic is created with one partition when missing
(total order); keep it compacted or without retention. The simulator's configuration reaches the
topic the same way: written into the Configuration Database (``ingest/config/writer.py``) and
published by this adapter (``ingest/config/feed.py``).

Snapshots
---------
After a poll, when the configuration's version differs from the last snapshot's and at least
``snapshot_interval`` seconds passed (always with ``--once``): one gzip JSON document with every
object of the tenant and the version it reflects, key
``config-snapshots/<tenant>/<config_version:020d>.json.gz`` (sortable), then the pointer
``config-snapshots/<tenant>/latest.json`` (``{"key", "config_version", "taken_at", "counts"}``),
written after the document so it never points at a missing object. Document::

    {"tenant": "t1", "config_version": 123, "taken_at": "...Z", "counts": {"Person": 20, ...},
     "objects": {"Person": [{"dbid": 100001, "config_version": 97, "attributes": {...}}, ...], ...}}
"""

from __future__ import annotations

import gzip
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from psycopg import IsolationLevel

from infomart.objectstore import ObjectNotFound, ObjectStore
from infomart.retry import backoff_seconds
from infomart.settings import Settings
from ingest.config.database import ConfigDbError, schema_exists
from ingest.contract import Contract, limits_of
from ingest.kafka_client import Consumer, Message, Producer, TopicPartition

log = logging.getLogger(__name__)

LOGICAL_TOPIC = "gca-cfg"
SOURCE = "gca"
READER_ROLE = "cfg_reader"
SNAPSHOT_PREFIX = "config-snapshots"
#: object_type -> the view holding its published attributes
OBJECT_VIEWS: dict[str, str] = {
    "Skill": "cfg.obj_skill",
    "AgentGroup": "cfg.obj_agent_group",
    "ActionCode": "cfg.obj_action_code",
    "Queue": "cfg.obj_queue",
    "Campaign": "cfg.obj_campaign",
    "DN": "cfg.obj_dn",
    "Place": "cfg.obj_place",
    "Person": "cfg.obj_person",
}
_LOCK_CLASS = 0x6366_6761  # advisory lock key 1 ("cfga"); key 2 = tenant dbid


class AdapterError(Exception):
    """The adapter cannot go on; the message says why."""


class _DeliveryMismatch(Exception):
    pass


def ts_text(dt: datetime) -> str:
    """RFC 3339 UTC with milliseconds, as the contract wants."""
    dt = dt.astimezone(UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"


# ------------------------------------------------------------------ Configuration Database
@dataclass(frozen=True, slots=True)
class Change:
    object_type: str
    dbid: int
    config_version: int  # the object's latest version in the poll
    changed_at: datetime
    attributes: dict[str, Any] | None  # None: the object no longer exists


class ConfigReader:
    """Read-only access to the Configuration Database, as the role ``cfg_reader``.

    The connection switches to ``cfg_reader`` with ``SET ROLE`` when its login user is a member
    (the embedded default connects as the server's superuser; a configured DSN should name a
    login role granted ``cfg_reader`` and nothing else), and every transaction is read-only.
    """

    def __init__(self, dsn: str, tenant: str) -> None:
        try:
            self.conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise ConfigDbError(f"cannot connect to the Configuration Database: {exc}") from None
        if not schema_exists(self.conn):
            self.conn.close()
            raise ConfigDbError(
                "the Configuration Database has no cfg schema; run `infomart config-db init` "
                "(add --demo for the demo data set)"
            )
        self.role = self._become_reader()
        self.conn.execute("set default_transaction_read_only = on")
        self.conn.isolation_level = IsolationLevel.REPEATABLE_READ
        self.conn.read_only = True
        row = self.conn.execute("select dbid from cfg.cfg_tenant where name = %s", (tenant,)).fetchone()
        if row is None:
            self.conn.close()
            raise ConfigDbError(
                f"tenant {tenant!r} is not in the Configuration Database (cfg.cfg_tenant); "
                "run `infomart config-db init` or set INFOMART_TENANT"
            )
        self.tenant = tenant
        self.tenant_dbid = int(row[0])
        self.queries = 0

    def _become_reader(self) -> str:
        user, member = self.conn.execute(
            "select current_user, coalesce((select pg_has_role(current_user, r.oid, 'member')"
            " from pg_roles as r where r.rolname = %s), false)",
            (READER_ROLE,),
        ).fetchone()  # type: ignore[misc]
        if user != READER_ROLE and member:
            self.conn.execute(f"set role {READER_ROLE}")
            return READER_ROLE
        if user != READER_ROLE:
            log.warning(
                "the Configuration Database user %s is not a member of %s: reading as %s",
                user,
                READER_ROLE,
                user,
            )
        return str(user)

    def try_lock(self, wait_s: float = 10.0) -> bool:
        """One adapter per Configuration Database and tenant (session advisory lock)."""
        deadline = time.monotonic() + wait_s
        while True:
            got = self.conn.execute(
                "select pg_try_advisory_lock(%s, %s)", (_LOCK_CLASS, self.tenant_dbid)
            ).fetchone()[0]  # type: ignore[index]
            if got or time.monotonic() > deadline:
                return bool(got)
            time.sleep(0.2)

    def max_version(self) -> int:
        self.queries += 1
        return int(
            self.conn.execute("select coalesce(max(config_version), 0) from cfg.change_log").fetchone()[0]
        )  # type: ignore[index]

    def _attributes(self, object_type: str, dbids: list[int]) -> dict[int, dict[str, Any]]:
        view = OBJECT_VIEWS[object_type]
        self.queries += 1
        if len(dbids) > 5000:  # large (initial) loads: one scan instead of a huge array
            rows = self.conn.execute(
                f"select dbid, attributes from {view} where tenant_dbid = %s", (self.tenant_dbid,)
            )
            wanted = set(dbids)
            return {d: a for d, a in rows if d in wanted}
        rows = self.conn.execute(
            f"select dbid, attributes from {view} where tenant_dbid = %s and dbid = any(%s)",
            (self.tenant_dbid, dbids),
        )
        return dict(rows.fetchall())

    def changes_since(self, watermark: int) -> tuple[int, list[Change]]:
        """(current version, the objects changed above ``watermark``, coalesced, in version order)."""
        vmax = self.max_version()
        if vmax <= watermark:
            return vmax, []
        with self.conn.transaction():
            vmax = self.max_version()  # again, inside the snapshot
            self.queries += 1
            rows = self.conn.execute(
                "select object_type, dbid, max(config_version),"
                " (array_agg(changed_at order by config_version desc))[1]"
                " from cfg.change_log where config_version > %s and config_version <= %s and tenant_dbid = %s"
                " group by object_type, dbid",
                (watermark, vmax, self.tenant_dbid),
            ).fetchall()
            by_type: dict[str, list[int]] = {}
            for object_type, dbid, *_ in rows:
                by_type.setdefault(object_type, []).append(dbid)
            attrs = {t: self._attributes(t, dbids) for t, dbids in by_type.items()}
        changes = [Change(t, d, v, at, attrs[t].get(d)) for t, d, v, at in rows]
        changes.sort(key=lambda c: (c.config_version, c.object_type, c.dbid))
        return vmax, changes

    def snapshot_objects(self) -> tuple[int, dict[str, list[dict[str, Any]]]]:
        """(version, every object of the tenant with its latest version), from one snapshot."""
        with self.conn.transaction():
            vmax = self.max_version()
            versions = {
                (t, d): v
                for t, d, v in self.conn.execute(
                    "select object_type, dbid, max(config_version) from cfg.change_log"
                    " where tenant_dbid = %s group by object_type, dbid",
                    (self.tenant_dbid,),
                )
            }
            objects: dict[str, list[dict[str, Any]]] = {}
            for object_type, view in OBJECT_VIEWS.items():
                self.queries += 1
                rows = self.conn.execute(
                    f"select dbid, attributes from {view} where tenant_dbid = %s order by dbid",
                    (self.tenant_dbid,),
                )
                objects[object_type] = [
                    {"dbid": d, "config_version": versions.get((object_type, d), vmax), "attributes": a}
                    for d, a in rows
                ]
        return vmax, objects

    def close(self) -> None:
        self.conn.close()


# ------------------------------------------------------------------ position in the topic
@dataclass
class TopicPosition:
    """What the topic says has been published (see the module docstring)."""

    watermark: int = 0  # W: every change up to this version is on the topic
    seq_through: int = 0  # every seq up to this one is on the topic (or abandoned)
    next_seq: int = 1
    holes: list[int] = field(default_factory=list)  # seq numbers above seq_through missing on the topic
    tail: set[tuple[str, int, int]] = field(default_factory=set)  # (type, dbid, version) above W on the topic
    initial_through: int | None = None  # while the initial load is in progress: its version
    messages_read: int = 0
    empty: bool = True  # none of our messages on the topic: initial load

    @property
    def tail_objects(self) -> set[tuple[str, int]]:
        return {(t, d) for t, d, _ in self.tail}


def _parse_own(msg: Message, source: str) -> dict[str, Any] | None:
    if msg.value is None:
        return None
    try:
        ev = orjson.loads(msg.value)
    except orjson.JSONDecodeError:
        return None
    if (
        type(ev) is not dict
        or ev.get("source") != source
        or ev.get("type") not in ("ConfigUpsert", "ConfigDelete")
        or type(ev.get("published_through")) is not int
        or type(ev.get("seq_through")) is not int
    ):
        return None
    return ev


def _read_ranges(
    consumer: Consumer,
    ranges: dict[TopicPartition, tuple[int, int | None]],
    hint_ends: dict[TopicPartition, int] | None = None,
    idle_s: float = 0.6,
    timeout_s: float = 60.0,
) -> dict[TopicPartition, list[Message]]:
    """The messages at offsets [start, stop) of each partition; stop None = up to the end.

    The end is not taken from the broker's end offsets alone (some Kafka-compatible brokers,
    tansu among them, report the last batch's base offset + 1): an open range is read until the
    reported end is reached and then nothing more arrives for ``idle_s``.
    """
    ranges = {tp: r for tp, r in ranges.items() if r[1] is None or r[1] > r[0]}
    out: dict[TopicPartition, list[Message]] = {tp: [] for tp in ranges}
    if not ranges:
        return out
    consumer.assign({tp: start for tp, (start, _) in ranges.items()})
    hint = hint_ends or {}
    pending = {tp for tp, (start, stop) in ranges.items() if stop is not None or hint.get(tp, 0) > start}
    deadline = time.monotonic() + timeout_s
    idle_since = time.monotonic()
    while True:
        msgs = consumer.poll(max_records=10_000, timeout_s=0.2)
        now = time.monotonic()
        if msgs:
            idle_since = now
        for m in msgs:
            tp = (m.topic, m.partition)
            if tp not in ranges:
                continue
            start, stop = ranges[tp]
            if m.offset >= start and (stop is None or m.offset < stop):
                out[tp].append(m)
            target = stop if stop is not None else hint.get(tp, 0)
            if m.offset >= target - 1:  # (later offsets too: a compacted topic can lack stop - 1)
                pending.discard(tp)
        if not pending and (
            all(stop is not None for _, stop in ranges.values()) or now - idle_since >= idle_s
        ):
            break
        if now > deadline:
            raise AdapterError(f"reading topic {next(iter(ranges))[0]} timed out")
    for msgs in out.values():
        msgs.sort(key=lambda m: m.offset)
    return out


def read_position(
    consumer: Consumer, topic: str, source: str = SOURCE, window: int = 512
) -> tuple[TopicPosition, dict[TopicPartition, int]]:
    """Read the topic backwards until the last complete batch; see the module docstring.

    Returns the position and, per partition, the offset after the last message seen.
    """
    parts = consumer.partitions(topic)
    if not parts:
        return TopicPosition(), {}
    tps = [(topic, p) for p in parts]
    ends = consumer.end_offsets(tps)
    after = dict.fromkeys(tps, 0)
    starts: dict[TopicPartition, int] = {}
    own: dict[TopicPartition, list[dict[str, Any]]] = {tp: [] for tp in tps}
    read = 0
    # first round: the last `window` messages before the reported end, and everything after it
    ranges: dict[TopicPartition, tuple[int, int | None]] = {
        tp: (max(0, ends[tp] - window), None) for tp in tps
    }
    while ranges:
        got = _read_ranges(consumer, ranges, hint_ends=ends)
        for tp in ranges:
            msgs = got[tp]
            read += len(msgs)
            if msgs and ranges[tp][1] is None:
                after[tp] = msgs[-1].offset + 1
            parsed = [ev for ev in (_parse_own(m, source) for m in msgs) if ev is not None]
            own[tp] = parsed + own[tp]
            starts[tp] = ranges[tp][0]
        window *= 2
        found = [ev["published_through"] for evs in own.values() for ev in evs]
        w = max(found) if found else None
        ranges = {
            tp: (max(0, starts[tp] - window), starts[tp])
            for tp in tps
            if starts[tp] > 0 and (w is None or not any(ev["published_through"] < w for ev in own[tp]))
        }
    after = {tp: after[tp] or ends[tp] for tp in tps}
    events = [ev for evs in own.values() for ev in evs]
    pos = TopicPosition(messages_read=read)
    if not events:
        return pos, after
    pos.empty = False
    pos.watermark = max(ev["published_through"] for ev in events)
    pos.seq_through = max(ev["seq_through"] for ev in events)
    initial = [ev["initial_through"] for ev in events if type(ev.get("initial_through")) is int]
    if initial and max(initial) > pos.watermark:
        pos.initial_through = max(initial)
    pos.tail = {
        (ev["object_type"], ev["dbid"], ev["config_version"])
        for ev in events
        if ev["config_version"] > pos.watermark
    }
    present = {ev["seq"] for ev in events if ev["seq"] > pos.seq_through}
    top = max(present | {pos.seq_through})
    pos.holes = sorted(set(range(pos.seq_through + 1, top + 1)) - present)
    pos.next_seq = top + 1
    return pos, after


# ------------------------------------------------------------------ the adapter
@dataclass
class PollStats:
    config_version: int = 0  # the Configuration Database's version at the poll
    changed_objects: int = 0  # objects with changes above the watermark (this tenant)
    upserts: int = 0
    deletes: int = 0
    already_published: int = 0  # found on the topic after a restart: not sent again
    never_published: int = 0  # deleted before the initial load: nothing to send
    batches: int = 0
    reconciled: int = 0  # times the position was re-read from the topic after a delivery mismatch
    read_seconds: float = 0.0  # reading the Configuration Database
    seconds: float = 0.0

    @property
    def published(self) -> int:
        return self.upserts + self.deletes


@dataclass
class SnapshotInfo:
    key: str
    config_version: int
    counts: dict[str, int]
    bytes: int
    seconds: float


Progress = Callable[[PollStats], None]


class ConfigAdapter:
    def __init__(
        self,
        settings: Settings,
        config_dsn: str,
        producer: Producer,
        consumer: Consumer,
        store: ObjectStore | None,
        batch_size: int = 1000,
        snapshot_interval_s: float = 60.0,
        source: str = SOURCE,
    ) -> None:
        self.settings = settings
        self.topic = settings.topics.gca_cfg
        self.tenant = settings.tenant
        self.config_dsn = config_dsn
        self.reader = ConfigReader(config_dsn, settings.tenant)
        self.producer = producer
        self.consumer = consumer
        self.store = store
        self.batch_size = batch_size
        self.snapshot_interval_s = snapshot_interval_s
        self.source = source
        self.contract = Contract(settings.tenant, limits_of(settings))
        self.pos = TopicPosition()
        self.follow: dict[TopicPartition, int] = {}  # consumer position after the last message seen
        self.stop = threading.Event()
        self.snapshot_version: int | None = None
        self.last_snapshot_at = float("-inf")
        self.started = False

    # -------------------------------------------------------------- start
    def start(self, topic_partitions: int = 1) -> TopicPosition:
        """Take the adapter lock, create the topic if missing, read the position from it."""
        if self.started:
            return self.pos
        if not self.reader.try_lock():
            raise AdapterError(
                f"another config adapter is running for tenant {self.tenant!r} on this Configuration Database"
            )
        if not self.consumer.partitions(self.topic):
            self.producer.create_topics([self.topic], topic_partitions)
            deadline = time.monotonic() + 30
            while not self.consumer.partitions(self.topic):
                if time.monotonic() > deadline:
                    raise AdapterError(f"topic {self.topic} was not created")
                time.sleep(0.2)
        self._reconcile()
        if self.store is not None:
            latest = self.latest_snapshot()
            self.snapshot_version = latest["config_version"] if latest else None
        self.started = True
        return self.pos

    def _reconcile(self) -> None:
        self.pos, self.follow = read_position(self.consumer, self.topic, self.source)
        self.consumer.assign(dict(self.follow))
        log.info(
            "gca-cfg position: published through version %d, next seq %d, %d above it, %d seq hole(s)",
            self.pos.watermark,
            self.pos.next_seq,
            len(self.pos.tail),
            len(self.pos.holes),
        )

    def _verify(self, sent: set[str], timeout_s: float = 30.0) -> None:
        """Read the topic forward until every event id just sent is seen (the delivery check)."""
        missing = set(sent)
        deadline = time.monotonic() + timeout_s
        while missing:
            # (as many as are missing: some clients wait for max_records or the timeout)
            for m in self.consumer.poll(max_records=len(missing), timeout_s=0.2):
                self.follow[(m.topic, m.partition)] = m.offset + 1
                if m.value is not None:
                    ev = _parse_own(m, self.source)
                    if ev is not None:
                        missing.discard(ev.get("id"))
            if missing and time.monotonic() > deadline:
                raise _DeliveryMismatch(
                    f"{len(missing)} of {len(sent)} events sent to {self.topic} did not arrive"
                )

    # -------------------------------------------------------------- poll
    def poll(self, progress: Progress | None = None) -> PollStats:
        """Publish every change above the watermark; returns what was done."""
        if not self.started:
            self.start()
        stats = PollStats()
        started = time.monotonic()
        for _attempt in range(5):
            try:
                self._poll_once(stats, progress)
                break
            except _DeliveryMismatch as exc:
                log.warning("%s: re-reading the position from the topic", exc)
                stats.reconciled += 1
                self._reconcile()
        else:
            raise AdapterError(
                "the topic keeps disagreeing with what was sent; is another producer writing source=gca?"
            )
        stats.seconds = time.monotonic() - started
        return stats

    def _poll_once(self, stats: PollStats, progress: Progress | None) -> None:
        pos = self.pos
        t = time.monotonic()
        vmax, changes = self.reader.changes_since(pos.watermark)
        stats.read_seconds += time.monotonic() - t
        stats.config_version = vmax
        stats.changed_objects = len(changes)
        if pos.empty and pos.watermark == 0 and pos.initial_through is None:
            pos.initial_through = vmax  # initial load: the configuration as of vmax
        initial = pos.initial_through
        batch: list[Change] = []
        for c in changes:
            if (c.object_type, c.dbid, c.config_version) in pos.tail:
                stats.already_published += 1
                continue
            if c.attributes is None and initial is not None and c.config_version <= initial:
                stats.never_published += 1  # gone before the initial load: nothing to delete
                continue
            batch.append(c)
            if len(batch) >= self.batch_size:
                self._send(batch, stats)
                batch = []
                if progress:
                    progress(stats)
        if batch:
            self._send(batch, stats)
        # everything up to vmax is on the topic now; numbers still missing are abandoned
        if pos.holes:
            log.warning("seq numbers %s of source %s are skipped (not reused)", pos.holes[:10], self.source)
        pos.watermark = max(pos.watermark, vmax)
        pos.initial_through = None
        pos.empty = False
        pos.tail = set()
        pos.holes = []
        pos.seq_through = pos.next_seq - 1
        if progress:
            progress(stats)

    def _event(self, c: Change, seq: int) -> dict[str, Any]:
        ev: dict[str, Any] = {
            "id": f"gca-{c.object_type}-{c.dbid}-{c.config_version}",
            "tenant": self.tenant,
            "source": self.source,
            "seq": seq,
            "ts": ts_text(c.changed_at),
            "type": "ConfigUpsert" if c.attributes is not None else "ConfigDelete",
            "v": 1,
            "object_type": c.object_type,
            "dbid": c.dbid,
            "config_version": c.config_version,
        }
        if c.attributes is not None:
            ev["attributes"] = c.attributes
        ev["published_through"] = self.pos.watermark
        ev["seq_through"] = self.pos.seq_through
        if self.pos.initial_through is not None:
            ev["initial_through"] = self.pos.initial_through
        return ev

    def _send(self, batch: list[Change], stats: PollStats) -> None:
        pos = self.pos
        sent: set[str] = set()
        holes = list(pos.holes)
        next_seq = pos.next_seq
        for c in batch:
            if holes:
                seq = holes.pop(0)
            else:
                seq, next_seq = next_seq, next_seq + 1
            ev = self._event(c, seq)
            sent.add(ev["id"])
            raw = orjson.dumps(ev)
            _, reason = self.contract.check(LOGICAL_TOPIC, raw)
            if reason is not None:  # a bug, never bad input: stop before anything wrong is published
                raise AdapterError(f"event for {c.object_type}:{c.dbid} fails the contract: {reason}")
            self.producer.send(self.topic, f"{c.object_type}:{c.dbid}".encode(), raw)
        self.producer.flush()
        self._verify(sent)
        pos.holes = holes
        pos.next_seq = next_seq
        if not holes:
            pos.seq_through = next_seq - 1
        pos.watermark = batch[-1].config_version
        stats.batches += 1
        for c in batch:
            if c.attributes is None:
                stats.deletes += 1
            else:
                stats.upserts += 1

    # -------------------------------------------------------------- snapshots
    def _snapshot_dir(self) -> str:
        return f"{SNAPSHOT_PREFIX}/{self.tenant}"

    def latest_snapshot(self) -> dict[str, Any] | None:
        assert self.store is not None
        try:
            return orjson.loads(self.store.get(f"{self._snapshot_dir()}/latest.json"))
        except ObjectNotFound:
            return None

    def write_snapshot(self) -> SnapshotInfo:
        """A full snapshot of the tenant's configuration to object storage, then the latest pointer."""
        if self.store is None:
            raise AdapterError("no object store configured for snapshots")
        started = time.monotonic()
        version, objects = self.reader.snapshot_objects()
        taken_at = ts_text(datetime.now(UTC))
        counts = {t: len(v) for t, v in objects.items()}
        doc = {
            "tenant": self.tenant,
            "config_version": version,
            "taken_at": taken_at,
            "counts": counts,
            "objects": objects,
        }
        data = gzip.compress(orjson.dumps(doc), compresslevel=6, mtime=0)
        key = f"{self._snapshot_dir()}/{version:020d}.json.gz"
        self.store.put(key, data, "application/gzip")
        pointer = {"key": key, "config_version": version, "taken_at": taken_at, "counts": counts}
        self.store.put(f"{self._snapshot_dir()}/latest.json", orjson.dumps(pointer), "application/json")
        self.snapshot_version = version
        self.last_snapshot_at = time.monotonic()
        return SnapshotInfo(key, version, counts, len(data), time.monotonic() - started)

    def maybe_snapshot(self, version: int, force: bool = False) -> SnapshotInfo | None:
        if self.store is None or version == self.snapshot_version:
            return None
        if not force and time.monotonic() - self.last_snapshot_at < self.snapshot_interval_s:
            return None
        return self.write_snapshot()

    # -------------------------------------------------------------- run
    def run(
        self,
        once: bool = False,
        interval_s: float = 30.0,
        progress: Progress | None = None,
        on_poll: Callable[[PollStats, SnapshotInfo | None], None] | None = None,
    ) -> PollStats:
        """Poll once, or every ``interval_s`` until :attr:`stop` is set. Returns the last poll's stats.

        Following, an outage (the Configuration Database, the broker) fails the poll, is logged and
        retried with back-off: the adapter reconnects, takes its lock again and reads its position
        from the topic, so what it publishes next follows what is there. An AdapterError (another
        adapter runs; the adapter would publish something wrong) still stops it.
        """
        self.start()
        stats, failures = PollStats(), 0
        while True:
            try:
                if failures:
                    self._reconnect()
                stats = self.poll(progress)
                snap = self.maybe_snapshot(stats.config_version, force=once)
            except AdapterError:
                raise
            except Exception as exc:
                if once:
                    raise
                failures += 1
                pause = backoff_seconds(failures, self.settings.outage_retry_max_seconds)
                log.warning(
                    "config adapter: poll failed (%d in a row): %s; retrying in %.0f s", failures, exc, pause
                )
                if self.stop.wait(pause):
                    return stats
                continue
            failures = 0
            if on_poll:
                on_poll(stats, snap)
            if once or self.stop.wait(interval_s):
                return stats

    def _reconnect(self) -> None:
        """After an outage: a new Configuration Database connection, the lock again, the position again."""
        try:
            self.reader.close()
        except Exception as exc:  # the old connection is gone anyway
            log.debug("closing the Configuration Database connection: %s", exc)
        self.reader = ConfigReader(self.config_dsn, self.tenant)
        self.started = False
        self.start()

    def close(self) -> None:
        self.reader.close()


def read_snapshot(store: ObjectStore, tenant: str, key: str | None = None) -> dict[str, Any]:
    """A configuration snapshot (the latest when ``key`` is None)."""
    if key is None:
        key = orjson.loads(store.get(f"{SNAPSHOT_PREFIX}/{tenant}/latest.json"))["key"]
    return orjson.loads(gzip.decompress(store.get(key)))
