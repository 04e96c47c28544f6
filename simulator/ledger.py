"""The ground-truth ledger: what the marts must contain, computed from the simulation's state.

Every timestamp is the contract's ts text; every duration is an exact integer number of
milliseconds (the marts round to seconds). Rules follow MEASURES.md; where it leaves room:

IRF rows (``parties``)
  * One row per agent party, per IVR party, per agent-less Extension party (none are generated)
    and per queue party whose stay ended Abandoned or Cleared (the interaction ended there).
  * RING/DIAL: ``Ringing``/``Dialing`` -> ``Established``, else -> ``Released``. HOLD: number of
    ``Held``; sum of ``Held`` -> ``Retrieved`` (or -> ``Released``). TALK: ``Established`` ->
    ``Released`` minus the hold time.
  * QUEUE_DURATION / ROUTING_POINT_DURATION / LAST_VQUEUE: MEASURES.md's delivered-to rule. A
    Queue or RoutingPoint party delivered the call to the party its ``Diverted.target_party_id``
    names, or, where it has no such ``Diverted``, to the party whose ``initiator_party_id`` names
    it. In the simulator's objects both links are ``Party.initiator`` (the events carry the
    initiator, the Diverted, or both: ``omit_routed_initiator``), so the ledger walks back from
    the party through ``initiator`` while it is a mediation party: each Queue adds its segment's
    MEDIATION_DURATION (the first one met is LAST_VQUEUE), each RoutingPoint adds PartyAdded ->
    Released. The walk stops at any other party or at none. So a queue party's own IRF row has
    QUEUE_DURATION 0 and LAST_VQUEUE null; a party reached by a direct transfer, a consultation
    or a dial has 0 and null.
  * CONS_INIT_COUNT: on the consulting agent's held party of the original call.
  * AFTER_CALL_WORK: MEASURES.md's rule, applied to the agent's state events and parties.
  * RESOURCE_ROLE: reason Transfer -> ReceivedTransfer; Conference -> ReceivedConference; on a
    Consult call the Dialing party -> InitiatedConsult, the reason-Consult party ->
    ReceivedConsult; else a Dialing party -> Initiated; else Received.
  * TECHNICAL_RESULT / RESULT_REASON: the abandon rows first (customer = the External party of an
    Inbound call; its Released inside [Ringing, Established-or-own-Released] of a never
    established party -> Abandoned/AbandonedWhileRinging; inside [Held, Retrieved-or-own-Released]
    -> Abandoned/AbandonedFromHold; both bounds inclusive, and at or before the party's own
    Released); queue rows by the stay's result; then the cause table.

MSF rows (``mediation_segments``): one per queue party; see voice.py for the three endings.

Agent states: per session, from the raw state events (LoginNR = NotReady without reason,
Ready, NotReady(reason), AfterCallWork) and Busy (voice: any party between its first of
Ringing/Dialing/Established and its Released; digital: any offer between Offered and its end),
priority AfterCallWork > NotReady > Busy > Ready, merged into maximal runs that tile the session.
The last run of an open session has a null end. Reason rows: runs of (workmode, reason_code)
while NotReady or AfterCallWork; the login NotReady counts as (AuxWork, null); digital
MediaNotReady counts as AuxWork.

Per 15-minute interval (AGGREGATES.md: the ground truth of the ag2_*_subhr tables; the dbt
aggregates follow the same readings). Intervals are the local quarter hours (hh:00, :15, :30,
:45) of the reporting time zone (config ``reporting_time_zone``, default UTC, via zoneinfo: a
DST day has 92 or 100 intervals, the repeated hour gives two intervals per quarter). Every row
carries ``interval_start_ts`` (UTC), ``interval_start_local`` (wall clock with its offset) and
``date_time_key`` (UTC epoch seconds of the start: the DATE_TIME key). ``media_type`` is
voice, chat or email; ``interaction_type`` is the interaction's type (the thread's first call:
Inbound, Outbound or Internal; digital: Inbound), so a consultation call's rows go with the
call they serve. Durations are exact ms (``*_ms``; the aggregates round once). A row exists
only where a measure is not zero. Computed from parties, offers, sessions and state runs, never
from the events or the facts (intervals.py holds the machinery).

``queue_intervals`` (ag2_queue): disposition, anchored at the segment's entry (MSF START_TS)
  * One row per (interval, queue, media_type, interaction_type, service_level_threshold,
    short_abandon_threshold); every measure of a segment goes to its entry interval, however
    late it ends. A segment counts once it has ended and, if Diverted, once its target's IRF
    row has ended (its outcome and times are final then).
  * Outcome (exactly one): Abandoned -> abandoned; Cleared -> cleared; Diverted to an agent
    party that was established (TALK_COUNT 1) -> accepted; else to a party ended
    Abandoned/AbandonedWhileRinging -> abandoned_invite; else ended Redirected (RONA too) or
    Rejected, never established -> redirected; else (a target without an IRF row) ->
    routed_other. distributed = accepted + abandoned_invite + redirected + routed_other.
  * Digital: a stay Queued -> the Accepted of an offer made from it is accepted (offers
    rejected or timed out stay inside the stay, as MEASURES.md says); -> Completed(Abandoned)
    abandoned; -> Completed(Expired or Cancelled) cleared.
  * accepted time: voice MEDIATION_DURATION + the target's RING_DURATION, digital
    MEDIATION_DURATION. accepted_thr: accepted time <= service_level_threshold; abandoned_short:
    MEDIATION_DURATION <= short_abandon_threshold (exact ms, MEASURES.md's <=: 10 000 ms is short
    at 10 s, 10 001 ms is not). accepted_time_max_ms / abandoned_time_max_ms are null in a row
    without an accepted / abandoned segment.
  * engage/hold/wrap_time_ms: TALK, HOLD and AFTER_CALL_WORK ms of the accepting target's IRF
    row (digital: Accepted -> AgentReleased or Transferred; no hold or wrap); an after-call work
    with no end yet adds 0 ms. handle = engage + hold + wrap.
  * service_level = accepted_thr / (accepted + abandoned + abandoned_invite - abandoned_short),
    from the row's own counts; null when that is 0.
  * Thresholds: those in force for the queue at the segment's START_TS, in seconds: the last
    entry of the queue's schedule (queue -> [(effective from ms, service level s, short abandon
    s)]) effective at or before START_TS (a change at 14:00 applies to segments entered from
    14:00 on; earlier rows keep the old values), else the settings (``service_level_threshold_s``
    20, ``short_abandon_threshold_s`` 10). The MSF rows' short_abandoned uses the same ones.

``queue_abn_intervals`` / ``queue_acc_agent_intervals`` (ag2_queue_abn / ag2_queue_acc_agent)
  * The queue grain without the thresholds, plus ``time_range_key``: ``abandoned`` counts
    abandoned segments by MEDIATION_DURATION, ``accepted`` accepted ones by accepted time, in
    the TIME_RANGE range [range_start, range_end) holding the exact ms. The ranges are read
    from the dbt seed seeds/time_range.csv (intervals.time_ranges), so both use the same ones.

``agent_intervals`` (ag2_agent): disposition, anchored at IRF START_TS (party added; digital:
Offered)
  * One row per (interval, agent_id, media_type, interaction_type); only ended IRF rows.
  * Consultation-call rows feed only consult_offered / consult_accepted (role ReceivedConsult;
    of them TALK_COUNT 1) and consult_engage_time_ms (TALK of either role). consult_init is
    CONS_INIT_COUNT, on the consulting agent's party of the original call.
  * offered: roles Received, ReceivedTransfer, ReceivedConference (an internal call's callee
    too); of them accepted (TALK_COUNT 1), rejected (ended Rejected), redirected (ended
    Redirected, RONA included), abandoned_invite (Abandoned/AbandonedWhileRinging),
    invite_time_ms (RING), xfer_received_accepted / conf_received_accepted (accepted with role
    ReceivedTransfer / ReceivedConference). initiated, dial_time_ms: role Initiated. Every
    non-consultation row: engage_time_ms (TALK), hold (HOLD_COUNT), hold_time_ms, wrap
    (AFTER_CALL_WORK_COUNT), wrap_time_ms (open after-call work: 0 ms), handle_time_ms,
    transfer_init (ended Transferred).
  * Digital: one IRF row per offer (MEASURES.md): role ReceivedTransfer when made after the
    interaction's first Transferred, else Received; RING Offered -> Accepted / Rejected /
    OfferTimedOut; TALK Accepted -> AgentReleased or Transferred; OfferTimedOut is
    Redirected/NoAnswer; ended Transferred counts in transfer_init.

``agent_state_intervals`` (ag2_i_sess_state): interval measures, split exactly
  * One row per (interval, agent_id, media_type): active_time_ms = the session spans
    (agent_sessions); ready / not_ready / busy / wrap_time_ms = the state runs (agent_states)
    of Ready, NotReady, Busy, AfterCallWork. Every span is cut at each interval boundary it
    crosses, to the ms, so ready + not_ready + busy + wrap = active in every row.
  * occupancy = (busy + wrap) / (busy + wrap + ready), from the row's exact ms (not from
    rounded seconds); null when that is 0.
  * An open session or state run runs to the data horizon: the latest event time over
    voice-callthread, voice-agentstate, digital-itx and digital-agentstate (``data_horizon``),
    the "now" the facts use for open spans.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .intervals import (
    STATE_COLUMN,
    Handling,
    QueueStay,
    ReportingClock,
    Span,
    Thresholds,
    ThresholdSchedule,
    ThresholdsInForce,
    agent_interval_rows,
    agent_state_interval_rows,
    digital_handlings,
    digital_stays,
    offer_row,
    queue_interval_rows,
    voice_handling,
    voice_stay,
    wait_distribution_rows,
)
from .model import Agent, Itx, Offer, Party, Session
from .timefmt import ts_opt, ts_str

if TYPE_CHECKING:
    from .simulation import Simulation

LEDGER_FILES: tuple[str, ...] = (
    "interactions",
    "parties",
    "mediation_segments",
    "agent_sessions",
    "agent_states",
    "agent_state_reasons",
    "digital",
    "digital_offers",
    "digital_segments",
    "outbound",
    "contact_attempts",
    "campaign_group_sessions",
    "anomalies",
    "queue_intervals",
    "queue_abn_intervals",
    "queue_acc_agent_intervals",
    "agent_intervals",
    "agent_state_intervals",
)

MEDIATION = ("Queue", "RoutingPoint")


@dataclass
class Ledger:
    interactions: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)
    mediation_segments: list[dict[str, Any]] = field(default_factory=list)
    agent_sessions: list[dict[str, Any]] = field(default_factory=list)
    agent_states: list[dict[str, Any]] = field(default_factory=list)
    agent_state_reasons: list[dict[str, Any]] = field(default_factory=list)
    digital: list[dict[str, Any]] = field(default_factory=list)
    digital_offers: list[dict[str, Any]] = field(default_factory=list)
    digital_segments: list[dict[str, Any]] = field(default_factory=list)
    outbound: list[dict[str, Any]] = field(default_factory=list)
    contact_attempts: list[dict[str, Any]] = field(default_factory=list)
    campaign_group_sessions: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    queue_intervals: list[dict[str, Any]] = field(default_factory=list)
    queue_abn_intervals: list[dict[str, Any]] = field(default_factory=list)
    queue_acc_agent_intervals: list[dict[str, Any]] = field(default_factory=list)
    agent_intervals: list[dict[str, Any]] = field(default_factory=list)
    agent_state_intervals: list[dict[str, Any]] = field(default_factory=list)

    def files(self) -> dict[str, list[dict[str, Any]]]:
        return {name: getattr(self, name) for name in LEDGER_FILES}


# ---------------------------------------------------------------------- party measures
def segment_end(qp: Party) -> int:
    end = qp.diverted if qp.diverted is not None else qp.released
    assert end is not None
    return end


def role_of(p: Party) -> str:
    if p.reason == "Transfer":
        return "ReceivedTransfer"
    if p.reason == "Conference":
        return "ReceivedConference"
    if p.call.call_type == "Consult":
        return "InitiatedConsult" if p.dialing is not None else "ReceivedConsult"
    if p.dialing is not None:
        return "Initiated"
    return "Received"


def result_of(p: Party) -> tuple[str, str]:
    call = p.call
    rel = p.released
    if p.dn_type == "Queue":
        return (
            ("Abandoned", "AbandonedWhileQueued") if p.result == "Abandoned" else ("Cleared", "Unspecified")
        )
    cust = call.customer if call.call_type == "Inbound" else None
    c_rel = cust.released if cust is not None else None
    if c_rel is not None and rel is not None and c_rel <= rel:
        if p.ringing is not None and p.established is None and p.ringing <= c_rel:
            return "Abandoned", "AbandonedWhileRinging"
        for h, r in p.holds:
            assert h is not None
            if h <= c_rel <= (r if r is not None else rel):
                return "Abandoned", "AbandonedFromHold"
    cause = p.cause
    if cause == "Normal" and p.established is not None:
        return "Completed", "Unspecified"
    if cause in ("Transferred", "Conferenced"):
        return cause, "Unspecified"
    if cause == "NoAnswer" and p.established is None:
        return "Redirected", "NoAnswer"
    if cause in ("Redirected", "Rejected"):
        return cause, "Unspecified"
    return "Unknown", f"{cause}"


def _walk(p: Party) -> tuple[int, int, str | None]:
    q_ms = rp_ms = 0
    last_vq: str | None = None
    i = p.initiator
    while i is not None and i.dn_type in MEDIATION:
        if i.dn_type == "Queue":
            assert i.queued is not None
            q_ms += segment_end(i) - i.queued
            if last_vq is None:
                last_vq = i.queue
        else:
            assert i.released is not None
            rp_ms += i.released - i.added
        i = i.initiator
    return q_ms, rp_ms, last_vq


def has_irf_row(p: Party) -> bool:
    if p.agent is not None or p.dn_type in ("IVR", "Extension"):
        return True
    return p.dn_type == "Queue" and p.result in ("Abandoned", "Cleared")


def party_row(p: Party, acw: dict[int, list[int | None]]) -> dict[str, Any]:
    call = p.call
    rel = p.released
    assert rel is not None, f"party {p.party_id} never released"
    ring_ms = dial_ms = talk_ms = 0
    if p.ringing is not None:
        ring_ms = (p.established if p.established is not None else rel) - p.ringing
    if p.dialing is not None:
        dial_ms = (p.established if p.established is not None else rel) - p.dialing
    hold_ms = 0
    for h, r in p.holds:
        assert h is not None
        hold_ms += (r if r is not None else rel) - h
    if p.established is not None:
        talk_ms = rel - p.established - hold_ms
    q_ms, rp_ms, last_vq = _walk(p)
    role = role_of(p)
    result, reason = result_of(p)
    a = acw.get(id(p))
    return {
        "call_id": call.call_id,
        "thread_id": call.thread.thread_id,
        "party_id": p.party_id,
        "call_type": call.call_type,
        "agent_id": p.agent.agent_id if p.agent is not None else None,
        "dn": p.dn,
        "dn_type": p.dn_type,
        "join_reason": p.reason,
        "initiator_party_id": p.initiator.party_id if p.initiator is not None else None,
        "start_ts": ts_str(p.added),
        "end_ts": ts_str(rel),
        "ring_count": int(p.ringing is not None),
        "ring_ms": ring_ms,
        "dial_count": int(p.dialing is not None),
        "dial_ms": dial_ms,
        "talk_count": int(p.established is not None),
        "talk_ms": talk_ms,
        "hold_count": len(p.holds),
        "hold_ms": hold_ms,
        "acw_count": a[0] if a else 0,
        "acw_ms": a[1] if a else 0,
        "queue_ms": q_ms,
        "routing_point_ms": rp_ms,
        "cons_init_count": p.cons_init,
        "resource_role": role,
        "technical_result": result,
        "result_reason": reason,
        "last_vqueue": last_vq,
        "release_cause": p.cause,
        **user_data_of(call.user_data_log, call.end_t, (a[2] if a else rel)),
    }


def merged_user_data(log: list[tuple[int, dict[str, Any]]], until: int | None) -> dict[str, Any]:
    """The user data in force at `until` (None: every change so far): the objects set at or
    before it merged in order."""
    out: dict[str, Any] = {}
    for t, data in log:
        if until is None or t <= until:
            out.update(data)
    return out


def user_data_of(
    log: list[tuple[int, dict[str, Any]]], call_end: int, party_end: int | None
) -> dict[str, Any]:
    """MEASURES.md "User data" for one IRF row, per rule (the mapping applies them per key):
    CALL, in force when the call ended (its last event other than a UserDataChanged); PARTY, in
    force when the party's part ended (its Released, or the end of its after-call work; None
    while that is open)."""
    return {
        "user_data_call": merged_user_data(log, call_end),
        "user_data_party": merged_user_data(log, party_end),
    }


def acw_attribution(a: Agent) -> dict[int, list[int | None]]:
    """MEASURES.md's after-call-work rule for one agent: id(party) -> [count, ms, end], end the
    end of the party's last after-call work (None while one is open)."""
    out: dict[int, list[int | None]] = {}
    changes: list[int] = []
    acw_starts: list[int] = []
    for s in a.sessions:
        for t, raw, _ in s.changes:
            changes.append(t)
            if raw == "ACW":
                acw_starts.append(t)
        if s.end is not None and s.ended_by == "logout":
            changes.append(s.end)
    if not acw_starts:
        return out
    changes.sort()
    rd = sorted(t for p in a.parties for t in (p.ringing, p.dialing) if t is not None)
    rels = sorted((p.released, p.party_id, p) for p in a.parties if p.released is not None)
    rel_ts = [x[0] for x in rels]
    for st in acw_starts:
        k = bisect_right(rel_ts, st) - 1
        if k < 0:
            continue
        p = rels[k][2]
        j = bisect_left(rd, p.released)
        if j < len(rd) and rd[j] < st:
            continue  # a Ringing/Dialing came between the release and the after-call work
        ends = []
        c = bisect_right(changes, st)
        if c < len(changes):
            ends.append(changes[c])
        r = bisect_right(rd, st)
        if r < len(rd):
            ends.append(rd[r])
        dur = min(ends) - st if ends else None
        cur = out.setdefault(id(p), [0, 0, p.released])
        cur[0] = (cur[0] or 0) + 1
        cur[1] = None if dur is None or cur[1] is None else cur[1] + dur
        cur[2] = None if dur is None or cur[2] is None else max(cur[2], st + dur)
    return out


