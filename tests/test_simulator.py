"""The contact-center simulator: determinism, the event contract, delivery options, and a ledger
that agrees both with the simulator's own state and with an independent replay of the events."""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import itertools
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from simulator import LEDGER_FILES, TOPICS, SimulationConfig, parse_ts, simulate, write_ndjson
from simulator.simulation import Simulation, SimulationResult

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# A small center with every rare path made common, so one short run exercises every rule.
COVERAGE = SimulationConfig(
    seed=11,
    agents=14,
    duration_hours=3.0,
    calls_per_hour=170,
    rona_share=0.06,
    redirect_share=0.04,
    reject_share=0.04,
    ring_abandon_share=0.05,
    hold_share=0.4,
    hold_abandon_share=0.12,
    blind_transfer_share=0.1,
    consult_share=0.14,
    clear_share=0.06,
    short_abandon_share=0.08,
    lost_call_ended_share=0.02,
    relogin_share=0.2,
    relogin_without_logout_share=0.2,
    never_logout_share=0.3,
    nr_during_call_share=0.7,
    chat_patience_mean_s=40.0,
    chats_per_hour=40.0,
    digital_agent_share=0.4,
    outbound_agent_share=0.35,
    anomalies=4,
    config_changes=True,
)

KEY_FIELD = {
    "voice-callthread": "call_id",
    "voice-agentstate": "agent_id",
    "digital-itx": "itx_id",
    "digital-agentstate": "agent_id",
    "voice-outbound": "campaign_id",
}


def small(**kw: Any) -> SimulationConfig:
    base: dict[str, Any] = {"seed": 3, "agents": 8, "duration_hours": 1.5}
    base.update(kw)
    return SimulationConfig(**base)


def events(result: SimulationResult) -> list[dict[str, Any]]:
    return [orjson.loads(d.value) for d in result.deliveries]


def ledger_bytes(result: SimulationResult) -> bytes:
    return b"".join(orjson.dumps(r) for name in LEDGER_FILES for r in getattr(result.ledger, name))


@pytest.fixture(scope="module")
def cov() -> tuple[Simulation, SimulationResult, list[dict[str, Any]]]:
    sim = Simulation(COVERAGE)
    sim.run()
    res = sim.result()
    return sim, res, events(res)


# ---------------------------------------------------------------------------------- determinism
def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    a, b = simulate(small()), simulate(small())
    assert [d.value for d in a.deliveries] == [d.value for d in b.deliveries]
    assert ledger_bytes(a) == ledger_bytes(b)
    assert orjson.dumps(a.summary) == orjson.dumps(b.summary)
    c = simulate(small(seed=4))
    assert [d.value for d in c.deliveries] != [d.value for d in a.deliveries]
    ids_a = {orjson.loads(d.value)["id"] for d in a.deliveries}
    ids_c = {orjson.loads(d.value)["id"] for d in c.deliveries}
    assert not ids_a & ids_c, "event ids of runs with different seeds must not collide"
    assert a.run_tag != c.run_tag != simulate(small(start=small().start.replace(day=24))).run_tag


def test_configuration_names_are_stable_across_seeds() -> None:
    def changes(r: SimulationResult) -> list[dict[str, Any]]:
        return [c.to_json() for c in r.config_changes]

    one = changes(simulate(small(seed=1)))
    assert one == changes(simulate(small(seed=2)))
    # 6 skills, 5 groups, 9 action codes, 7 queues, 2 campaigns, 4 DNs, and per agent a DN, a
    # Place and a Person: all at the start
    assert len(one) == 33 + 3 * 8 and {c["ts"] for c in one} == {"2026-11-23T08:00:00.000Z"}


def test_progress_callback_reaches_total() -> None:
    seen: list[tuple[int, int]] = []
    simulate(small(duration_hours=0.5), progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1] == 30 * 60 * 1000
    assert all(x[0] <= x[1] for x in seen)


