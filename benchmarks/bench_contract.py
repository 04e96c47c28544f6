"""Micro-benchmark of ``ingest.contract.Contract.check`` on one core, against other validators.

Builds ~200k varied valid events (a realistic mix: voice call lifecycles dominate, then agent states,
digital interactions, outbound and a few configuration changes) as raw bytes, then times each validator
over all of them and prints events/s (best of several rounds):

* ``Contract.check``: the shipped validator (jsonschema-rs plus the contract's own checks);
* ``Contract.check at REV`` (``--against REV``): the contract package of another commit, e.g. the
  commit before the validator moved to jsonschema-rs;
* ``schema only: <library>``: parse with orjson and validate envelope + type schema with jsonschema-rs,
  fastjsonschema or jsonschema (libraries that are installed), without the contract's own checks.

    python benchmarks/bench_contract.py [--events 200000] [--rounds 5] [--against REV] [--libraries]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
from ingest.contract import SCHEMA_DIR, TOPIC_TYPES, TOPICS, Contract  # noqa: E402

TENANT = "t1"
MEDIA = ["chat", "email", "sms", "social", "workitem"]


class Emitter:
    """Wraps type-specific fields into an envelope with per-source seq and increasing ts."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        self.seq: Counter[str] = Counter()
        self.ids = count(1)

    def __call__(self, topic: str, etype: str, **fields: object) -> tuple[str, bytes]:
        source = self.rng.choice(("sip-a", "sip-b")) if topic.startswith("voice") else "ixn-a"
        self.seq[source] += 1
        self.now += timedelta(milliseconds=self.rng.randint(1, 400))
        event = {
            "id": f"{source}-{next(self.ids):09d}",
            "tenant": TENANT,
            "source": source,
            "seq": self.seq[source],
            "ts": self.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.now.microsecond // 1000:03d}Z",
            "type": etype,
            "v": 1,
            **fields,
        }
        return topic, orjson.dumps(event)


def voice_call(emit: Emitter, n: int) -> Iterator[tuple[str, bytes]]:
    rng, call, cust, q, ag = emit.rng, f"c-{n}", f"p-{n}-1", f"p-{n}-2", f"p-{n}-3"
    agent = f"a-{rng.randint(1, 500)}"
    t = "voice-callthread"
    user_data = {"segment": rng.choice(["gold", "silver", "bronze"]), "lang": "en", "case_id": n}
    yield emit(
        t,
        "CallCreated",
        call_id=call,
        thread_id=f"t-{n}",
        call_type="Inbound",
        ani=f"+1555{n % 10_000_000:07d}",
        dnis="+18005550100",
        user_data=user_data,
    )
    yield emit(
        t,
        "PartyAdded",
        call_id=call,
        party_id=cust,
        dn=f"+1555{n % 10_000_000:07d}",
        dn_type="External",
        agent_id=None,
        reason="New",
        initiator_party_id=None,
    )
    yield emit(
        t,
        "PartyAdded",
        call_id=call,
        party_id=q,
        dn="7001",
        dn_type="Queue",
        agent_id=None,
        reason="Route",
        initiator_party_id=cust,
    )
    yield emit(
        t, "Queued", call_id=call, party_id=q, queue=rng.choice(["VQ_Sales", "VQ_Support", "VQ_Billing"])
    )
    if rng.random() < 0.08:  # abandon in queue
        yield emit(t, "Released", call_id=call, party_id=q, cause="Abandoned")
        yield emit(t, "Released", call_id=call, party_id=cust, cause="Normal")
        yield emit(t, "CallEnded", call_id=call)
        return
    yield emit(
        t,
        "PartyAdded",
        call_id=call,
        party_id=ag,
        dn=f"5{rng.randint(0, 999):03d}",
        dn_type="Extension",
        agent_id=agent,
        reason="Route",
        initiator_party_id=q,
    )
    yield emit(t, "Diverted", call_id=call, party_id=q, target_party_id=ag)
    yield emit(t, "Ringing", call_id=call, party_id=ag)
    yield emit(t, "Established", call_id=call, party_id=ag)
    if rng.random() < 0.3:
        yield emit(t, "Held", call_id=call, party_id=ag)
        yield emit(t, "Retrieved", call_id=call, party_id=ag)
    if rng.random() < 0.1:  # consultation call to a supervisor in the same thread
        yield from consult(emit, n, agent)
    if rng.random() < 0.2:
        yield emit(t, "UserDataChanged", call_id=call, user_data={"disposition": "resolved", "wrap": True})
    yield emit(t, "Released", call_id=call, party_id=cust, cause="Normal")
    yield emit(t, "Released", call_id=call, party_id=ag, cause="Normal")
    yield emit(t, "CallEnded", call_id=call)
    # After-call work for the agent.
    a = "voice-agentstate"
    yield emit(a, "AgentNotReady", agent_id=agent, workmode="AfterCallWork", reason_code=None)
    yield emit(a, "AgentReady", agent_id=agent)


