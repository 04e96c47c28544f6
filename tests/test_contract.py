"""Tests of the input event contract (schemas + validator), against /work/shared/design/EVENTS.md."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import orjson
import pytest

from ingest.contract import SCHEMA_DIR, TOPIC_TYPES, TOPICS, Contract, Limits

TENANT = "t1"

# EVENTS.md, hard-coded: topic -> event types.
EXPECTED_TYPES: dict[str, set[str]] = {
    "voice-callthread": {
        "CallCreated",
        "PartyAdded",
        "Queued",
        "Diverted",
        "Ringing",
        "Dialing",
        "Established",
        "Held",
        "Retrieved",
        "Released",
        "UserDataChanged",
        "CallEnded",
    },
    "voice-agentstate": {"AgentLogin", "AgentReady", "AgentNotReady", "AgentLogout"},
    "digital-itx": {
        "InteractionCreated",
        "Queued",
        "Offered",
        "Accepted",
        "Rejected",
        "OfferTimedOut",
        "Transferred",
        "AgentReleased",
        "Completed",
    },
    "digital-agentstate": {"MediaLogin", "MediaReady", "MediaNotReady", "MediaLogout"},
    "voice-outbound": {
        "CampaignGroupStarted",
        "CampaignGroupStopped",
        "RecordDialed",
        "DialResult",
        "RecordCompleted",
    },
    "gca-cfg": {"ConfigUpsert", "ConfigDelete"},
}

_CP = {"call_id": "c-1", "party_id": "p-1"}
_IA = {"itx_id": "i-1", "agent_id": "a-1"}

# One valid example per (topic, type): exactly the fields EVENTS.md lists, all of them required
# (Transferred: to_queue is one of the two alternatives, see test_transferred_*).
VALID: dict[str, dict[str, dict[str, Any]]] = {
    "voice-callthread": {
        "CallCreated": {
            "call_id": "c-1",
            "thread_id": "t-1",
            "call_type": "Inbound",
            "ani": "+15551230001",
            "dnis": "+18005550100",
            "user_data": {"segment": "gold"},
        },
        "PartyAdded": {
            "call_id": "c-1",
            "party_id": "p-2",
            "dn": "5001",
            "dn_type": "Extension",
            "agent_id": "a-1",
            "reason": "Transfer",
            "initiator_party_id": "p-1",
        },
        "Queued": {"call_id": "c-1", "party_id": "p-1", "queue": "VQ_Sales"},
        "Diverted": {"call_id": "c-1", "party_id": "p-1", "target_party_id": "p-2"},
        "Ringing": dict(_CP),
        "Dialing": dict(_CP),
        "Established": dict(_CP),
        "Held": dict(_CP),
        "Retrieved": dict(_CP),
        "Released": {"call_id": "c-1", "party_id": "p-1", "cause": "NoAnswer"},
        "UserDataChanged": {"call_id": "c-1", "user_data": {"case": 42, "nested": {"x": [1, 2]}}},
        "CallEnded": {"call_id": "c-1"},
    },
    "voice-agentstate": {
        "AgentLogin": {"agent_id": "a-1", "dn": "5001", "place": "P5001", "queues": ["Q1", "Q2"]},
        "AgentReady": {"agent_id": "a-1"},
        "AgentNotReady": {"agent_id": "a-1", "workmode": "AuxWork", "reason_code": "Lunch"},
        "AgentLogout": {"agent_id": "a-1"},
    },
    "digital-itx": {
        "InteractionCreated": {
            "itx_id": "i-1",
            "media_type": "chat",
            "direction": "Inbound",
            "customer_id": "cust-9",
            "user_data": {},
        },
        "Queued": {"itx_id": "i-1", "queue": "Chat_Q"},
        "Offered": dict(_IA),
        "Accepted": dict(_IA),
        "Rejected": dict(_IA),
        "OfferTimedOut": dict(_IA),
        "Transferred": {"itx_id": "i-1", "agent_id": "a-1", "to_queue": "Chat_Q2"},
        "AgentReleased": dict(_IA),
        "Completed": {"itx_id": "i-1", "reason": "Resolved"},
    },
    "digital-agentstate": {
        "MediaLogin": {"agent_id": "a-1", "media_type": "email", "capacity": 3},
        "MediaReady": {"agent_id": "a-1", "media_type": "email"},
        "MediaNotReady": {"agent_id": "a-1", "media_type": "email", "reason_code": "Break"},
        "MediaLogout": {"agent_id": "a-1", "media_type": "email"},
    },
    "voice-outbound": {
        "CampaignGroupStarted": {"campaign_id": "cmp-1", "group": "OB_Group", "dialing_mode": "Predictive"},
        "CampaignGroupStopped": {"campaign_id": "cmp-1", "group": "OB_Group", "dialing_mode": "Preview"},
        "RecordDialed": {
            "campaign_id": "cmp-1",
            "record_id": "r-1",
            "chain_id": "ch-1",
            "attempt": 1,
            "contact": "+15551230002",
            "call_id": "c-9",
        },
        "DialResult": {
            "campaign_id": "cmp-1",
            "record_id": "r-1",
            "call_id": "c-9",
            "result": "AnsweringMachine",
        },
        "RecordCompleted": {"campaign_id": "cmp-1", "record_id": "r-1", "disposition": "Sale"},
    },
    "gca-cfg": {
        "ConfigUpsert": {
            "object_type": "Person",
            "dbid": 101,
            "config_version": 7,
            "attributes": {"employee_id": "E1", "first_name": "Ann"},
        },
        "ConfigDelete": {"object_type": "Queue", "dbid": 202, "config_version": 8},
    },
}

# Enumerated fields, exactly as EVENTS.md lists them: (topic, type, field) -> allowed values.
MEDIA = ["chat", "email", "sms", "social", "workitem"]
ENUMS: dict[tuple[str, str, str], list[str]] = {
    ("voice-callthread", "CallCreated", "call_type"): ["Inbound", "Outbound", "Internal", "Consult"],
    ("voice-callthread", "PartyAdded", "dn_type"): ["RoutingPoint", "Queue", "Extension", "External", "IVR"],
    ("voice-callthread", "PartyAdded", "reason"): ["New", "Route", "Transfer", "Conference", "Consult"],
    ("voice-callthread", "Released", "cause"): [
        "Normal",
        "Abandoned",
        "NoAnswer",
        "Rejected",
        "Busy",
        "Transferred",
        "Conferenced",
        "Redirected",
    ],
    ("voice-agentstate", "AgentNotReady", "workmode"): ["AuxWork", "AfterCallWork"],
    ("digital-itx", "InteractionCreated", "media_type"): MEDIA,
    ("digital-itx", "InteractionCreated", "direction"): ["Inbound", "Outbound"],
    ("digital-itx", "Completed", "reason"): ["Resolved", "Abandoned", "Expired", "Cancelled"],
    **{("digital-agentstate", t, "media_type"): MEDIA for t in EXPECTED_TYPES["digital-agentstate"]},
    ("voice-outbound", "CampaignGroupStarted", "dialing_mode"): ["Preview", "Progressive", "Predictive"],
    ("voice-outbound", "CampaignGroupStopped", "dialing_mode"): ["Preview", "Progressive", "Predictive"],
    ("voice-outbound", "DialResult", "result"): [
        "Answered",
        "Busy",
        "NoAnswer",
        "AnsweringMachine",
        "Fax",
        "SIT",
        "Dropped",
        "Abandoned",
    ],
    ("gca-cfg", "ConfigUpsert", "object_type"): [
        "Person",
        "AgentGroup",
        "Skill",
        "DN",
        "Place",
        "Queue",
        "Campaign",
        "ActionCode",
    ],
    ("gca-cfg", "ConfigDelete", "object_type"): [
        "Person",
        "AgentGroup",
        "Skill",
        "DN",
        "Place",
        "Queue",
        "Campaign",
        "ActionCode",
    ],
}

NULLABLE = [
    ("voice-callthread", "PartyAdded", "agent_id"),
    ("voice-callthread", "PartyAdded", "initiator_party_id"),
    ("voice-agentstate", "AgentNotReady", "reason_code"),
    ("digital-agentstate", "MediaNotReady", "reason_code"),
]

ALL_TYPES = [(topic, etype) for topic in TOPICS for etype in sorted(EXPECTED_TYPES[topic])]
ALL_FIELDS = [(topic, etype, f) for topic, etype in ALL_TYPES for f in VALID[topic][etype]]
# Wrong-typed fields: one value per field of a JSON type the field never accepts.
INT_FIELDS = {"attempt", "capacity", "dbid", "config_version"}
OBJECT_FIELDS = {"user_data", "attributes"}


def envelope(etype: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "sip-7f3a-000001",
        "tenant": TENANT,
        "source": "sip-a",
        "seq": 1,
        "ts": "2026-11-23T10:00:00.123Z",
        "type": etype,
        "v": 1,
        **extra,
    }


def event(topic: str, etype: str, **overrides: Any) -> dict[str, Any]:
    ev = envelope(etype, **copy.deepcopy(VALID[topic][etype]))
    ev.update(overrides)
    return ev


def raw(ev: dict[str, Any]) -> bytes:
    return orjson.dumps(ev)


def without(ev: dict[str, Any], field: str) -> dict[str, Any]:
    ev = dict(ev)
    del ev[field]
    return ev


def category(reason: str | None) -> str:
    assert reason is not None
    assert re.match(r"^[a-z_]+: \S", reason), reason
    return reason.split(":", 1)[0]


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(TENANT)


def assert_valid(contract: Contract, topic: str, data: bytes | dict[str, Any]) -> dict[str, Any]:
    payload = data if isinstance(data, bytes) else raw(data)
    ev, reason = contract.check(topic, payload)
    assert reason is None, reason
    assert ev == orjson.loads(payload)
    return ev


def assert_rejected(contract: Contract, topic: str, data: bytes | dict[str, Any], cat: str) -> str:
    payload = data if isinstance(data, bytes) else raw(data)
    ev, reason = contract.check(topic, payload)
    assert ev is None
    assert category(reason) == cat, reason
    assert reason is not None
    return reason


# ------------------------------------------------------------------ schema files and topic/type lists


def test_topics_and_types_match_events_md() -> None:
    assert TOPICS == (
        "voice-callthread",
        "voice-agentstate",
        "digital-itx",
        "digital-agentstate",
        "voice-outbound",
        "gca-cfg",
    )
    assert {t: set(v) for t, v in TOPIC_TYPES.items()} == EXPECTED_TYPES
    assert all(isinstance(v, frozenset) for v in TOPIC_TYPES.values())
    assert set(VALID) == set(EXPECTED_TYPES)
    assert {t: set(v) for t, v in VALID.items()} == EXPECTED_TYPES


def _schema_files() -> list[str]:
    return sorted(str(p.relative_to(SCHEMA_DIR)) for p in SCHEMA_DIR.rglob("*.json"))


def test_schema_tree_layout() -> None:
    expected = ["envelope.json"] + [f"{t}/{e}.json" for t in TOPICS for e in EXPECTED_TYPES[t]]
    assert _schema_files() == sorted(expected)


@pytest.mark.parametrize("rel", _schema_files())
def test_schema_file_is_valid_draft7(rel: str) -> None:
    schema = json.loads((SCHEMA_DIR / rel).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "$id" not in schema
    assert schema["title"].strip() and schema["description"].strip()
    assert schema["type"] == "object"
    assert schema.get("additionalProperties", True) is True


@pytest.mark.parametrize(("topic", "etype"), ALL_TYPES)
def test_type_schema_requires_exactly_the_events_md_fields(topic: str, etype: str) -> None:
    schema = json.loads((SCHEMA_DIR / topic / f"{etype}.json").read_text(encoding="utf-8"))
    expected = set(VALID[topic][etype])
    if etype == "Transferred":
        expected -= {"to_queue"}  # one of to_queue / to_agent_id, via anyOf
    assert set(schema["required"]) == expected


def test_envelope_schema_requires_every_envelope_field() -> None:
    schema = json.loads((SCHEMA_DIR / "envelope.json").read_text(encoding="utf-8"))
    assert set(schema["required"]) == {"id", "tenant", "source", "seq", "ts", "type", "v"}


# ------------------------------------------------------------------ every type: valid and invalid


@pytest.mark.parametrize(("topic", "etype"), ALL_TYPES)
def test_valid_example_passes(contract: Contract, topic: str, etype: str) -> None:
    ev = assert_valid(contract, topic, event(topic, etype))
    assert ev["type"] == etype
    # The reference implementation agrees.
    for rel in ("envelope.json", f"{topic}/{etype}.json"):
        schema = json.loads((SCHEMA_DIR / rel).read_text(encoding="utf-8"))
        jsonschema.Draft7Validator(schema).validate(ev)


def test_events_md_example_passes(contract: Contract) -> None:
    example = (
        b'{"id":"sip-7f3a-000001","tenant":"t1","source":"sip-a","seq":1,"ts":"2026-11-23T10:00:00.000Z",'
        b'"type":"CallCreated","v":1,"call_id":"c-1","thread_id":"t-1","call_type":"Inbound",'
        b'"ani":"+15551230001","dnis":"+18005550100","user_data":{"segment":"gold"}}'
    )
    assert_valid(contract, "voice-callthread", example)


@pytest.mark.parametrize(("topic", "etype", "field"), ALL_FIELDS)
def test_missing_required_field_fails(contract: Contract, topic: str, etype: str, field: str) -> None:
    reason = assert_rejected(contract, topic, without(event(topic, etype), field), "schema")
    assert reason.startswith(f"schema: {etype}: ")
    if not (etype == "Transferred" and field == "to_queue"):
        assert field in reason


def _wrong_type(field: str, value: Any) -> Any:
    if field in INT_FIELDS:
        return str(value)
    if field in OBJECT_FIELDS:
        return ["not", "an", "object"]
    if isinstance(value, list):
        return "Q1"
    return 12345  # strings (identifiers, enums, nullable strings)


@pytest.mark.parametrize(("topic", "etype", "field"), ALL_FIELDS)
def test_wrong_field_type_fails(contract: Contract, topic: str, etype: str, field: str) -> None:
    ev = event(topic, etype)
    ev[field] = _wrong_type(field, ev[field])
    reason = assert_rejected(contract, topic, ev, "schema")
    assert reason.startswith(f"schema: {etype}: ")


@pytest.mark.parametrize(
    ("topic", "etype", "field"),
    [(t, e, f) for t, e, f in ALL_FIELDS if f not in INT_FIELDS | OBJECT_FIELDS | {"queues", "ani", "dnis"}],
)
def test_empty_identifier_string_fails(contract: Contract, topic: str, etype: str, field: str) -> None:
    reason = assert_rejected(contract, topic, event(topic, etype, **{field: ""}), "schema")
    assert f"data.{field}" in reason


@pytest.mark.parametrize(("topic", "etype", "field"), sorted(ENUMS))
def test_enum_values(contract: Contract, topic: str, etype: str, field: str) -> None:
    for value in ENUMS[(topic, etype, field)]:
        assert_valid(contract, topic, event(topic, etype, **{field: value}))
    reason = assert_rejected(contract, topic, event(topic, etype, **{field: "Bogus"}), "schema")
    assert f"data.{field} must be one of" in reason
    # Case matters.
    first = ENUMS[(topic, etype, field)][0]
    assert_rejected(contract, topic, event(topic, etype, **{field: first.swapcase()}), "schema")


def test_every_type_has_a_wrong_enum_or_no_enum() -> None:
    schema_enums = set()
    for topic, etype in ALL_TYPES:
        schema = json.loads((SCHEMA_DIR / topic / f"{etype}.json").read_text(encoding="utf-8"))
        schema_enums |= {(topic, etype, f) for f, sub in schema["properties"].items() if "enum" in sub}
    assert schema_enums == set(ENUMS)


# ------------------------------------------------------------------ nullable, optional, extra fields


@pytest.mark.parametrize(("topic", "etype", "field"), NULLABLE)
def test_nullable_fields_accept_null(contract: Contract, topic: str, etype: str, field: str) -> None:
    ev = assert_valid(contract, topic, event(topic, etype, **{field: None}))
    assert ev[field] is None


def test_non_nullable_field_rejects_null(contract: Contract) -> None:
    reason = assert_rejected(
        contract, "voice-callthread", event("voice-callthread", "Queued", queue=None), "schema"
    )
    assert "data.queue" in reason


def test_extra_fields_are_accepted(contract: Contract) -> None:
    ev = event("voice-callthread", "Released", future_field={"a": 1}, another=[1, "x", None])
    assert assert_valid(contract, "voice-callthread", ev)["future_field"] == {"a": 1}


def test_queues_may_be_empty_but_items_are_strings(contract: Contract) -> None:
    assert_valid(contract, "voice-agentstate", event("voice-agentstate", "AgentLogin", queues=[]))
    assert_rejected(
        contract, "voice-agentstate", event("voice-agentstate", "AgentLogin", queues=[1]), "schema"
    )
    assert_rejected(
        contract, "voice-agentstate", event("voice-agentstate", "AgentLogin", queues=[""]), "schema"
    )


def test_transferred_to_agent_only(contract: Contract) -> None:
    ev = without(event("digital-itx", "Transferred"), "to_queue")
    ev["to_agent_id"] = "a-2"
    assert_valid(contract, "digital-itx", ev)
    assert_valid(contract, "digital-itx", {**ev, "to_queue": None})
    assert_valid(contract, "digital-itx", {**ev, "to_queue": "Chat_Q2"})


def test_transferred_to_queue_with_null_agent(contract: Contract) -> None:
    assert_valid(contract, "digital-itx", event("digital-itx", "Transferred", to_agent_id=None))


def test_transferred_without_target_is_rejected(contract: Contract) -> None:
    base = without(event("digital-itx", "Transferred"), "to_queue")
    reason = assert_rejected(contract, "digital-itx", base, "schema")
    assert "to_queue" in reason and "to_agent_id" in reason
    nulls = {**base, "to_queue": None, "to_agent_id": None}
    assert_rejected(contract, "digital-itx", nulls, "schema")
    assert_rejected(contract, "digital-itx", {**base, "to_agent_id": ""}, "schema")
    assert_rejected(contract, "digital-itx", {**base, "to_queue": "Q", "agent_id": None}, "schema")


def test_queued_differs_between_topics(contract: Contract) -> None:
    voice = event("voice-callthread", "Queued")
    digital = event("digital-itx", "Queued")
    assert_valid(contract, "voice-callthread", voice)
    assert_valid(contract, "digital-itx", digital)
    assert "data must contain" in assert_rejected(contract, "voice-callthread", digital, "schema")
    assert "data must contain" in assert_rejected(contract, "digital-itx", voice, "schema")


# ------------------------------------------------------------------ integers


@pytest.mark.parametrize(
    ("topic", "etype", "field"),
    [(t, e, f) for t, e, f in ALL_FIELDS if f in INT_FIELDS],
)
def test_integer_fields(contract: Contract, topic: str, etype: str, field: str) -> None:
    for ok in (0, 9223372036854775807):
        assert_valid(contract, topic, event(topic, etype, **{field: ok}))
    for bad in (-1, 9223372036854775808, 1.5, 2.0, True, None):
        reason = assert_rejected(contract, topic, event(topic, etype, **{field: bad}), "schema")
        assert f"data.{field}" in reason


# ------------------------------------------------------------------ parsing, envelope, ordering


def test_bad_json(contract: Contract) -> None:
    assert_rejected(contract, "voice-callthread", b'{"id": "x",', "invalid_json")
    assert_rejected(contract, "voice-callthread", b"", "invalid_json")
    assert_rejected(contract, "voice-callthread", b"NaN", "invalid_json")


def test_non_utf8_bytes(contract: Contract) -> None:
    good = raw(event("voice-callthread", "CallCreated"))
    assert_rejected(contract, "voice-callthread", good.replace(b"gold", b"g\xffld"), "invalid_json")
    # UTF-8-encoded surrogate code point (not valid UTF-8).
    assert_rejected(contract, "voice-callthread", good.replace(b"gold", b"\xed\xa0\x80"), "invalid_json")


def test_non_bytes_input_never_raises(contract: Contract) -> None:
    good = raw(event("voice-callthread", "CallCreated"))
    for buffer in (bytearray(good), memoryview(good)):
        ev, reason = contract.check("voice-callthread", buffer)  # type: ignore[arg-type]
        assert reason is None and ev == orjson.loads(good)
    for bad in ("{}", 42, None):
        ev, reason = contract.check("voice-callthread", bad)  # type: ignore[arg-type]
        assert ev is None and category(reason) == "invalid_json"


@pytest.mark.parametrize(
    ("payload", "what"),
    [
        (b"[1, 2]", "an array"),
        (b'"x"', "a string"),
        (b"3", "a number"),
        (b"null", "null"),
        (b"true", "a boolean"),
    ],
)
def test_top_level_not_an_object(contract: Contract, payload: bytes, what: str) -> None:
    reason = assert_rejected(contract, "voice-callthread", payload, "not_an_object")
    assert what in reason


@pytest.mark.parametrize("field", ["id", "tenant", "source", "seq", "ts", "type", "v"])
def test_missing_envelope_field(contract: Contract, field: str) -> None:
    reason = assert_rejected(
        contract, "voice-callthread", without(event("voice-callthread", "CallEnded"), field), "envelope"
    )
    assert field in reason


@pytest.mark.parametrize("field", ["id", "tenant", "source", "type"])
def test_empty_envelope_string(contract: Contract, field: str) -> None:
    assert_rejected(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", **{field: ""}), "envelope"
    )


def test_seq_as_string(contract: Contract) -> None:
    reason = assert_rejected(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", seq="1"), "envelope"
    )
    assert reason == "envelope: data.seq must be integer"


@pytest.mark.parametrize("seq", [-1, 9223372036854775808, 1.0, 1.5, True])
def test_seq_out_of_range_or_not_int(contract: Contract, seq: Any) -> None:
    reason = assert_rejected(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", seq=seq), "envelope"
    )
    assert "data.seq" in reason


def test_seq_bounds_accepted(contract: Contract) -> None:
    for seq in (0, 9223372036854775807):
        assert_valid(contract, "voice-callthread", event("voice-callthread", "CallEnded", seq=seq))


def test_version_2(contract: Contract) -> None:
    reason = assert_rejected(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", v=2), "unsupported_version"
    )
    assert "v=2" in reason


@pytest.mark.parametrize("v", ["1", 1.0, True, None])
def test_version_wrong_type(contract: Contract, v: Any) -> None:
    reason = assert_rejected(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", v=v), "envelope"
    )
    assert "data.v" in reason


@pytest.mark.parametrize(
    "ts",
    [
        "2026-11-23T10:00:00Z",  # no millis
        "2026-11-23T10:00:00.1Z",  # 1 digit
        "2026-11-23T10:00:00.123456Z",  # micros
        "2026-11-23T10:00:00.123+00:00",  # offset instead of Z
        "2026-11-23T10:00:00.123z",  # lower-case z
        "2026-11-23 10:00:00.123Z",  # space separator
        "2026-11-23T10:00:00.123Z\n",  # trailing newline
        "1700000000123",
        "",
    ],
)
def test_bad_ts_format(contract: Contract, ts: str) -> None:
    reason = assert_rejected(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", ts=ts), "envelope"
    )
    assert "data.ts" in reason


def test_ts_number(contract: Contract) -> None:
    ev = event("voice-callthread", "CallEnded", ts=1700000000123)
    assert_rejected(contract, "voice-callthread", ev, "envelope")


@pytest.mark.parametrize(
    "ts",
    [
        "2026-13-45T10:00:00.000Z",
        "2026-02-30T10:00:00.000Z",
        "2026-11-23T24:00:00.000Z",
        "2026-11-23T10:60:00.000Z",
    ],
)
def test_impossible_date(contract: Contract, ts: str) -> None:
    reason = assert_rejected(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", ts=ts), "bad_timestamp"
    )
    assert reason == f"bad_timestamp: ts {ts!r} is not a valid date-time"


def test_leap_day_ok(contract: Contract) -> None:
    assert_valid(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", ts="2024-02-29T23:59:59.999Z")
    )


def test_wrong_tenant(contract: Contract) -> None:
    reason = assert_rejected(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", tenant="t2"), "wrong_tenant"
    )
    assert reason == "wrong_tenant: event tenant 't2' is not this Info Mart's tenant 't1'"
    assert (
        Contract("t2").check("voice-callthread", raw(event("voice-callthread", "CallEnded", tenant="t2")))[1]
        is None
    )


def test_unknown_type(contract: Contract) -> None:
    reason = assert_rejected(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", type="Foo"), "unknown_type"
    )
    assert "'Foo'" in reason and "voice-callthread" in reason and "CallCreated" in reason


def test_type_of_another_topic(contract: Contract) -> None:
    ev = envelope("AgentLogin", **VALID["voice-agentstate"]["AgentLogin"])
    reason = assert_rejected(contract, "voice-callthread", ev, "unknown_type")
    assert "voice-agentstate" in reason
    assert_valid(contract, "voice-agentstate", ev)
    assert_rejected(contract, "digital-itx", event("voice-callthread", "Ringing"), "unknown_type")


def test_unknown_topic_is_a_programming_error(contract: Contract) -> None:
    with pytest.raises(ValueError, match="unknown topic"):
        contract.check("voice-calls", raw(event("voice-callthread", "CallEnded")))


def test_contract_requires_tenant() -> None:
    with pytest.raises(ValueError):
        Contract("")


def test_check_order(contract: Contract) -> None:
    # Each stage wins over the later ones.
    ev = event(
        "voice-callthread",
        "CallCreated",
        call_type="Bogus",
        type="Foo",
        tenant="t2",
        ts="2026-02-30T00:00:00.000Z",
    )
    assert category(contract.check("voice-callthread", raw(ev))[1]) == "bad_timestamp"
    ev["ts"] = "2026-02-28T00:00:00.000Z"
    assert category(contract.check("voice-callthread", raw(ev))[1]) == "wrong_tenant"
    ev["tenant"] = TENANT
    assert category(contract.check("voice-callthread", raw(ev))[1]) == "unknown_type"
    ev["type"] = "CallCreated"
    assert category(contract.check("voice-callthread", raw(ev))[1]) == "schema"
    del ev["seq"]
    assert category(contract.check("voice-callthread", raw(ev))[1]) == "envelope"


# ------------------------------------------------------------------ text PostgreSQL jsonb cannot store


def test_nul_escape_rejected(contract: Contract) -> None:
    good = raw(event("voice-callthread", "CallCreated"))
    reason = assert_rejected(
        contract, "voice-callthread", good.replace(b"gold", b"go\\u0000ld"), "unsupported_text"
    )
    assert "\\u0000" in reason
    # In a key, in upper-case hex digits as well.
    assert_rejected(
        contract, "voice-callthread", good.replace(b'"segment"', b'"seg\\u0000"'), "unsupported_text"
    )
    assert_rejected(contract, "voice-callthread", good.replace(b"c-1", b"c-1\\u0000"), "unsupported_text")


def test_escaped_backslash_before_u0000_is_plain_text(contract: Contract) -> None:
    good = raw(event("voice-callthread", "CallCreated"))
    ev = assert_valid(contract, "voice-callthread", good.replace(b"gold", b"C:\\\\u0000"))
    assert ev["user_data"]["segment"] == "C:\\u0000"
    # Three backslashes: an escaped backslash followed by a real \u0000 escape.
    assert_rejected(contract, "voice-callthread", good.replace(b"gold", b"\\\\\\u0000"), "unsupported_text")


@pytest.mark.parametrize(
    "text",
    [
        b"\\ud800",
        b"\\uDBFF",
        b"x\\udc00y",
        b"\\ud83d",
        b"\\ude00\\ud83d",
        b"\\ud83d x \\ude00",
        b"\\ud83d\\ud83d\\ude00",
    ],
)
def test_lone_surrogate_rejected(contract: Contract, text: bytes) -> None:
    good = raw(event("voice-callthread", "CallCreated"))
    reason = assert_rejected(contract, "voice-callthread", good.replace(b"gold", text), "unsupported_text")
    assert "surrogate" in reason


def test_valid_escapes_accepted(contract: Contract) -> None:
    good = raw(event("voice-callthread", "CallCreated"))
    ev = assert_valid(
        contract, "voice-callthread", good.replace(b"gold", b'\\ud83d\\ude00 \\u00e9 \\u0001 \\n \\"')
    )
    assert ev["user_data"]["segment"] == '\U0001f600 \u00e9 \u0001 \n "'
    ev = assert_valid(contract, "voice-callthread", good.replace(b"gold", "caf\u00e9 \U0001f600".encode()))
    assert ev["user_data"]["segment"] == "caf\u00e9 \U0001f600"


# ------------------------------------------------------------------ hot path == explained path == reference


def _load_schema(rel: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / rel).read_text(encoding="utf-8"))


_ENVELOPE = jsonschema.Draft7Validator(_load_schema("envelope.json"))
_TYPE_SCHEMAS = {(t, e): _load_schema(f"{t}/{e}.json") for t, e in ALL_TYPES}
_TYPE_VALIDATORS = {key: jsonschema.Draft7Validator(schema) for key, schema in _TYPE_SCHEMAS.items()}


def reference_accepts(topic: str, ev: dict[str, Any]) -> bool:
    """The contract's rules, independently: jsonschema (reference implementation) + the extra rules."""
    if not _ENVELOPE.is_valid(ev) or type(ev["seq"]) is not int or type(ev["v"]) is not int:
        return False
    try:
        datetime.fromisoformat(ev["ts"])
    except ValueError:
        return False
    if ev["tenant"] != TENANT or ev["type"] not in EXPECTED_TYPES[topic]:
        return False
    key = (topic, ev["type"])
    if not _TYPE_VALIDATORS[key].is_valid(ev):
        return False
    props = _TYPE_SCHEMAS[key]["properties"]
    return all(type(ev[f]) is int for f, sub in props.items() if sub.get("type") == "integer" and f in ev)


