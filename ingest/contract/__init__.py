"""Input event contract v1 (``/work/shared/design/EVENTS.md``): schemas and the hot-path validator.

The contract is published as draft-07 JSON Schema files under :data:`SCHEMA_DIR`: ``envelope.json``
(fields common to every event) and one folder per logical topic holding one ``<Type>.json`` per event
type (type-specific fields only). :class:`Contract` compiles them once with fastjsonschema and checks
raw messages::

    contract = Contract("t1")
    event, reason = contract.check("voice-callthread", raw_bytes)
    if event is None:
        ...  # write raw_bytes + reason to the rejects table

Checks, in order, each failure giving ``"<category>: <human-readable detail>"``:

``invalid_json``         not JSON, or not UTF-8
``unsupported_text``     a ``\\u0000`` escape or a lone UTF-16 surrogate escape (PostgreSQL jsonb rejects
                         both)
``not_an_object``        the top-level value is not a JSON object
``envelope``             envelope schema (missing field, wrong type, ``ts`` format, ...)
``unsupported_version``  ``v`` is an integer other than 1
``bad_timestamp``        ``ts`` has the right shape but is not a real date-time (month 13, Feb 30, ...)
``wrong_tenant``         the event belongs to another tenant
``unknown_type``         ``type`` is not an event type of the topic
``schema``               the event-type schema

Integer fields must be JSON integers: ``1.0`` is rejected even though JSON Schema calls it an integer,
because downstream SQL casts the text of the value to ``bigint``.

Speed: fastjsonschema's generated code costs several microseconds per event, so the same schema files are
also compiled into one plain-Python predicate per event type (envelope + type schema, see
:class:`_FastPath`) that can only *accept*. An event it does not accept takes the full path above, where
fastjsonschema decides and explains; so the fast path changes the speed, never the verdict or the reason.
A schema using a keyword the fast path does not implement simply has no fast path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import fastjsonschema
import orjson

__all__ = ["SCHEMA_DIR", "TOPICS", "TOPIC_TYPES", "Contract"]

SCHEMA_DIR: Path = Path(__file__).resolve().parent / "schemas"

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

_Validator = Any  # a fastjsonschema-compiled callable: validate(data) -> data, raising on failure
_INVALID = fastjsonschema.JsonSchemaValueException
_ENVELOPE_INTS = ("seq", "v")

# A JSON escape: "\uXXXX" (group 1 = hex digits) or any other escaped character. Scanning escapes left
# to right consumes "\\" pairs whole, so the text "\\u0000" (an escaped backslash) is not a match.
_PG_CANNOT = ", which PostgreSQL jsonb cannot store"
_ESCAPE = re.compile(rb"\\(?:u([0-9A-Fa-f]{4})|[\s\S])")


def _load(rel: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / rel).read_text(encoding="utf-8"))


def _int_fields(schema: dict[str, Any]) -> tuple[str, ...]:
    props = schema.get("properties", {})
    return tuple(name for name, sub in props.items() if sub.get("type") == "integer")


class _Unsupported(Exception):
    """A schema uses something the fast path does not implement (then only fastjsonschema is used)."""


_MISSING = object()
_ANNOTATIONS = frozenset({"$schema", "$comment", "title", "description", "examples", "default"})
_TYPE_TEST = {
    "string": "type({}) is str",
    "integer": "type({}) is int",
    "object": "type({}) is dict",
    "array": "type({}) is list",
    "null": "{} is None",
}
_TYPE_KEYWORDS = {
    "string": {"minLength", "maxLength", "pattern", "enum", "const"},
    "integer": {"minimum", "maximum", "enum", "const"},
    "object": {"required", "properties", "additionalProperties"},
    "array": {"items"},
    "null": set(),
}
_PY_TYPE = {"string": str, "integer": int}


class _FastPath:
    """Compiles the JSON Schema subset the contract uses into one Python predicate ``fast(event) -> bool``.

    The predicate is never more lenient than fastjsonschema (integers must be ``int``, patterns are
    anchored like fastjsonschema anchors them); ``False`` only means "take the full path".
    """

    def __init__(self) -> None:
        self.env: dict[str, Any] = {"_M": _MISSING}
        self.source = ""

    def _const(self, value: object) -> str:
        name = f"_c{len(self.env)}"
        self.env[name] = value
        return name

    def expr(self, schema: Any, v: str) -> str:
        """A Python boolean expression: the value of expression `v` is valid against `schema`."""
        if not isinstance(schema, dict):
            raise _Unsupported(f"schema {schema!r}")
        raw_types = schema.get("type")
        types = [raw_types] if isinstance(raw_types, str) else raw_types
        allowed = _ANNOTATIONS | {"type", "anyOf"}
        for t in types or ["object"]:  # untyped: only object keywords (applied to objects) are supported
            if t not in _TYPE_KEYWORDS:
                raise _Unsupported(f"type {t!r}")
            allowed |= _TYPE_KEYWORDS[t]
        if schema.keys() - allowed or schema.get("additionalProperties", True) is not True:
            raise _Unsupported(f"keywords {sorted(schema.keys() - allowed)} or additionalProperties")
        if types is None:
            parts = [f"(type({v}) is not dict or {self._object(schema, v)})"]
        else:
            parts = ["(" + " or ".join(self._typed(schema, t, v, len(types)) for t in types) + ")"]
        if "anyOf" in schema:
            parts.append("(" + " or ".join(self.expr(alt, v) for alt in schema["anyOf"]) + ")")
        return " and ".join(parts)

    def _typed(self, schema: dict[str, Any], t: str, v: str, n_types: int) -> str:
        parts = [_TYPE_TEST[t].format(v)]
        if t == "string":
            for key, op in (("minLength", ">="), ("maxLength", "<=")):
                if key in schema:
                    parts.append(f"len({v}) {op} {int(schema[key])}")
            if "pattern" in schema:
                parts.append(f"{self._const(_search(schema['pattern']))}({v}) is not None")
        elif t == "integer":
            for key, op in (("minimum", ">="), ("maximum", "<=")):
                if key in schema:
                    if type(schema[key]) is not int:
                        raise _Unsupported(f"{key} {schema[key]!r}")
                    parts.append(f"{v} {op} {schema[key]}")
        elif t == "object":
            parts.append(self._object(schema, v))
        elif t == "array" and "items" in schema:
            parts.append(f"all({self.expr(schema['items'], '_i')} for _i in {v})")
        for key in ("enum", "const"):
            if key in schema:
                values = schema["enum"] if key == "enum" else [schema["const"]]
                py = _PY_TYPE.get(t)
                if n_types != 1 or py is None or any(type(x) is not py for x in values):
                    raise _Unsupported(f"{key} {values!r} for type {t}")
                parts.append(f"{v} in {self._const(frozenset(values))}")
        return "(" + " and ".join(parts) + ")"

    def _object(self, schema: dict[str, Any], v: str) -> str:
        required, props = schema.get("required", []), schema.get("properties", {})
        parts = [f"{k!r} in {v}" for k in required if k not in props]
        for k, sub in props.items():
            check = self.expr(sub, f"{v}[{k!r}]")
            parts.append(f"({k!r} in {v} and {check})" if k in required else f"({k!r} not in {v} or {check})")
        return "(" + (" and ".join(parts) or "True") + ")"

    def compile(self, *schemas: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
        """One predicate for a dict that must satisfy all `schemas` (each describing the whole object)."""
        lines: list[str] = []
        for schema in schemas:
            self.expr(schema, "d")  # raises _Unsupported for anything not implemented
            required, props = schema.get("required", []), schema.get("properties", {})
            lines += [f"if {k!r} not in d: return False" for k in required if k not in props]
            for k, sub in props.items():
                var = f"_v{len(lines)}"
                if k in required:  # a missing key raises KeyError: not valid
                    lines += [f"{var} = d[{k!r}]", f"if not ({self.expr(sub, var)}): return False"]
                else:
                    lines += [
                        f"{var} = d.get({k!r}, _M)",
                        f"if {var} is not _M and not ({self.expr(sub, var)}):",
                    ]
                    lines.append("    return False")
            if "anyOf" in schema:
                lines.append(
                    f"if not ({' or '.join(self.expr(alt, 'd') for alt in schema['anyOf'])}): return False"
                )
        head, tail = (
            ["def fast(d):", "    try:"],
            ["    except (KeyError, TypeError):", "        return False"],
        )
        self.source = "\n".join([*head, *(f"        {line}" for line in lines), *tail, "    return True\n"])
        exec(compile(self.source, "<contract fast path>", "exec"), self.env)
        return self.env["fast"]


def _search(pattern: str) -> Callable[[str], object]:
    """``re.search`` with a final ``$`` meaning end of string (as in fastjsonschema), not before a newline."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + "\\Z"
    if "$" in pattern:
        raise _Unsupported(f"pattern {pattern!r}")
    return re.compile(pattern).search