# ---------------------------------------------------------------------------------- the contract
@pytest.mark.skipif(importlib.util.find_spec("ingest.contract") is None, reason="no contract validator")
def test_every_event_validates_against_the_contract(cov) -> None:  # type: ignore[no-untyped-def]
    from ingest.contract import Contract

    contract = Contract(COVERAGE.tenant)
    if not hasattr(contract, "check"):
        pytest.skip("contract validator not available yet")
    res = cov[1]
    bad = Counter()
    for d in res.deliveries:
        event, reason = contract.check(d.topic, d.value)
        if event is None:
            bad[(d.topic, reason)] += 1
    assert not bad, bad.most_common(5)


def test_envelope_ts_format_and_keys(cov) -> None:  # type: ignore[no-untyped-def]
    _, res, evs = cov
    seen_ids: set[str] = set()
    for d, e in zip(res.deliveries, evs, strict=True):
        assert e["tenant"] == "t1" and e["v"] == 1
        assert TS_RE.match(e["ts"]), e["ts"]
        assert e["id"] not in seen_ids
        seen_ids.add(e["id"])
        assert d.key == e[KEY_FIELD[d.topic]]
    # gca-cfg comes from the config adapter, never from the simulator
    assert {d.topic for d in res.deliveries} == set(TOPICS) == set(KEY_FIELD)


def test_seq_contiguous_per_source_in_event_time_order(cov) -> None:  # type: ignore[no-untyped-def]
    evs = cov[2]
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in evs:
        by_source[e["source"]].append(e)
    assert set(by_source) == {"sip-a", "ixn-a", "ocs-a"}
    for src, es in by_source.items():
        es.sort(key=lambda e: e["seq"])
        assert [e["seq"] for e in es] == list(range(1, len(es) + 1)), src
        ts = [e["ts"] for e in es]
        assert ts == sorted(ts), f"{src}: seq order is not event-time order"
    fams = {"sip-a": "sip", "ixn-a": "ixn", "ocs-a": "ocs"}
    for e in evs:
        assert e["id"].startswith(fams[e["source"]] + "-")


def test_entity_events_strictly_ordered_by_ts(cov) -> None:  # type: ignore[no-untyped-def]
    """Per call and per agent, no two events share a ts, so dedup across sources cannot reorder."""
    evs = cov[2]
    last: dict[tuple[str, str], str] = {}
    for e in evs:  # base order is event-time order
        keys = []
        if "call_id" in e and e["source"] == "sip-a":
            keys.append(("call", e["call_id"]))
        if e["type"].startswith(("Agent", "Media")):
            keys.append(("agent", e["agent_id"]))
        for k in keys:
            assert k not in last or last[k] < e["ts"], (k, e)
            last[k] = e["ts"]


# ---------------------------------------------------------------------------------- delivery options
def test_redundant_sources_duplicate_ids_with_other_source() -> None:
    base = simulate(small())
    red = simulate(small(redundant_sources=True, redundant_share=0.5))
    assert red.run_tag == base.run_tag
    assert ledger_bytes(red) == ledger_bytes(base)
    evs = events(red)
    primary = [e for e in evs if e["source"] != "sip-b"]
    assert [orjson.dumps(e) for e in primary] == [d.value for d in base.deliveries]
    by_id = {e["id"]: e for e in primary}
    peers = [e for e in evs if e["source"] == "sip-b"]
    assert 0.3 * len(peers) < 0.5 * sum(1 for e in primary if e["source"] == "sip-a") < 2 * len(peers)
    assert [e["seq"] for e in peers] == list(range(1, len(peers) + 1))
    for e in peers:
        orig = by_id[e["id"]]
        assert orig["source"] == "sip-a"
        assert {k: v for k, v in e.items() if k not in ("source", "seq")} == {
            k: v for k, v in orig.items() if k not in ("source", "seq")
        }