# ---------------------------------------------------------------------- agent states
def _display(raw: str | None, busy: bool) -> str:
    if raw == "ACW":
        return "AfterCallWork"
    if raw in ("NotReady", "LoginNR"):
        return "NotReady"
    return "Busy" if busy else "Ready"


def _push(runs: list[list[Any]], state: Any, s: int, e: int | None) -> None:
    if e is not None and e <= s:
        return
    if runs and runs[-1][0] == state and runs[-1][2] == s:
        runs[-1][2] = e
    else:
        runs.append([state, s, e])


def state_runs(session: Session, busy: list[tuple[int, int | None]]) -> list[list[Any]]:
    """Maximal displayed-state runs [state, start, end] tiling the session."""
    ev: list[tuple[int, int, str | None, int]] = [(t, 1, raw, 0) for t, raw, _ in session.changes]
    end = session.end
    for s, e in busy:
        ev.append((s, 0, None, 1))
        if e is not None:
            ev.append((e, 0, None, -1))
    ev.sort(key=lambda x: (x[0], x[1]))
    runs: list[list[Any]] = []
    raw: str | None = None
    nbusy = 0
    i = 0
    cur: str | None = None
    cur_start = session.start
    while i < len(ev):
        t = ev[i][0]
        if end is not None and t > end:
            break
        while i < len(ev) and ev[i][0] == t:
            _, kind, r, d = ev[i]
            if kind == 1:
                raw = r
            else:
                nbusy += d
            i += 1
        st = _display(raw, nbusy > 0)
        if st != cur:
            if cur is not None:
                _push(runs, cur, cur_start, t)
            cur, cur_start = st, t
    if cur is not None:
        _push(runs, cur, cur_start, end)
    return runs