class _Entry(NamedTuple):
    validate: _Validator  # fastjsonschema, authoritative
    int_fields: tuple[str, ...]  # fields of type integer, where integral floats (1.0) are rejected too
    fast: Callable[[dict[str, Any]], bool] | None  # accept-only fast path (envelope + type)


@cache
def _compiled() -> tuple[_Validator, dict[str, dict[str, _Entry]]]:
    """Compile every schema once per process (shared by all :class:`Contract` instances)."""
    envelope_schema = _load("envelope.json")
    envelope = fastjsonschema.compile(envelope_schema)
    types: dict[str, dict[str, _Entry]] = {}
    for topic in TOPICS:
        types[topic] = {}
        for name in sorted(TOPIC_TYPES[topic]):
            schema = _load(f"{topic}/{name}.json")
            try:
                fast = _FastPath().compile(envelope_schema, schema)
            except _Unsupported:
                fast = None
            types[topic][name] = _Entry(fastjsonschema.compile(schema), _int_fields(schema), fast)
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


def _schema_message(exc: fastjsonschema.JsonSchemaValueException) -> str:
    """fastjsonschema's message, plus the alternatives' descriptions for a failed anyOf/oneOf."""
    if exc.rule in ("anyOf", "oneOf") and isinstance(exc.rule_definition, list):
        alternatives = [alt.get("description", "?") for alt in exc.rule_definition if isinstance(alt, dict)]
        return f"{exc.message} (expected {' or '.join(alternatives)})"
    return exc.message