def test_late_events_keep_ts_and_move_to_the_end() -> None:
    base = simulate(small())
    late = simulate(small(late_share=0.1))
    assert sorted(d.value for d in late.deliveries) == sorted(d.value for d in base.deliveries)
    n_late = late.summary["late_deliveries"]
    assert n_late > 0.05 * len(base.deliveries)
    tail = late.deliveries[-n_late:]
    head = late.deliveries[:-n_late]
    base_pos = {d.value: i for i, d in enumerate(base.deliveries)}
    assert [base_pos[d.value] for d in head] == sorted(base_pos[d.value] for d in head)
    assert [base_pos[d.value] for d in tail] == sorted(base_pos[d.value] for d in tail)
    last_on_time = max(orjson.loads(d.value)["ts"] for d in head)
    assert any(orjson.loads(d.value)["ts"] < last_on_time for d in tail)


@pytest.mark.parametrize("mode", [True, "full"])
def test_shuffle_permutes_delivery_only(mode: bool | str) -> None:
    base = simulate(small())
    sh = simulate(small(shuffle=mode, shuffle_window=200))
    assert [d.value for d in sh.deliveries] != [d.value for d in base.deliveries]
    assert sorted(sh.deliveries) == sorted(base.deliveries)
    assert ledger_bytes(sh) == ledger_bytes(base)