ODD_VALUES: list[Any] = [
    None,
    "",
    " ",
    "x",
    0,
    -1,
    1,
    2,
    1.0,
    1.5,
    True,
    False,
    [],
    ["x"],
    [""],
    [1],
    {},
    {"a": 1},
    9223372036854775807,
    9223372036854775808,
    "Bogus",
    "Inbound",
    "chat",
    "Queued",
    "AgentLogin",
    "t1",
    "t2",
    "2026-11-23T10:00:00.123Z",
    "2026-02-30T10:00:00.123Z",
    "2026-11-23T10:00:00Z",
]


@pytest.mark.parametrize(("topic", "etype"), ALL_TYPES)
def test_hot_path_agrees_with_explained_path_and_reference(
    contract: Contract, topic: str, etype: str
) -> None:
    base = event(topic, etype)
    fields = [*base, "to_queue", "to_agent_id", "extra"]
    variants = [without(base, f) for f in base]
    variants += [{**base, f: value} for f in fields for value in ODD_VALUES]
    accepted = 0
    for ev in variants:
        payload = raw(ev)
        result = contract.check(topic, payload)
        explained = contract.explain(topic, orjson.loads(payload))
        assert result[1] == explained, ev
        assert (result[1] is None) == reference_accepts(topic, ev), (ev, result)
        if result[1] is not None:
            category(result[1])
        accepted += result[1] is None
    assert accepted > 0


