"""The GDPR forget list, and applying it to events as they land.

``infomart gdpr forget`` (``pipeline/gdpr.py``) adds a person's identifying value (an ANI, a
customer id or contact, an agent id) to ``gdpr.ctl_gdpr_forget``. The list holds no personal data:
only a keyed digest of each value (BLAKE2b with the key in ``gdpr.ctl_gdpr_key``, made once per
database) and its pseudonym, ``forgotten:`` + the digest. Every landing (``ingest/landing.py``,
both ingesters) reads the list in its transaction and, when it is not empty, rewrites the events of
the batch that hold a forgotten value, so a replayed archive or a rewound Kafka topic lands
already pseudonymised.

The rules, the same at landing and when ``forget`` rewrites what is already stored:

* every string value (at any depth, user data included; not object keys, not the envelope's
  ``id``, ``tenant``, ``source``, ``ts``, ``type``) whose digest is on the list becomes its
  pseudonym: exact values only, never a part of a longer string;
* a JSON object that holds such a value (itself or below it: a Person's ``attributes``, say) has
  its personal fields (:data:`PERSON_FIELDS`: names, e-mail, employee id, user name) replaced by
  their own pseudonyms too, so forgetting an agent id forgets the Person's names with it.

A pseudonym is never rewritten again (it starts with :data:`PREFIX`): applying the rules twice
changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg

PREFIX = "forgotten:"
#: fields of an object that holds a forgotten value which are personal data themselves
PERSON_FIELDS: frozenset[str] = frozenset(
    {"first_name", "last_name", "email", "employee_id", "user_name", "full_name", "customer_name"}
)
#: envelope fields, never personal data
ENVELOPE_FIELDS: frozenset[str] = frozenset({"id", "tenant", "source", "ts", "type"})

DDL = """
create schema if not exists gdpr;
create table if not exists gdpr.ctl_gdpr_key (
    id boolean primary key default true check (id),
    digest_key bytea not null,
    created_at timestamptz not null default now()
);
create table if not exists gdpr.ctl_gdpr_forget (
    digest text primary key,
    pseudonym text not null,
    subject_type text not null,
    request_id text not null,
    forgotten_at timestamptz not null default now()
);
"""

#: shared by every landing transaction, taken exclusively by forget while it rewrites: a batch
#: either commits before forget reads the raw tables, or reads the list after forget committed
LOCK_KEY = 0x6764707266_67  # arbitrary, fixed


def ensure_gdpr_schema(conn: psycopg.Connection) -> None:
    """Create the gdpr schema and its control tables if missing."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('infomart.gdpr_schema'))")
        conn.execute(DDL)


def digest_key(conn: psycopg.Connection) -> bytes:
    """This database's digest key, made on first use."""
    conn.execute(
        "insert into gdpr.ctl_gdpr_key (digest_key) values (%s) on conflict do nothing",
        (secrets.token_bytes(32),),
    )
    return bytes(conn.execute("select digest_key from gdpr.ctl_gdpr_key").fetchone()[0])  # type: ignore[index]


def digest(key: bytes, value: str) -> str:
    return hashlib.blake2b(value.encode(), key=key, digest_size=16).hexdigest()


def pseudonym(key: bytes, value: str) -> str:
    """The stable pseudonym of a value in this database."""
    return PREFIX + digest(key, value)


@dataclass(frozen=True, slots=True)
class Hit:
    """A value replaced: where (a JSON path, empty for the value itself), what, by what."""

    path: str
    original: str
    replacement: str


@dataclass
class ForgetList:
    """The forgotten digests, and the rules applied with them."""

    key: bytes = b""
    forgotten: dict[str, str] = field(default_factory=dict)  # digest -> pseudonym
    _seen: dict[str, str | None] = field(default_factory=dict)  # value -> pseudonym or None (memo)

    def __bool__(self) -> bool:
        return bool(self.forgotten)

    def replacement(self, value: str) -> str | None:
        """The pseudonym of a forgotten value, else None."""
        seen = self._seen
        if value in seen:
            return seen[value]
        found = None
        if not value.startswith(PREFIX):
            found = self.forgotten.get(digest(self.key, value))
        if len(seen) < 100_000:
            seen[value] = found
        return found

    def apply(
        self, value: Any, top: bool = True, path: str = "", hits: list[Hit] | None = None
    ) -> tuple[Any, bool]:
        """(the value with the rules applied, whether it holds a forgotten value). ``top``: the value
        is an event (its envelope fields are left alone); ``hits`` collects what was replaced."""
        if type(value) is str:
            new = self.replacement(value)
            if new is None:
                return value, False
            if hits is not None:
                hits.append(Hit(path, value, new))
            return new, True
        if type(value) is list:
            hit = False
            for i, inner in enumerate(value):
                value[i], found = self.apply(inner, False, f"{path}[{i}]", hits)
                hit = hit or found
            return value, hit
        if type(value) is dict:
            hit = False
            for k, inner in value.items():
                if top and k in ENVELOPE_FIELDS:
                    continue
                value[k], found = self.apply(inner, False, f"{path}.{k}" if path else k, hits)
                hit = hit or found
            if hit:
                for k in sorted(PERSON_FIELDS & value.keys()):
                    inner = value[k]
                    if type(inner) is str and inner and not inner.startswith(PREFIX):
                        value[k] = pseudonym(self.key, inner)
                        if hits is not None:
                            hits.append(Hit(f"{path}.{k}" if path else k, inner, value[k]))
            return value, hit
        return value, False

    def rewrite(self, raw: bytes) -> bytes | None:
        """The event's bytes with the rules applied, or None when it holds no forgotten value (or is
        not JSON: a reject)."""
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        event, hit = self.apply(event)
        return orjson.dumps(event) if hit else None


def load_forget_list(cur: psycopg.Cursor) -> ForgetList:
    """The forget list, read in the caller's transaction under the shared landing lock; empty (and
    free) when nothing was ever forgotten."""
    cur.execute("select pg_advisory_xact_lock_shared(%s)", (LOCK_KEY,))
    if cur.execute("select to_regclass('gdpr.ctl_gdpr_forget') is not null").fetchone()[0] is not True:  # type: ignore[index]
        return ForgetList()
    rows = cur.execute("select digest, pseudonym from gdpr.ctl_gdpr_forget").fetchall()
    if not rows:
        return ForgetList()
    key = cur.execute("select digest_key from gdpr.ctl_gdpr_key").fetchone()
    return ForgetList(bytes(key[0]), dict(rows))  # type: ignore[index]
