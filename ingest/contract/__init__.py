"""Input event contract v1 (``/work/shared/design/EVENTS.md``): schemas and the hot-path validator.

The contract is published as draft-07 JSON Schema files under :data:`SCHEMA_DIR`: ``envelope.json``
(fields common to every event) and one folder per logical topic holding one ``<Type>.json`` per event
type (type-specific fields only). :class:`Contract` compiles them once with jsonschema-rs and checks
raw messages::

    contract = Contract("t1")
    event, reason = contract.check("voice-callthread", raw_bytes)
    if event is None:
        ...  # write raw_bytes + reason to the rejects table

Checks, in order, each failure giving ``"<category>: <human-readable detail>"``:

``too_large``            the message is longer than the size limit (default 1 MiB), before it is parsed
``invalid_json``         not JSON, or not UTF-8
``unsupported_text``     a ``\\u0000`` escape or a lone UTF-16 surrogate escape (PostgreSQL jsonb rejects
                         both)
``not_an_object``        the top-level value is not a JSON object
``envelope``             envelope schema (missing field, wrong type, ``ts`` format, ...)
``unsupported_version``  ``v`` is an integer other than 1
``bad_timestamp``        ``ts`` has the right shape but is not a real date-time (month 13, Feb 30, ...)
``future_timestamp``     ``ts`` is further ahead of the ingest clock than the tolerance (default 1 hour)
``too_old``              ``ts`` is older than the raw retention (when a retention is set), or before
                         1970-01-01, where the Info Mart's integer time keys (DATE_TIME_KEY) begin
``wrong_tenant``         the event belongs to another tenant
``unknown_type``         ``type`` is not an event type of the topic
``schema``               the event-type schema
``string_too_long``      a string value (at any depth, user data included) is longer than the bound
                         (default 32,768 characters; checked only for messages that long), or a string
                         outside ``user_data`` (an id, a DN, a name) is longer than the field bound
                         (default 255 characters, GIM's VARCHAR(255): ids and names are indexed, and
                         PostgreSQL cannot index a key of several kilobytes)

The JSON Schema rules are jsonschema-rs's; this module adds only what no JSON Schema validator checks:
the text PostgreSQL jsonb cannot store, integral floats, real calendar dates, the tenant and the version
category. Integer fields must be JSON integers: ``1.0`` is rejected even though JSON Schema calls it an
integer, because downstream SQL casts the text of the value to ``bigint``.

Speed: a valid event costs one jsonschema-rs ``is_valid`` call (envelope and type schema in one
validator) plus the checks above. Only an event that fails takes the ordered path that finds the
category and explains it (:meth:`Contract.explain`); both paths apply the same rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema_rs
import orjson

from infomart.settings import Settings
from ingest.contract.reasons import first_error_reason

__all__ = ["SCHEMA_DIR", "TOPICS", "TOPIC_TYPES", "Contract", "Limits", "limits_of"]

SCHEMA_DIR: Path = Path(__file__).resolve().parent / "schemas"

#: The earliest event time: DATE_TIME_KEY and the facts' *_DATE_TIME_KEY are epoch seconds in an
#: integer (as GIM's), so a time before 1970 could not be keyed. The latest is bounded by the
#: future tolerance.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: The logical topic ids, in EVENTS.md order.
TOPICS: tuple[str, ...] = (
    "voice-callthread",
    "voice-agentstate",
    "digital-itx",
    "digital-agentstate",
    "voice-outbound",
    "gca-cfg",
)


def _topic_types() -> dict[str, frozenset[str]]:
    types = {topic: frozenset(p.stem for p in (SCHEMA_DIR / topic).glob("*.json")) for topic in TOPICS}
    empty = [topic for topic, names in types.items() if not names]
    if empty:
        raise RuntimeError(f"no event-type schemas under {SCHEMA_DIR} for topics {empty}")
    return types


#: topic -> its event types, from the schema folders.
TOPIC_TYPES: dict[str, frozenset[str]] = _topic_types()

# A JSON escape: "\uXXXX" (group 1 = hex digits) or any other escaped character. Scanning escapes left
# to right consumes "\\" pairs whole, so the text "\\u0000" (an escaped backslash) is not a match.
_PG_CANNOT = ", which PostgreSQL jsonb cannot store"
_ESCAPE = re.compile(rb"\\(?:u([0-9A-Fa-f]{4})|[\s\S])")


def _load(rel: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / rel).read_text(encoding="utf-8"))


def _int_fields(schema: dict[str, Any]) -> tuple[str, ...]:
    props = schema.get("properties", {})
    return tuple(name for name, sub in props.items() if sub.get("type") == "integer")


class _Schema(NamedTuple):
    schema: dict[str, Any]  # the JSON Schema document, for the alternatives' descriptions in reasons
    validator: jsonschema_rs.Validator
    int_fields: tuple[str, ...]  # fields of type integer, where integral floats (1.0) are rejected too


class _EventType(NamedTuple):
    accepts: jsonschema_rs.Validator  # envelope + event type in one validator: the hot path
    int_fields: tuple[str, ...]  # integer fields of the envelope and of the type
    schema: _Schema  # the event type alone, to explain a failure


def _schema(schema: dict[str, Any]) -> _Schema:
    return _Schema(schema, jsonschema_rs.Draft7Validator(schema), _int_fields(schema))


@cache
def _compiled() -> tuple[_Schema, dict[str, dict[str, _EventType]]]:
    """Compile every schema once per process (shared by all :class:`Contract` instances)."""
    envelope = _schema(_load("envelope.json"))
    types: dict[str, dict[str, _EventType]] = {}
    for topic in TOPICS:
        types[topic] = {}
        for name in sorted(TOPIC_TYPES[topic]):
            own = _schema(_load(f"{topic}/{name}.json"))
            both = jsonschema_rs.Draft7Validator({"allOf": [envelope.schema, own.schema]})
            types[topic][name] = _EventType(both, (*envelope.int_fields, *own.int_fields), own)
    return envelope, types


def _bad_text(raw: bytes) -> str | None:
    """Describe the first ``\\u0000`` or lone-surrogate escape in ``raw``, or None if there is none."""
    high: bytes | None = None  # a high-surrogate escape waiting for its low half
    high_end = -1
    for m in _ESCAPE.finditer(raw):
        digits = m.group(1)
        code = int(digits, 16) if digits is not None else -1
        if high is not None:
            if m.start() == high_end and 0xDC00 <= code <= 0xDFFF:
                high = None
                continue
            break
        if code == 0:
            return f"contains \\u0000{_PG_CANNOT}"
        if 0xD800 <= code <= 0xDBFF:
            high, high_end = digits, m.end()
        elif 0xDC00 <= code <= 0xDFFF:
            return f"contains a lone UTF-16 low surrogate \\u{digits.decode()}{_PG_CANNOT}"
    if high is not None:
        return f"contains a lone UTF-16 high surrogate \\u{high.decode()}{_PG_CANNOT}"
    return None


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _not_int(event: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    for name in fields:
        value = event.get(name)
        if type(value) is float:  # JSON Schema lets an integral float like 1.0 through
            return f"data.{name} must be integer (got {value!r})"
    return None


def _has_float(event: dict[str, Any], fields: tuple[str, ...]) -> bool:
    for name in fields:  # noqa: SIM110 - a plain loop is cheaper than any() on the hot path
        if type(event.get(name)) is float:
            return True
    return False


@dataclass(frozen=True)
class Limits:
    """The bounds an event must keep besides its schema (settings ``event_max_bytes``,
    ``future_tolerance_seconds``, ``raw_retention_days``, ``string_max_chars``)."""

    max_bytes: int = 1 << 20
    future_tolerance: timedelta = timedelta(hours=1)
    max_age: timedelta | None = None  # the raw retention; None: no event is too old
    max_string_chars: int = 32_768
    max_field_chars: int = 255  # strings outside user_data


def limits_of(settings: Settings) -> Limits:
    """The limits the settings give."""
    return Limits(
        max_bytes=settings.event_max_bytes,
        future_tolerance=timedelta(seconds=settings.future_tolerance_seconds),
        max_age=timedelta(days=settings.raw_retention_days) if settings.raw_retention_days else None,
        max_string_chars=settings.string_max_chars,
        max_field_chars=settings.field_max_chars,
    )


def _long_string(value: object, bound: int, skip: str | None = None) -> str | None:
    """The path of the first string longer than `bound` in a JSON value (not under the top-level key
    `skip`), or None."""
    if type(value) is str:
        return "" if len(value) > bound else None
    items = value.items() if type(value) is dict else enumerate(value) if type(value) is list else ()
    for key, inner in items:
        if key == skip:
            continue
        found = _long_string(inner, bound)
        if found is not None:
            return f".{key}{found}" if type(key) is str else f"[{key}]{found}"
    return None


class Contract:
    """Validator of contract-v1 events for one tenant's Info Mart."""

    def __init__(
        self,
        tenant: str,
        limits: Limits | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not isinstance(tenant, str) or not tenant:
            raise ValueError(f"tenant must be a non-empty string, got {tenant!r}")
        self.tenant = tenant
        self.limits = limits or Limits()
        self.clock = clock
        self._tenant_is = f"this Info Mart's tenant {tenant!r}"
        self._envelope, self._types = _compiled()

    def check(self, topic: str, raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
        """Validate one raw message of logical topic `topic`.

        Returns (event_dict, None) when valid, (None, reason) when not. Never raises for bad input
        (raises ValueError only for an unknown `topic` argument, which is a programming error).
        """
        types = self._types.get(topic)
        if types is None:
            raise ValueError(f"unknown topic {topic!r} (expected one of {', '.join(TOPICS)})")
        if type(raw) is not bytes:
            if not isinstance(raw, bytes | bytearray | memoryview):
                return None, f"invalid_json: expected bytes, got {type(raw).__name__}"
            raw = bytes(raw)
        if len(raw) > self.limits.max_bytes:
            return None, (
                f"too_large: the message is {len(raw):,} bytes, more than the limit of"
                f" {self.limits.max_bytes:,} (setting event_max_bytes)"
            )

        # Parse. orjson rejects invalid UTF-8 and lone surrogates itself; name the latter precisely.
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            bad = _bad_text(raw) if b"\\u" in raw else None
            return None, f"unsupported_text: {bad}" if bad else f"invalid_json: {exc}"
        if b"\\u" in raw:  # most events have no \u escape at all
            bad = _bad_text(raw)
            if bad:
                return None, f"unsupported_text: {bad}"
        if type(event) is not dict:
            return None, f"not_an_object: top-level JSON value is {_json_type(event)}, not an object"

        # Hot path: one validator for envelope + type; anything it does not accept is explained.
        etype = event.get("type")
        entry = types.get(etype) if type(etype) is str else None
        if entry is not None and entry.accepts.is_valid(event) and not _has_float(event, entry.int_fields):
            reason = self._ts_and_tenant(event) or self._strings(event, len(raw))
            return (None, reason) if reason else (event, None)
        reason = self.explain(topic, event) or self._strings(event, len(raw))  # the ordered checks
        return (None, reason) if reason else (event, None)

    def explain(self, topic: str, event: dict[str, Any]) -> str | None:
        """The reason `event` (a JSON object) is not a valid event of `topic`, or None if it is.

        The checks in the order of the module docstring, so the first one that fails names the category.
        """
        envelope = self._envelope
        failed = first_error_reason(envelope.validator.iter_errors(event), envelope.schema)
        if failed is not None:
            error, reason = failed
            if list(error.instance_path) == ["v"] and type(event["v"]) is int:
                return f"unsupported_version: v={event['v']} is not supported (this Info Mart reads v=1)"
            return f"envelope: {reason}"
        bad = _not_int(event, envelope.int_fields)
        if bad:
            return f"envelope: {bad}"
        reason = self._ts_and_tenant(event)
        if reason:
            return reason

        etype = event["type"]
        entry = self._types[topic].get(etype)
        if entry is None:
            return self._unknown_type(topic, etype)
        own = entry.schema
        failed = first_error_reason(own.validator.iter_errors(event), own.schema)
        if failed is not None:
            return f"schema: {etype}: {failed[1]}"
        bad = _not_int(event, own.int_fields)
        if bad:
            return f"schema: {etype}: {bad}"
        return None

    def _ts_and_tenant(self, event: dict[str, Any]) -> str | None:
        """Checks after the envelope schema: ``ts`` is a real date-time, the tenant is ours."""
        ts = event["ts"]
        try:
            when = datetime.fromisoformat(ts)
        except ValueError:
            return f"bad_timestamp: ts {ts!r} is not a valid date-time"
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        now = self.clock()
        if when > now + self.limits.future_tolerance:
            return (
                f"future_timestamp: ts {ts} is more than {self.limits.future_tolerance} ahead of the ingest"
                f" clock ({now:%Y-%m-%dT%H:%M:%SZ}; setting future_tolerance_seconds)"
            )
        if when < EPOCH:
            return f"too_old: ts {ts} is before 1970-01-01, where the Info Mart's time keys begin"
        if self.limits.max_age is not None and when < now - self.limits.max_age:
            return (
                f"too_old: ts {ts} is older than the raw retention of {self.limits.max_age.days} days"
                " (setting raw_retention_days)"
            )
        if event["tenant"] != self.tenant:
            return f"wrong_tenant: event tenant {event['tenant']!r} is not {self._tenant_is}"
        return None

    def _strings(self, event: dict[str, Any], size: int) -> str | None:
        """A string value longer than its bound (only a message that long can hold one)."""
        field_bound = self.limits.max_field_chars
        if size > field_bound:
            path = _long_string(event, field_bound, skip="user_data")
            if path is not None:
                return (
                    f"string_too_long: {path.lstrip('.')} is longer than {field_bound:,} characters"
                    " (setting field_max_chars; only user_data values may be longer)"
                )
        bound = self.limits.max_string_chars
        if size <= bound:
            return None
        path = _long_string(event, bound)
        if path is None:
            return None
        return (
            f"string_too_long: {path.lstrip('.')} is longer than {bound:,} characters"
            " (setting string_max_chars)"
        )

    @staticmethod
    def _unknown_type(topic: str, etype: str) -> str:
        others = [t for t in TOPICS if t != topic and etype in TOPIC_TYPES[t]]
        hint = f"; it is a type of topic {', '.join(others)}" if others else ""
        expected = ", ".join(sorted(TOPIC_TYPES[topic]))
        return (
            f"unknown_type: {etype!r} is not an event type of topic {topic} (expected one of {expected})"
            f"{hint}"
        )