# ------------------------------------------------------------------ limits (settings)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _limited(**limits: Any) -> Contract:
    return Contract(TENANT, Limits(**limits), clock=lambda: NOW)


def test_a_message_over_the_size_limit_is_too_large_before_it_is_parsed() -> None:
    contract = _limited(max_bytes=2048)
    big = event("voice-callthread", "CallCreated", user_data={"note": "x" * 3000})
    reason = assert_rejected(contract, "voice-callthread", big, "too_large")
    assert "more than the limit of 2,048 (setting event_max_bytes)" in reason
    assert contract.check("voice-callthread", b"{" + b" " * 4000)[1].startswith("too_large:")  # type: ignore[union-attr]
    assert Limits().max_bytes == 1 << 20


def test_a_future_timestamp_beyond_the_tolerance_is_rejected_and_one_within_is_not() -> None:
    contract = _limited(future_tolerance=timedelta(hours=1))
    assert_valid(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", ts="2026-11-23T12:59:59.999Z")
    )
    reason = assert_rejected(
        contract,
        "voice-callthread",
        event("voice-callthread", "CallEnded", ts="2026-11-23T13:00:00.001Z"),
        "future_timestamp",
    )
    assert "ahead of the ingest clock (2026-11-23T12:00:00Z" in reason
    # the event that once broke every transform (date_time "integer out of range")
    assert_rejected(
        contract,
        "voice-callthread",
        event("voice-callthread", "CallEnded", ts="9999-12-31T23:59:59.999Z"),
        "future_timestamp",
    )