def reason_runs(session: Session, media: str) -> list[list[Any]]:
    runs: list[list[Any]] = []
    cur: tuple[str, str | None] | None = None
    cur_start = session.start
    for t, raw, reason in session.changes:
        if raw == "LoginNR":
            key: tuple[str, str | None] | None = ("AuxWork", None)
        elif raw == "NotReady":
            key = ("AuxWork", reason)
        elif raw == "ACW":
            key = ("AfterCallWork", reason)
        else:
            key = None
        if key != cur:
            if cur is not None:
                _push(runs, cur, cur_start, t)
            cur, cur_start = key, t
    if cur is not None:
        _push(runs, cur, cur_start, session.end)
    return runs


def _busy_voice(a: Agent) -> list[tuple[int, int | None]]:
    return [(p.busy_from, p.released) for p in a.parties if p.busy_from is not None]


def _busy_offers(offers: list[Offer]) -> list[tuple[int, int | None]]:
    return [(o.offered, o.end) for o in offers]


def _in_session(busy: list[tuple[int, int | None]], s: Session) -> list[tuple[int, int | None]]:
    return [(b, e) for b, e in busy if b >= s.start and (s.end is None or b < s.end)]


def _agent_rows(led: Ledger, a: Agent, spans: list[Span]) -> None:
    per_media: list[tuple[str, int, list[Session], list[tuple[int, int | None]]]] = [
        ("voice", 1, a.sessions, _busy_voice(a))
    ]
    for m in sorted(a.media):
        ms = a.media[m]
        per_media.append((m, ms.capacity, ms.sessions, _busy_offers(ms.offers)))
    for media, capacity, sessions, busy in per_media:
        for s in sessions:
            spans.append((a.agent_id, media, "active_time_ms", s.start, s.end))
            led.agent_sessions.append(
                {
                    "agent_id": a.agent_id,
                    "media": media,
                    "start_ts": ts_str(s.start),
                    "end_ts": ts_opt(s.end),
                    "duration_ms": None if s.end is None else s.end - s.start,
                    "ended_by": s.ended_by,
                    "capacity": capacity,
                }
            )
            for st, b, e in state_runs(s, _in_session(busy, s)):
                spans.append((a.agent_id, media, STATE_COLUMN[st], b, e))
                led.agent_states.append(
                    {
                        "agent_id": a.agent_id,
                        "media": media,
                        "session_start_ts": ts_str(s.start),
                        "state": st,
                        "start_ts": ts_str(b),
                        "end_ts": ts_opt(e),
                        "duration_ms": None if e is None else e - b,
                    }
                )
            for (wm, rc), b, e in reason_runs(s, media):
                led.agent_state_reasons.append(
                    {
                        "agent_id": a.agent_id,
                        "media": media,
                        "session_start_ts": ts_str(s.start),
                        "workmode": wm,
                        "reason_code": rc,
                        "start_ts": ts_str(b),
                        "end_ts": ts_opt(e),
                        "duration_ms": None if e is None else e - b,
                    }
                )