def _not_int(event: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    for name in fields:
        value = event.get(name)
        if type(value) is float:  # the schema let an integral float like 1.0 through
            return f"data.{name} must be integer (got {value!r})"
    return None


class Contract:
    """Validator of contract-v1 events for one tenant's Info Mart."""

    def __init__(self, tenant: str) -> None:
        if not isinstance(tenant, str) or not tenant:
            raise ValueError(f"tenant must be a non-empty string, got {tenant!r}")
        self.tenant = tenant
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

        # Parse. orjson rejects invalid UTF-8 and lone surrogates itself; name the latter precisely.
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            bad = _bad_text(raw) if b"\\u" in raw else None
            return None, f"unsupported_text: {bad}" if bad else f"invalid_json: {exc}"
        if b"\\u" in raw:  # fast path: most events have no \u escape at all
            bad = _bad_text(raw)
            if bad:
                return None, f"unsupported_text: {bad}"
        if type(event) is not dict:
            return None, f"not_an_object: top-level JSON value is {_json_type(event)}, not an object"

        etype = event.get("type")
        entry = types.get(etype) if type(etype) is str else None
        if entry is not None and entry.fast is not None and entry.fast(event):
            reason = self._ts_and_tenant(event)
            return (None, reason) if reason else (event, None)
        return self._full(topic, types, event)

    def _full(
        self, topic: str, types: dict[str, _Entry], event: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The ordered checks with fastjsonschema, for whatever the fast path did not accept."""
        # Envelope.
        try:
            self._envelope(event)
        except _INVALID as exc:
            if exc.name == "data.v" and type(exc.value) is int:
                return None, f"unsupported_version: v={exc.value} is not supported (this Info Mart reads v=1)"
            return None, f"envelope: {_schema_message(exc)}"
        bad = _not_int(event, _ENVELOPE_INTS)
        if bad:
            return None, f"envelope: {bad}"
        reason = self._ts_and_tenant(event)
        if reason:
            return None, reason

        # Event type.
        etype = event["type"]
        entry = types.get(etype)
        if entry is None:
            return None, self._unknown_type(topic, etype)
        try:
            entry.validate(event)
        except _INVALID as exc:
            return None, f"schema: {etype}: {_schema_message(exc)}"
        bad = _not_int(event, entry.int_fields)
        if bad:
            return None, f"schema: {etype}: {bad}"
        return event, None

    def _ts_and_tenant(self, event: dict[str, Any]) -> str | None:
        """Checks after the envelope schema: ``ts`` is a real date-time, the tenant is ours."""
        ts = event["ts"]
        try:
            datetime.fromisoformat(ts)
        except ValueError:
            return f"bad_timestamp: ts {ts!r} is not a valid date-time"
        if event["tenant"] != self.tenant:
            return f"wrong_tenant: event tenant {event['tenant']!r} is not {self._tenant_is}"
        return None

    @staticmethod
    def _unknown_type(topic: str, etype: str) -> str:
        others = [t for t in TOPICS if t != topic and etype in TOPIC_TYPES[t]]
        hint = f"; it is a type of topic {', '.join(others)}" if others else ""
        expected = ", ".join(sorted(TOPIC_TYPES[topic]))
        return (
            f"unknown_type: {etype!r} is not an event type of topic {topic} (expected one of {expected})"
            f"{hint}"
        )