def consult(emit: Emitter, n: int, agent: str) -> Iterator[tuple[str, bytes]]:
    t, call, a, s = "voice-callthread", f"cc-{n}", f"cp-{n}-1", f"cp-{n}-2"
    yield emit(
        t,
        "CallCreated",
        call_id=call,
        thread_id=f"t-{n}",
        call_type="Consult",
        ani="5001",
        dnis="5999",
        user_data={},
    )
    yield emit(
        t,
        "PartyAdded",
        call_id=call,
        party_id=a,
        dn="5001",
        dn_type="Extension",
        agent_id=agent,
        reason="Consult",
        initiator_party_id=None,
    )
    yield emit(t, "Dialing", call_id=call, party_id=a)
    yield emit(
        t,
        "PartyAdded",
        call_id=call,
        party_id=s,
        dn="5999",
        dn_type="Extension",
        agent_id="sup-1",
        reason="New",
        initiator_party_id=a,
    )
    yield emit(t, "Ringing", call_id=call, party_id=s)
    yield emit(t, "Established", call_id=call, party_id=s)
    yield emit(t, "Released", call_id=call, party_id=s, cause="Normal")
    yield emit(t, "Released", call_id=call, party_id=a, cause="Normal")
    yield emit(t, "CallEnded", call_id=call)


def agent_shift(emit: Emitter, n: int) -> Iterator[tuple[str, bytes]]:
    agent, a = f"a-{n % 500}", "voice-agentstate"
    yield emit(
        a, "AgentLogin", agent_id=agent, dn=f"5{n % 1000:03d}", place=f"P{n % 1000}", queues=["Q1", "Q2"]
    )
    yield emit(a, "AgentReady", agent_id=agent)
    yield emit(a, "AgentNotReady", agent_id=agent, workmode="AuxWork", reason_code="Lunch")
    yield emit(a, "AgentLogout", agent_id=agent)
    d, media = "digital-agentstate", emit.rng.choice(MEDIA)
    yield emit(d, "MediaLogin", agent_id=agent, media_type=media, capacity=emit.rng.randint(1, 5))
    yield emit(d, "MediaReady", agent_id=agent, media_type=media)
    yield emit(d, "MediaNotReady", agent_id=agent, media_type=media, reason_code=None)
    yield emit(d, "MediaLogout", agent_id=agent, media_type=media)


def digital(emit: Emitter, n: int) -> Iterator[tuple[str, bytes]]:
    itx, agent, d = f"i-{n}", f"a-{n % 500}", "digital-itx"
    yield emit(
        d,
        "InteractionCreated",
        itx_id=itx,
        media_type=emit.rng.choice(MEDIA),
        direction="Inbound",
        customer_id=f"cust-{n}",
        user_data={"subject": "Order status", "priority": 3},
    )
    yield emit(d, "Queued", itx_id=itx, queue="Chat_Q")
    yield emit(d, "Offered", itx_id=itx, agent_id=agent)
    if emit.rng.random() < 0.1:
        yield emit(d, "OfferTimedOut", itx_id=itx, agent_id=agent)
        yield emit(d, "Offered", itx_id=itx, agent_id=agent)
    if emit.rng.random() < 0.05:
        yield emit(d, "Rejected", itx_id=itx, agent_id=agent)
        yield emit(d, "Offered", itx_id=itx, agent_id=agent)
    yield emit(d, "Accepted", itx_id=itx, agent_id=agent)
    if emit.rng.random() < 0.1:
        yield emit(d, "Transferred", itx_id=itx, agent_id=agent, to_queue="Chat_Q2")
    yield emit(d, "AgentReleased", itx_id=itx, agent_id=agent)
    yield emit(d, "Completed", itx_id=itx, reason="Resolved")


def outbound(emit: Emitter, n: int) -> Iterator[tuple[str, bytes]]:
    o, camp = "voice-outbound", f"cmp-{n % 7}"
    if n % 50 == 0:
        yield emit(o, "CampaignGroupStarted", campaign_id=camp, group="OB", dialing_mode="Predictive")
    yield emit(
        o,
        "RecordDialed",
        campaign_id=camp,
        record_id=f"r-{n}",
        chain_id=f"ch-{n}",
        attempt=1,
        contact=f"+1555{n % 10_000_000:07d}",
        call_id=f"oc-{n}",
    )
    yield emit(o, "DialResult", campaign_id=camp, record_id=f"r-{n}", call_id=f"oc-{n}", result="Answered")
    yield emit(o, "RecordCompleted", campaign_id=camp, record_id=f"r-{n}", disposition="Sale")
    if n % 50 == 49:
        yield emit(o, "CampaignGroupStopped", campaign_id=camp, group="OB", dialing_mode="Predictive")