# ---------------------------------------------------------------------- digital facts
def digital_offer_rows(itx: Itx) -> list[dict[str, Any]]:
    """The IRF rows of a digital interaction's ended offers (MEASURES.md "Digital interactions"),
    from the simulation's offers and stays: the queue it was offered from (the stay that began
    last before the offer) and QUEUE_MS, the duration of the stay that ended at its Accepted."""
    transfers = [o.end for o in itx.offers if o.end_kind == "Transferred" and o.end is not None]
    first_transfer = min(transfers) if transfers else None
    out = []
    for o in itx.offers:
        row = offer_row(o, first_transfer)
        if row is None:
            continue
        earlier = [stay for stay in itx.stays if stay[1] < o.offered]
        delivering = [
            stay
            for stay in itx.stays
            if o.outcome == "Accepted" and stay[2] is not None and stay[2] == o.outcome_ts
        ]
        out.append(
            {
                "itx_id": itx.itx_id,
                "agent_id": o.agent.agent_id,
                "media_type": itx.media,
                "dn_type": None,
                "start_ts": ts_str(o.offered),
                "end_ts": ts_opt(o.end),
                "ring_count": 1,
                "dial_count": 0,
                **row,
                "queue_ms": delivering[0][2] - delivering[0][1] if delivering else 0,
                "routing_point_ms": 0,
                "last_vqueue": earlier[-1][0] if earlier else None,
                "user_data_call": dict(itx.user_data),
                "user_data_party": dict(itx.user_data),
            }
        )
    return out