def _without_routed_links(evs: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """The events with what omit_routed_initiator changes taken out: envelope ids and seq, the
    routing points' Diverted, and the initiator of parties added with reason Route."""
    rps = {e["party_id"] for e in evs if e["type"] == "PartyAdded" and e["dn_type"] == "RoutingPoint"}
    out = []
    for e in evs:
        if e["type"] == "Diverted" and e["party_id"] in rps:
            continue
        body = {k: v for k, v in e.items() if k not in ("id", "seq", "ts", "type")}
        if e["type"] == "PartyAdded" and e["reason"] == "Route":
            body["initiator_party_id"] = None
        out.append((e["ts"], e["type"], body))
    return out


def test_omit_routed_initiator_changes_only_the_links() -> None:
    base = simulate(small())
    alt = simulate(small(omit_routed_initiator=True))
    assert alt.run_tag == base.run_tag
    assert ledger_bytes(alt) == ledger_bytes(base)
    base_evs, alt_evs = events(base), events(alt)
    assert not {e["id"] for e in base_evs} & {e["id"] for e in alt_evs}, "event ids must not collide"
    assert _without_routed_links(alt_evs) == _without_routed_links(base_evs)
    added = {e["party_id"]: e for e in alt_evs if e["type"] == "PartyAdded"}
    routed = [p for p in added.values() if p["reason"] == "Route"]
    assert routed and all(p["initiator_party_id"] is None for p in routed)
    # every routing point names the party it sent the call to, 1 ms before that party is added
    rp_diverted = {
        e["party_id"]: e
        for e in alt_evs
        if e["type"] == "Diverted" and added[e["party_id"]]["dn_type"] == "RoutingPoint"
    }
    rps = [p for p in added.values() if p["dn_type"] == "RoutingPoint"]
    assert rps and len(rp_diverted) == len(rps)
    for e in rp_diverted.values():
        target = added[e["target_party_id"]]
        assert target["dn_type"] in ("Queue", "IVR") and target["reason"] == "Route"
        assert parse_ts(target["ts"]) - parse_ts(e["ts"]) == 1


def _delivered_to_walk(evs: list[dict[str, Any]]) -> dict[str, tuple[int, int, str | None]]:
    """MEASURES.md's delivered-to rule replayed from the events alone: party -> (queue ms,
    routing point ms, last virtual queue). A Queue/RoutingPoint party delivered the call to its
    Diverted target, or, without a Diverted, to the party whose initiator_party_id names it."""
    p = _replay_parties(evs)
    info: dict[str, dict[str, Any]] = {}
    for e in evs:
        if e["source"] != "sip-a":
            continue
        if e["type"] == "PartyAdded":
            info[e["party_id"]] = {
                "dn_type": e["dn_type"],
                "initiator": e["initiator_party_id"],
                "dn": e["dn"],
            }
        elif e["type"] == "Diverted":
            info[e["party_id"]]["target"] = e["target_party_id"]
        elif e["type"] == "Queued":
            info[e["party_id"]]["queue"] = e["queue"]
    mediation = {pid for pid, i in info.items() if i["dn_type"] in ("Queue", "RoutingPoint")}
    delivered_by = {info[m]["target"]: m for m in mediation if info[m].get("target")}
    for pid, i in info.items():
        if pid not in delivered_by and i["initiator"] in mediation and not info[i["initiator"]].get("target"):
            delivered_by[pid] = i["initiator"]
    out = {}
    for pid in info:
        q_ms = rp_ms = 0
        last_vq = None
        step = delivered_by.get(pid)
        while step is not None:
            s = p[step]
            if info[step]["dn_type"] == "Queue":
                q_ms += s.get("Diverted", s["released"]) - s["Queued"]
                last_vq = last_vq or info[step]["queue"]
            else:
                rp_ms += s["released"] - s["added"]
            step = delivered_by.get(step)
        out[pid] = (q_ms, rp_ms, last_vq)
    return out


@pytest.mark.parametrize("omit", [False, True])
def test_delivered_to_rule_replayed_from_the_events_equals_the_ledger(omit: bool) -> None:
    cfg = dataclasses.replace(COVERAGE, omit_routed_initiator=omit, config_changes=False, anomalies=0)
    res = simulate(cfg)
    walk = _delivered_to_walk(events(res))
    assert res.ledger.parties
    for row in res.ledger.parties:
        assert walk[row["party_id"]] == (row["queue_ms"], row["routing_point_ms"], row["last_vqueue"]), row
    assert sum(1 for r in res.ledger.parties if r["routing_point_ms"] and r["queue_ms"]) > 100


def test_write_ndjson_plain_and_gzip(tmp_path: Path) -> None:
    res = simulate(small(duration_hours=0.5))
    write_ndjson(res, tmp_path / "plain")
    write_ndjson(res, tmp_path / "gz", gzip=True)
    for topic in TOPICS:
        want = [d.value for d in res.deliveries if d.topic == topic]
        assert (tmp_path / "plain" / f"{topic}.ndjson").read_bytes().splitlines() == want
        assert gzip.decompress((tmp_path / "gz" / f"{topic}.ndjson.gz").read_bytes()).splitlines() == want
    for name in LEDGER_FILES:
        lines = (tmp_path / "plain" / "ledger" / f"{name}.ndjson").read_bytes().splitlines()
        assert len(lines) == len(getattr(res.ledger, name))
    changes = (tmp_path / "plain" / "ledger" / "config_changes.ndjson").read_bytes().splitlines()
    assert [orjson.loads(x) for x in changes] == [c.to_json() for c in res.config_changes]
    assert changes and not list((tmp_path / "plain").glob("gca-cfg*"))
    summary = orjson.loads((tmp_path / "plain" / "ledger" / "summary.json").read_bytes())
    assert summary["events"] == len(res.deliveries)
    assert summary["ledger_rows"]["parties"] == len(res.ledger.parties)


# ---------------------------------------------------------------------------------- ledger vs events
def _replay_parties(evs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rebuild party timelines from the voice events alone (an independent path to the numbers)."""
    parties: dict[str, dict[str, Any]] = {}
    for e in evs:
        if e["source"] != "sip-a" or "party_id" not in e:
            continue
        t = parse_ts(e["ts"])
        p = parties.setdefault(e["party_id"], {"holds": []})
        typ = e["type"]
        if typ == "PartyAdded":
            p.update(added=t, agent_id=e["agent_id"], dn_type=e["dn_type"])
        elif typ in ("Ringing", "Dialing", "Established", "Queued", "Diverted"):
            p[typ] = t
        elif typ == "Held":
            p["holds"].append([t, None])
        elif typ == "Retrieved" and p["holds"] and p["holds"][-1][1] is None:
            p["holds"][-1][1] = t
        elif typ == "Released" and "added" in p:
            p.update(released=t, cause=e["cause"])
    return parties


def test_party_measures_match_a_replay_of_the_events(cov) -> None:  # type: ignore[no-untyped-def]
    _, res, evs = cov
    rp = _replay_parties(evs)
    assert res.ledger.parties
    for row in res.ledger.parties:
        p = rp[row["party_id"]]
        rel = p["released"]
        est = p.get("Established")
        hold = sum((r if r is not None else rel) - h for h, r in p["holds"])
        assert parse_ts(row["start_ts"]) == p["added"]
        assert parse_ts(row["end_ts"]) == rel
        assert row["hold_count"] == len(p["holds"]) and row["hold_ms"] == hold
        assert row["talk_count"] == int(est is not None)
        assert row["talk_ms"] == (rel - est - hold if est is not None else 0)
        if "Ringing" in p:
            assert row["ring_ms"] == (est if est is not None else rel) - p["Ringing"]
        else:
            assert row["ring_count"] == 0 and row["ring_ms"] == 0
        if "Dialing" in p:
            assert row["dial_ms"] == (est if est is not None else rel) - p["Dialing"]
        assert row["release_cause"] == p["cause"]
        assert row["talk_ms"] >= 0 and row["ring_ms"] >= 0


def test_party_measures_match_the_simulator_state(cov) -> None:  # type: ignore[no-untyped-def]
    sim, res, _ = cov
    rows = {r["party_id"]: r for r in res.ledger.parties}
    n = 0
    for th in sim.voice.threads:
        for c in th.calls:
            for p in c.parties:
                if p.party_id not in rows:
                    assert p.agent is None and p.dn_type != "IVR"
                    continue
                n += 1
                row = rows[p.party_id]
                hold = sum(((r if r is not None else p.released) - h) for h, r in p.holds)
                if p.established is not None:
                    assert row["talk_ms"] == p.released - p.established - hold
                assert row["hold_ms"] == hold
    assert n == len(rows)


def test_mediation_segments(cov) -> None:  # type: ignore[no-untyped-def]
    _, res, evs = cov
    led = res.ledger
    rows = {r["party_id"]: r for r in led.parties}
    thr = int(COVERAGE.short_abandon_threshold_s * 1000)
    rp = _replay_parties(evs)
    results = Counter()
    for m in led.mediation_segments:
        results[m["technical_result"]] += 1
        p = rp[m["party_id"]]
        assert parse_ts(m["start_ts"]) == p["Queued"]
        end = p.get("Diverted", p["released"])
        assert parse_ts(m["end_ts"]) == end and m["duration_ms"] == end - p["Queued"]
        assert m["short_abandoned"] == (m["technical_result"] == "Abandoned" and m["duration_ms"] <= thr)
        if m["technical_result"] == "Abandoned":
            assert p["cause"] == "Abandoned"
            assert abs(m["duration_ms"] - thr) > 500
            assert rows[m["party_id"]]["result_reason"] == "AbandonedWhileQueued"
        elif m["technical_result"] == "Cleared":
            assert p["cause"] == "Normal" and "Diverted" not in p
            assert rows[m["party_id"]]["technical_result"] == "Cleared"
        else:
            assert m["target_party_id"] in rows
            target = rows[m["target_party_id"]]
            assert target["queue_ms"] >= m["duration_ms"] and target["last_vqueue"] == m["queue"]
    # every queue party released as Abandoned has its segment
    abandoned = {
        pid for pid, p in rp.items() if p.get("dn_type") == "Queue" and p.get("cause") == "Abandoned"
    }
    assert abandoned == {
        m["party_id"] for m in led.mediation_segments if m["technical_result"] == "Abandoned"
    }
    assert results["Diverted"] and results["Abandoned"] and results["Cleared"]
    assert any(m["short_abandoned"] for m in led.mediation_segments)


def test_every_technical_descriptor_occurs(cov) -> None:  # type: ignore[no-untyped-def]
    led = cov[1].ledger
    roles = Counter(r["resource_role"] for r in led.parties)
    for role in (
        "Received",
        "Initiated",
        "ReceivedTransfer",
        "ReceivedConference",
        "ReceivedConsult",
        "InitiatedConsult",
    ):
        assert roles[role] > 0, role
    results = Counter((r["technical_result"], r["result_reason"]) for r in led.parties)
    for rr in (
        ("Completed", "Unspecified"),
        ("Transferred", "Unspecified"),
        ("Conferenced", "Unspecified"),
        ("Redirected", "NoAnswer"),
        ("Redirected", "Unspecified"),
        ("Rejected", "Unspecified"),
        ("Abandoned", "AbandonedWhileRinging"),
        ("Abandoned", "AbandonedFromHold"),
        ("Abandoned", "AbandonedWhileQueued"),
        ("Cleared", "Unspecified"),
    ):
        assert results[rr] > 0, rr
    assert not [r for r in led.parties if r["technical_result"] == "Unknown"]
    assert any(r["cons_init_count"] > 0 for r in led.parties)
    assert any(r["routing_point_ms"] > 0 for r in led.parties)
    assert any(r["dn_type"] == "IVR" for r in led.parties)


def test_abandon_rows_follow_the_customer_release(cov) -> None:  # type: ignore[no-untyped-def]
    _, res, evs = cov
    rp = _replay_parties(evs)
    customer: dict[str, int] = {}
    inbound: set[str] = set()
    call_of: dict[str, str] = {}
    for e in evs:
        if e["source"] != "sip-a":
            continue
        if e["type"] == "CallCreated" and e["call_type"] == "Inbound":
            inbound.add(e["call_id"])
        if "party_id" in e:
            call_of.setdefault(e["party_id"], e["call_id"])
    for pid, p in rp.items():
        if p.get("dn_type") == "External" and call_of[pid] in inbound and "released" in p:
            customer[call_of[pid]] = p["released"]
    for row in res.ledger.parties:
        if row["dn_type"] == "Queue":
            continue
        p = rp[row["party_id"]]
        c = customer.get(row["call_id"])
        ringing = (
            c is not None and "Ringing" in p and "Established" not in p and p["Ringing"] <= c <= p["released"]
        )
        held = c is not None and any(
            h <= c <= (r if r is not None else p["released"]) and c <= p["released"] for h, r in p["holds"]
        )
        assert (row["result_reason"] == "AbandonedWhileRinging") == ringing, row
        assert (row["result_reason"] == "AbandonedFromHold") == (held and not ringing), row


def test_after_call_work_attribution(cov) -> None:  # type: ignore[no-untyped-def]
    sim, res, _ = cov
    rows = {r["party_id"]: r for r in res.ledger.parties}
    expected: Counter[str] = Counter()
    for a in sim.agents.agents:
        for _, party in a.acw_log:
            assert party is not None
            expected[party.party_id] += 1
    got = Counter({pid: r["acw_count"] for pid, r in rows.items() if r["acw_count"]})
    assert got == expected and sum(got.values()) > 10
    for pid in got:
        assert rows[pid]["acw_ms"] > 0 and rows[pid]["agent_id"] is not None
    # after-call work in the state ledger is the same time as on the parties
    acw_states = sum(s["duration_ms"] for s in res.ledger.agent_states if s["state"] == "AfterCallWork")
    assert acw_states == sum(r["acw_ms"] for r in rows.values())


def test_agent_states_tile_each_session(cov) -> None:  # type: ignore[no-untyped-def]
    led = cov[1].ledger
    states: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for s in led.agent_states:
        states[(s["agent_id"], s["media"], s["session_start_ts"])].append(s)
    reasons: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in led.agent_state_reasons:
        reasons[(r["agent_id"], r["media"], r["session_start_ts"])].append(r)
    kinds = Counter(s["ended_by"] for s in led.agent_sessions)
    assert kinds["logout"] and kinds["next_login"] and kinds["open"]
    assert {s["media"] for s in led.agent_sessions} == {"voice", "chat", "email"}
    for sess in led.agent_sessions:
        key = (sess["agent_id"], sess["media"], sess["start_ts"])
        rows = states[key]
        assert rows, key
        assert rows[0]["start_ts"] == sess["start_ts"] and rows[0]["state"] == "NotReady"
        assert rows[-1]["end_ts"] == sess["end_ts"]
        for x, y in itertools.pairwise(rows):
            assert x["end_ts"] == y["start_ts"] and x["state"] != y["state"]
        for x in rows:
            if x["end_ts"] is not None:
                assert x["duration_ms"] == parse_ts(x["end_ts"]) - parse_ts(x["start_ts"]) > 0
        if sess["end_ts"] is not None:
            nr = sum(x["duration_ms"] for x in rows if x["state"] in ("NotReady", "AfterCallWork"))
            assert nr == sum(r["duration_ms"] for r in reasons[key])
            assert sum(x["duration_ms"] for x in rows) == sess["duration_ms"]
    all_states = Counter(s["state"] for s in led.agent_states)
    assert all(all_states[s] for s in ("Ready", "NotReady", "AfterCallWork", "Busy"))
    pairs = Counter((r["workmode"], r["reason_code"]) for r in led.agent_state_reasons)
    assert pairs[("AuxWork", None)] and pairs[("AfterCallWork", None)]
    assert {rc for _, rc in pairs} >= {"Break", None}


def test_not_ready_pressed_during_a_call(cov) -> None:  # type: ignore[no-untyped-def]
    """A NotReady that starts while the agent is Busy shows as NotReady (priority over Busy)."""
    sim, _res, _ = cov
    found = 0
    for a in sim.agents.agents:
        busy = [(p.busy_from, p.released) for p in a.parties if p.busy_from is not None]
        for s in a.sessions:
            for t, raw, reason in s.changes:
                if raw == "NotReady" and reason and any(b < t < e for b, e in busy):
                    found += 1
    assert found > 0


def test_interactions_digital_outbound(cov) -> None:  # type: ignore[no-untyped-def]
    _, res, evs = cov
    led = res.ledger
    voice = [i for i in led.interactions if i["media_type"] == "voice"]
    assert {i["interaction_type"] for i in voice} == {"Inbound", "Outbound", "Internal"}
    assert all(i["status"] == "completed" and i["end_ts"] >= i["start_ts"] for i in led.interactions)
    assert any(not i["call_ended"] for i in voice)
    # a call closes at its CallEnded (an after-call-work user-data change may come later), else
    # at its last event; a thread at the latest of its calls
    call_last: dict[str, str] = {}
    call_ended: dict[str, str] = {}
    thread_of: dict[str, str] = {}
    for e in evs:
        if e["type"] == "CallCreated":
            thread_of[e["call_id"]] = e["thread_id"]
        if e["source"] == "sip-a" and "call_id" in e and e["type"] != "AgentLogin":
            call_last[e["call_id"]] = max(call_last.get(e["call_id"], ""), e["ts"])
            if e["type"] == "CallEnded":
                call_ended[e["call_id"]] = e["ts"]
    last_ts: dict[str, str] = {}
    for call_id, ts in call_last.items():
        th = thread_of[call_id]
        last_ts[th] = max(last_ts.get(th, ""), call_ended.get(call_id, ts))
    for i in voice:
        assert i["end_ts"] == last_ts[i["interaction_key"]]
    assert any(len(i["call_ids"]) > 1 for i in voice)
    outcomes = Counter(d["outcome"] for d in led.digital)
    assert outcomes["Resolved"] and outcomes["Abandoned"]
    assert any(d["rejected"] or d["timed_out"] for d in led.digital)
    assert any(d["transfers"] for d in led.digital)
    assert {d["media_type"] for d in led.digital} == {"chat", "email"}
    results = Counter(a["result"] for r in led.outbound for a in r["attempts"])
    assert len(results) >= 6 and results["Answered"]
    assert any(r["agent_id"] and r["handle_ms"] > 0 for r in led.outbound)
    assert any(len(r["attempts"]) > 1 for r in led.outbound)


def test_anomalies_and_config_changes(cov) -> None:  # type: ignore[no-untyped-def]
    _, res, evs = cov
    an = res.ledger.anomalies
    assert len(an) == COVERAGE.anomalies
    assert {a["kind"] for a in an} == {"retrieved_without_held", "released_unknown_party"}
    by_ts = {(e["ts"], e.get("party_id"), e["type"]) for e in evs}
    for a in an:
        assert (a["ts"], a["party_id"], a["type"]) in by_ts
    assert not [e for e in evs if e["source"] == "gca" or "config_version" in e]  # no gca-cfg events
    changes = res.config_changes
    assert res.summary["config_changes"] == len(changes)
    assert [c.ts for c in changes] == sorted(c.ts for c in changes)
    start = [c for c in changes if c.ts == changes[0].ts]
    assert changes[0].changed_at == COVERAGE.start
    assert {c.object_type for c in start} == {
        "Person",
        "AgentGroup",
        "Skill",
        "DN",
        "Place",
        "Queue",
        "Campaign",
        "ActionCode",
    }
    # 14 regular agents configured at the start (agent0015 is the new agent), each with its DN,
    # Place and Person; the changes of the day at their simulated times (start 08:00, 3 h)
    assert len(start) == 33 + 3 * 14
    later = [c for c in changes if c.ts > changes[0].ts]
    deleted = next(c for c in changes if c.attributes is None)
    logout = max(e["ts"] for e in evs if e["type"] == "AgentLogout" and e["agent_id"] == "agent0014")
    assert deleted.dbid == 100_014 and deleted.ts == parse_ts(logout) + 5 * 60_000
    assert (
        sorted((c.to_json()["ts"][11:23], c.object_type, c.dbid, c.attributes is None) for c in later)
        == sorted(
            [
                ("08:45:00.000", "DN", 200_015, False),  # 25 %: the new agent
                ("08:45:00.000", "Place", 300_015, False),
                ("08:45:00.000", "Person", 100_015, False),
                ("09:12:00.000", "Person", 100_002, False),  # 40 %: agent0002 moves
                ("09:30:00.000", "Person", 100_003, False),  # 50 %: a skill level of agent0003
                (deleted.to_json()["ts"][11:23], "Person", 100_014, True),  # 5 min after its logout
            ]
        )
    )
    first = {c.dbid: c.attributes for c in start if c.object_type == "Person"}
    after = {c.dbid: c.attributes for c in later if c.object_type == "Person"}
    moved, skilled = after[100_002], after[100_003]
    assert moved is not None and skilled is not None
    assert moved["agent_groups"] != first[100_002]["agent_groups"]
    assert {k: v for k, v in moved.items() if k != "agent_groups"} == {
        k: v for k, v in first[100_002].items() if k != "agent_groups"
    }
    (skill,) = [k for k in skilled["skills"] if skilled["skills"][k] != first[100_003]["skills"][k]]
    assert skilled["skills"][skill] == first[100_003]["skills"][skill] % 10 + 1
    # the new agent logs in 3 minutes after its configuration
    assert min(e["ts"] for e in evs if e["type"] == "AgentLogin" and e["agent_id"] == "agent0015") == (
        "2026-11-23T08:48:00.000Z"
    )


def test_default_run_is_clean() -> None:
    """Defaults: no anomalies, every IRF result from the table, some abandons (5-15 %)."""
    res = simulate(SimulationConfig(duration_hours=2, agents=10))
    assert not res.ledger.anomalies
    assert not [r for r in res.ledger.parties if r["technical_result"] == "Unknown"]
    segs = res.ledger.mediation_segments
    ab = sum(1 for m in segs if m["technical_result"] == "Abandoned")
    assert 0.02 * len(segs) < ab < 0.2 * len(segs)


def test_deterministic_across_processes_and_hash_seeds() -> None:
    import subprocess
    import sys

    code = (
        "import hashlib\n"
        "from simulator import SimulationConfig, simulate\n"
        "r = simulate(SimulationConfig(agents=6, duration_hours=0.75, config_changes=True, shuffle=True))\n"
        "h = hashlib.sha256()\n"
        "[h.update(d.key.encode() + d.value) for d in r.deliveries]\n"
        "[h.update(repr(c.to_json()).encode()) for c in r.config_changes]\n"
        "print(h.hexdigest())\n"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**__import__("os").environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1