def config(emit: Emitter, n: int) -> Iterator[tuple[str, bytes]]:
    g = "gca-cfg"
    yield emit(
        g,
        "ConfigUpsert",
        object_type="Person",
        dbid=n,
        config_version=n,
        attributes={"employee_id": f"E{n}", "first_name": "Ann", "last_name": "Lee", "skills": [1, 2]},
    )
    if n % 10 == 0:
        yield emit(g, "ConfigDelete", object_type="Skill", dbid=n, config_version=n + 1)


def build(total: int, seed: int = 7) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    emit = Emitter(rng)
    kinds = [(voice_call, 70), (agent_shift, 6), (digital, 15), (outbound, 8), (config, 1)]
    gens, weights = zip(*kinds, strict=True)
    events: list[tuple[str, bytes]] = []
    n = 0
    while len(events) < total:
        n += 1
        events.extend(rng.choices(gens, weights)[0](emit, n))
    return events[:total]


Check = Callable[[str, bytes], bool]  # (topic, raw) -> accepted


def contract_at(rev: str) -> Check:
    """``Contract.check`` of the contract package at git revision `rev` (imported from a temp folder)."""
    tar = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "ingest/contract"], check=True, capture_output=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="contract-"))
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(folder, filter="data")
    package = folder / "ingest" / "contract"
    spec = importlib.util.spec_from_file_location(
        "contract_at_rev", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    check = module.Contract(TENANT).check
    return lambda topic, raw: check(topic, raw)[1] is None


def schema_only(library: str) -> Check | None:
    """orjson + envelope and type schema in one validator of `library`; None if it is not installed."""
    if importlib.util.find_spec(library) is None:
        return None

    def load(rel: str) -> dict[str, object]:
        return json.loads((SCHEMA_DIR / rel).read_text(encoding="utf-8"))

    envelope = load("envelope.json")
    schemas = {
        (topic, name): {"allOf": [envelope, load(f"{topic}/{name}.json")]}
        for topic in TOPICS
        for name in TOPIC_TYPES[topic]
    }
    if library == "jsonschema_rs":
        import jsonschema_rs

        rs = {key: jsonschema_rs.Draft7Validator(schema).is_valid for key, schema in schemas.items()}

        def check_rs(topic: str, raw: bytes) -> bool:
            event = orjson.loads(raw)
            return rs[topic, event["type"]](event)

        return check_rs
    if library == "fastjsonschema":
        import fastjsonschema

        fj = {key: fastjsonschema.compile(schema) for key, schema in schemas.items()}

        def check_fj(topic: str, raw: bytes) -> bool:
            event = orjson.loads(raw)
            try:
                fj[topic, event["type"]](event)
            except fastjsonschema.JsonSchemaValueException:
                return False
            return True

        return check_fj
    import jsonschema

    js = {key: jsonschema.Draft7Validator(schema).is_valid for key, schema in schemas.items()}

    def check_js(topic: str, raw: bytes) -> bool:
        event = orjson.loads(raw)
        return js[topic, event["type"]](event)

    return check_js


def measure(name: str, check: Check, events: list[tuple[str, bytes]], rounds: int) -> float:
    """Best events/s over `rounds` (after one correctness and warm-up pass)."""
    for topic, raw in events:
        if not check(topic, raw):
            raise SystemExit(f"{name}: unexpected reject of {raw!r}")
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for topic, raw in events:
            check(topic, raw)
        best = min(best, time.perf_counter() - t0)
    rate = len(events) / best
    print(f"{name:<40} {rate:>10,.0f} events/s {best / len(events) * 1e6:>7.2f} us/event")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", metavar="REV", help="also time Contract.check at this git revision")
    parser.add_argument(
        "--libraries", action="store_true", help="also time schema-only validation per library"
    )
    args = parser.parse_args()

    events = build(args.events)
    by_type = Counter((topic, orjson.loads(raw)["type"]) for topic, raw in events)
    size = sum(len(raw) for _, raw in events) / len(events)
    print(f"{len(events)} events, {len(by_type)} (topic, type) pairs, mean size {size:.0f} bytes")

    t0 = time.perf_counter()
    contract = Contract(TENANT)
    print(f"Contract construction (schema compilation): {(time.perf_counter() - t0) * 1000:.0f} ms")
    shipped = contract.check
    measure("Contract.check", lambda topic, raw: shipped(topic, raw)[1] is None, events, args.rounds)
    if args.against:
        measure(f"Contract.check at {args.against}", contract_at(args.against), events, args.rounds)
    if args.libraries:
        measure("orjson.loads alone (floor)", lambda topic, raw: orjson.loads(raw) is not None, events, 1)
        for library in ("jsonschema_rs", "fastjsonschema", "jsonschema"):
            check = schema_only(library)
            if check is None:
                print(f"schema only: {library:<27} not installed")
                continue
            rounds = 1 if library == "jsonschema" else args.rounds  # pure Python: one round is enough
            measure(f"schema only: {library}", check, events, rounds)


if __name__ == "__main__":
    main()