def digital_segment_rows(itx: Itx, in_force: ThresholdsInForce) -> list[dict[str, Any]]:
    """The MSF rows of a digital interaction's ended stays in a queue: Queued -> the Accepted of
    an offer made from it (Diverted, target that offer), or -> Completed (Abandoned; Expired or
    Cancelled: Cleared)."""
    accepted = {o.outcome_ts: o for o in itx.offers if o.outcome == "Accepted"}
    out = []
    for queue, start, end in itx.stays:
        if end is None:
            continue
        target = accepted.get(end)
        if target is not None:
            result = "Diverted"
        elif end == itx.completed and itx.reason == "Abandoned":
            result = "Abandoned"
        else:
            result = "Cleared"
        duration = end - start
        out.append(
            {
                "itx_id": itx.itx_id,
                "media_type": itx.media,
                "queue": queue,
                "start_ts": ts_str(start),
                "end_ts": ts_str(end),
                "duration_ms": duration,
                "technical_result": result,
                "short_abandoned": result == "Abandoned"
                and duration <= in_force.at(queue, start).short_abandon_ms,
                "target_agent_id": target.agent.agent_id if target is not None else None,
                "target_offered_ts": ts_str(target.offered) if target is not None else None,
            }
        )
    return out


# ---------------------------------------------------------------------- outbound facts
def contact_attempt_rows(sim: Simulation) -> list[dict[str, Any]]:
    """CONTACT_ATTEMPT_FACT (MEASURES.md "Outbound campaigns"): one row per dial attempt, from the
    simulation's records: the dial result, the campaign's dialing mode, the record's disposition
    on its last attempt (once completed), and the agent party that took an answered call."""
    modes = {c.name: c.mode for c in sim.outbound.campaigns}
    out = []
    for rec in sim.outbound.records:
        for x in rec.attempts:
            last = x is rec.attempts[-1]
            ap = rec.agent_party if last and x.result == "Answered" else None
            out.append(
                {
                    "campaign_id": rec.campaign,
                    "record_id": rec.record_id,
                    "chain_id": rec.chain_id,
                    "contact": rec.contact,
                    "attempt": x.attempt,
                    "call_id": x.call_id,
                    "start_ts": ts_str(x.dialed),
                    "end_ts": ts_opt(x.result_ts),
                    "call_result": x.result,
                    "dialing_mode": modes[rec.campaign],
                    "record_disposition": rec.disposition if last and rec.completed is not None else None,
                    "agent_party_id": ap.party_id if ap is not None else None,
                }
            )
    return out