def test_an_event_older_than_the_retention_is_too_old_and_a_late_one_inside_is_normal() -> None:
    assert_valid(
        _limited(), "voice-callthread", event("voice-callthread", "CallEnded", ts="2001-01-01T00:00:00.000Z")
    )
    contract = _limited(max_age=timedelta(days=30))
    assert_valid(
        contract, "voice-callthread", event("voice-callthread", "CallEnded", ts="2026-10-25T00:00:00.000Z")
    )
    reason = assert_rejected(
        contract,
        "voice-callthread",
        event("voice-callthread", "CallEnded", ts="2026-10-23T00:00:00.000Z"),
        "too_old",
    )
    assert "raw retention of 30 days (setting raw_retention_days)" in reason
    # without a retention, the floor is the epoch of the integer time keys
    assert_valid(
        _limited(), "voice-callthread", event("voice-callthread", "CallEnded", ts="1970-01-01T00:00:00.000Z")
    )
    reason = assert_rejected(
        _limited(),
        "voice-callthread",
        event("voice-callthread", "CallEnded", ts="1969-12-31T23:59:59.999Z"),
        "too_old",
    )
    assert "before 1970-01-01" in reason


def test_a_string_over_the_bound_is_rejected_at_any_depth() -> None:
    contract = _limited(max_string_chars=100)
    ok = event("voice-callthread", "CallCreated", user_data={"note": "x" * 100})
    assert_valid(contract, "voice-callthread", ok)
    deep = event("voice-callthread", "CallCreated", user_data={"case": {"notes": ["short", "y" * 101]}})
    reason = assert_rejected(contract, "voice-callthread", deep, "string_too_long")
    assert reason.startswith("string_too_long: user_data.case.notes[1] is longer than 100 characters")


def test_an_id_or_name_over_the_field_bound_is_rejected_but_user_data_may_be_longer() -> None:
    """Ids, DNs and names are indexed: PostgreSQL cannot index a key of kilobytes (a 5,000-character
    call_id would fail the staging model's index, and with it every transform)."""
    contract = _limited()
    assert_valid(contract, "voice-callthread", event("voice-callthread", "CallCreated", call_id="c" * 255))
    reason = assert_rejected(
        contract,
        "voice-callthread",
        event("voice-callthread", "CallCreated", call_id="c" * 256),
        "string_too_long",
    )
    assert reason.startswith(
        "string_too_long: call_id is longer than 255 characters (setting field_max_chars"
    )
    assert_valid(
        contract, "voice-callthread", event("voice-callthread", "CallCreated", user_data={"n": "x" * 5000})
    )


def test_the_limits_come_from_the_settings() -> None:
    from infomart.settings import Settings
    from ingest.contract import limits_of

    limits = limits_of(
        Settings(
            event_max_bytes=4096, future_tolerance_seconds=60, raw_retention_days=7, string_max_chars=500
        )
    )
    assert limits == Limits(4096, timedelta(seconds=60), timedelta(days=7), 500, 255)
    assert limits_of(Settings()).max_age is None