def campaign_group_session_rows(sim: Simulation) -> list[dict[str, Any]]:
    """CAMPAIGN_GROUP_SESSION_FACT: CampaignGroupStarted -> CampaignGroupStopped per campaign."""
    return [
        {
            "campaign_id": c.name,
            "group": "AG_Outbound",
            "dialing_mode": c.mode,
            "start_ts": ts_str(c.started),
            "end_ts": ts_opt(c.stopped),
        }
        for c in sim.outbound.campaigns
        if c.started is not None
    ]


# ---------------------------------------------------------------------- build
def data_horizon(sim: Simulation) -> int:
    """The latest event time over the call and agent-activity topics (voice-callthread,
    voice-agentstate, digital-itx, digital-agentstate): the facts' "now" for open spans."""
    times = [c.t for th in sim.voice.threads for c in th.calls]
    times += [a.t for a in sim.agents.agents]
    times += [itx.t for itx in sim.digital.itxs]
    return max(times, default=sim.start_ms)


def queue_threshold_schedule(sim: Simulation) -> ThresholdSchedule:
    """Per-queue thresholds of the simulated configuration over time, from its configuration model
    (cfgevents.py; none without ``queue_thresholds``: every queue uses the settings)."""
    return sim.config.threshold_schedule()


def build_ledger(
    sim: Simulation,
    reporting_zone: str | None = None,
    thresholds: ThresholdSchedule | None = None,
) -> Ledger:
    """The ledger of a finished run. ``reporting_zone`` (default: the config's) places the
    15-minute intervals; ``thresholds`` (default: the simulated configuration's) are the
    per-queue thresholds in force over time, else the config's."""
    cfg = sim.cfg
    clock = ReportingClock(reporting_zone or cfg.reporting_time_zone)
    in_force = ThresholdsInForce(
        queue_threshold_schedule(sim) if thresholds is None else thresholds,
        Thresholds(cfg.service_level_threshold_s, cfg.short_abandon_threshold_s),
    )
    led = Ledger()
    acw: dict[int, list[int | None]] = {}
    for a in sim.agents.agents:
        acw.update(acw_attribution(a))
    irf: dict[int, dict[str, Any]] = {}
    queue_parties: list[Party] = []
    handlings: list[Handling] = []

    # voice
    for th in sim.voice.threads:
        first = th.calls[0]
        # MEASURES.md: each call closes at its CallEnded (a user-data change in after-call work
        # may come later), else at its last event
        end = max(c.ended if c.ended is not None else c.t for c in th.calls)
        led.interactions.append(
            {
                "interaction_key": th.thread_id,
                "media_type": "voice",
                "interaction_type": first.call_type,
                "start_ts": ts_str(first.created),
                "end_ts": ts_str(end),
                "source_address": first.ani,
                "target_address": first.dnis,
                "status": "completed",
                "call_ended": all(not c.lost_end for c in th.calls),
                "call_ids": [c.call_id for c in th.calls],
            }
        )
        for c in th.calls:
            for p in c.parties:
                if has_irf_row(p):
                    row = party_row(p, acw)
                    led.parties.append(row)
                    irf[id(p)] = row
                    h = voice_handling(p, row)
                    if h is not None:
                        handlings.append(h)
                if p.dn_type == "Queue" and p.queued is not None:
                    queue_parties.append(p)
                    end_ms = segment_end(p)
                    dur = end_ms - p.queued
                    led.mediation_segments.append(
                        {
                            "call_id": c.call_id,
                            "thread_id": th.thread_id,
                            "party_id": p.party_id,
                            "queue": p.queue,
                            "start_ts": ts_str(p.queued),
                            "end_ts": ts_str(end_ms),
                            "duration_ms": dur,
                            "technical_result": p.result,
                            "short_abandoned": p.result == "Abandoned"
                            and dur <= in_force.at(p.queue or "", p.queued).short_abandon_ms,
                            "target_party_id": p.target.party_id if p.target is not None else None,
                        }
                    )

    # digital
    for itx in sim.digital.itxs:
        led.interactions.append(
            {
                "interaction_key": itx.itx_id,
                "media_type": itx.media,
                "interaction_type": "Inbound",
                "start_ts": ts_str(itx.created),
                "end_ts": ts_opt(itx.completed),
                "source_address": itx.customer_id,
                "target_address": itx.stays[0][0] if itx.stays else None,
                "status": "completed" if itx.completed is not None else "active",
                "call_ended": None,
                "call_ids": [],
            }
        )
        queue_ms = sum((e if e is not None else itx.t) - s for _, s, e in itx.stays)
        handle_ms = 0
        for o in itx.offers:
            if o.outcome == "Accepted" and o.outcome_ts is not None and o.end is not None:
                handle_ms += o.end - o.outcome_ts
        led.digital.append(
            {
                "itx_id": itx.itx_id,
                "media_type": itx.media,
                "direction": "Inbound",
                "customer_id": itx.customer_id,
                "start_ts": ts_str(itx.created),
                "end_ts": ts_opt(itx.completed),
                "outcome": itx.reason,
                "queues": [q for q, _, _ in itx.stays],
                "queue_ms": queue_ms,
                "handle_ms": handle_ms,
                "offers": len(itx.offers),
                "accepted": sum(1 for o in itx.offers if o.outcome == "Accepted"),
                "rejected": sum(1 for o in itx.offers if o.outcome == "Rejected"),
                "timed_out": sum(1 for o in itx.offers if o.outcome == "OfferTimedOut"),
                "transfers": itx.transfers,
                "agents": [o.agent.agent_id for o in itx.offers if o.outcome == "Accepted"],
            }
        )

        led.digital_offers.extend(digital_offer_rows(itx))
        led.digital_segments.extend(digital_segment_rows(itx, in_force))

    # outbound
    party_rows = {r["party_id"]: r for r in led.parties}
    for rec in sim.outbound.records:
        if not rec.attempts:
            continue
        ap = rec.agent_party
        row = party_rows.get(ap.party_id) if ap is not None else None
        led.outbound.append(
            {
                "campaign_id": rec.campaign,
                "record_id": rec.record_id,
                "chain_id": rec.chain_id,
                "contact": rec.contact,
                "attempts": [
                    {
                        "attempt": x.attempt,
                        "call_id": x.call_id,
                        "dialed_ts": ts_str(x.dialed),
                        "result": x.result,
                        "result_ts": ts_opt(x.result_ts),
                    }
                    for x in rec.attempts
                ],
                "final_result": rec.attempts[-1].result,
                "disposition": rec.disposition,
                "completed_ts": ts_opt(rec.completed),
                "agent_id": ap.agent.agent_id if ap is not None and ap.agent is not None else None,
                "talk_ms": row["talk_ms"] if row else 0,
                "hold_ms": row["hold_ms"] if row else 0,
                "acw_ms": row["acw_ms"] if row else 0,
                "handle_ms": (row["talk_ms"] + row["hold_ms"] + (row["acw_ms"] or 0)) if row else 0,
            }
        )

    led.contact_attempts = contact_attempt_rows(sim)
    led.campaign_group_sessions = campaign_group_session_rows(sim)

    spans: list[Span] = []
    for a in sim.agents.agents:
        _agent_rows(led, a, spans)

    # per 15-minute interval
    stays: list[QueueStay] = []
    for qp in queue_parties:
        stay = voice_stay(qp, irf)
        if stay is not None:
            stays.append(stay)
    for itx in sim.digital.itxs:
        stays.extend(digital_stays(itx))
        handlings.extend(digital_handlings(itx))
    led.queue_intervals = queue_interval_rows(stays, clock, in_force)
    led.queue_abn_intervals = wait_distribution_rows(stays, clock, "abandoned")
    led.queue_acc_agent_intervals = wait_distribution_rows(stays, clock, "accepted")
    led.agent_intervals = agent_interval_rows(handlings, clock)
    led.agent_state_intervals = agent_state_interval_rows(spans, clock, data_horizon(sim))

    led.anomalies = [dict(x, ts=ts_str(x["ts"])) for x in sim.voice.anomalies]

    # deterministic order (ts texts and ids have fixed widths, so text order is time order)
    led.interactions.sort(key=lambda r: (r["start_ts"], r["interaction_key"]))
    led.parties.sort(key=lambda r: (r["start_ts"], r["call_id"], r["party_id"]))
    led.mediation_segments.sort(key=lambda r: (r["start_ts"], r["call_id"], r["party_id"]))
    for name in ("agent_sessions", "agent_states", "agent_state_reasons"):
        getattr(led, name).sort(key=lambda r: (r["agent_id"], r["media"], r["start_ts"]))
    led.digital.sort(key=lambda r: (r["start_ts"], r["itx_id"]))
    led.digital_offers.sort(key=lambda r: (r["start_ts"], r["itx_id"], r["agent_id"]))
    led.digital_segments.sort(key=lambda r: (r["start_ts"], r["itx_id"]))
    led.outbound.sort(key=lambda r: (r["attempts"][0]["dialed_ts"], r["record_id"]))
    led.contact_attempts.sort(key=lambda r: (r["start_ts"], r["call_id"]))
    led.campaign_group_sessions.sort(key=lambda r: (r["campaign_id"], r["start_ts"]))
    led.anomalies.sort(key=lambda r: (r["ts"], r["call_id"]))
    return led
