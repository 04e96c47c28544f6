"""The voice call model (topic ``voice-callthread``).

Conventions (downstream SQL follows these; MEASURES.md decides where it speaks):

Timing
  * Every event of one call has a strictly greater ``ts`` than the call's previous event (at
    least +1 ms), and every event of an agent's party also advances that agent's clock (see
    agents.py). So ordering by ``ts`` alone is unambiguous per call and per agent, even after
    deduplicating redundant sources (whose ``seq`` differ).

Parties
  * The inbound customer is an ``External`` party (dn = ani, reason ``New``); it only gets
    ``PartyAdded`` and ``Released`` (cause ``Normal`` always, also when abandoning).
  * Routing point party: ``RoutingPoint``, reason ``New``, no initiator; it stays 0.2-3 s and is
    ``Released(Normal)`` right after the next party (queue or IVR) is added with initiator = the
    routing point. No ``Diverted`` is emitted for routing points (but see below).
  * ``omit_routed_initiator`` (a rendering option: the simulation, entity ids and ledger do not
    change): every party added with reason ``Route`` after a ``Diverted`` (a queue or IVR party
    from a routing point, an agent party from a queue) has ``initiator_party_id`` null, and a
    routing point emits ``Diverted(party_id=<routing point>, target_party_id=<next party>)``
    1 ms before the next party's ``PartyAdded`` (its stay of 200 ms or more leaves room, so no
    other event moves). The call then reaches each party only through ``Diverted`` links,
    which MEASURES.md's delivered-to rule follows first.
  * Queue party (one per stay = one MEDIATION_SEGMENT_FACT row): ``dn_type=Queue``, dn = the
    virtual queue name, then ``Queued``. It ends in exactly one of:
      - ``Diverted(target_party_id=P)``, then ``PartyAdded`` P (reason ``Route``, initiator = the
        queue party), then the queue party ``Released(Normal)``: result Diverted, END_TS = Diverted;
      - customer ``Released(Normal)``, then the queue party ``Released(Abandoned)``, then
        ``CallEnded``: result Abandoned, END_TS = the queue party's Released;
      - queue party ``Released(Normal)`` without Diverted (routing gave up: a ``clear_share`` of
        stays has no possible target and is cleared after 5-60 s, and any stay is cleared after
        ``queue_timeout_s``), then the customer ``Released(Normal)`` and ``CallEnded``: result
        Cleared.
    Short abandon: result Abandoned and duration <= 10 000 ms. No abandon duration is generated
    within 600 ms of the 10 s threshold, so exact-ms and rounded-seconds rules agree.
  * Queue parties are added with reason ``Route`` (from a routing point: initiator = it; a
    re-queue after RONA/redirect/reject: initiator null) or ``Transfer`` (blind transfer to a
    queue: initiator = the transferring agent's party; from the IVR: initiator = the IVR party).
  * IVR party (``dn_type=IVR``, dn ``9001``, reason ``Route``, initiator = the routing point) is
    ``Established`` right away; it ends self-service (customer then IVR ``Released(Normal)``,
    ``CallEnded``) or ``Released(Transferred)`` after adding a queue party (reason Transfer).
  * Agent parties: ``dn_type=Extension``, dn = the agent's extension, ``agent_id`` set.

Offers to an agent (``Ringing``), outcomes
  * answered: ``Established`` after the ring time;
  * RONA: ``Released(NoAnswer)`` after ``ring_timeout_s``, the agent goes NotReady (no reason),
    the call gets a new queue party (reason Route, initiator null) in the same virtual queue;
  * redirect: ``Released(Redirected)`` after 2..timeout-2 s, re-queued the same way;
  * reject: ``Released(Rejected)`` after 1-4 s, re-queued the same way;
  * abandon while ringing: customer ``Released(Normal)``, then the agent party
    ``Released(Abandoned)``, then ``CallEnded``.

Talk
  * Holds: ``Held``/``Retrieved`` pairs inside the talk. Abandon from hold: customer
    ``Released(Normal)`` while held, then the agent party ``Released(Normal)`` (not retrieved).
  * Normal end: customer and agent party(ies) ``Released(Normal)`` (either order), ``CallEnded``.
  * Blind transfer to a queue: new queue party (reason Transfer, initiator = agent party), the
    agent party ``Released(Transferred)``, ``Queued``. To an agent: the receiving agent's party
    (reason Transfer, initiator = agent party), the sender ``Released(Transferred)``, ``Ringing``...
  * Consultation: the consulting party A is ``Held``; a new call (call_type ``Consult``, same
    ``thread_id``, ani = A's extension, dnis = B's extension): A's consult party (reason New,
    ``Dialing``), B's consult party (reason ``Consult``, initiator = A's consult party, ``Ringing``),
    B ``Established`` then A ``Established``. CONS_INIT_COUNT counts on A's held party in the
    original call. Then one of:
      - consult-transfer: original call: PartyAdded B (reason Transfer, initiator = A's party),
        B ``Established``; consult call: A and B ``Released(Normal)``, ``CallEnded``; original
        call: A ``Released(Transferred)`` (while held; the hold runs to the release);
      - conference: as above with reason ``Conference``, then A ``Retrieved``; A later leaves with
        ``Released(Conferenced)`` or stays to the end (``Normal``);
      - back to the customer: consult call B then A ``Released(Normal)``, ``CallEnded``; A
        ``Retrieved``.
    Consultations and internal calls are always answered.
  * Internal call: call_type ``Internal``, ani/dnis = the two extensions; caller party (reason New)
    ``Dialing``, callee party (reason New, initiator = caller) ``Ringing``, callee then caller
    ``Established``.
  * Manual outbound: call_type ``Outbound``, ani = the agent's extension, dnis = the number;
    agent party (reason New) ``Dialing``; customer ``External`` party (reason New, initiator =
    agent party) ``Ringing`` then ``Established`` (always answered), then the agent ``Established``.
  * Campaign calls: see outbound.py.
  * ``CallEnded`` is the last event of every call; a share of non-consultation calls loses it
    (ledger ``call_ended=false``; END_TS is then the call's last event).
  * Anomalies (``anomalies=N``): ``Retrieved`` without ``Held`` on an agent party 1 ms after its
    ``Established``; ``Released`` of a never-added party just before ``CallEnded``. They are
    listed in ``ledger/anomalies.ndjson`` and do not change any ledger measure.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .emitter import VOICE_CALL
from .model import Agent, Call, Party, Thread
from .timefmt import MS_PER_HOUR, MS_PER_S

if TYPE_CHECKING:
    from .simulation import Simulation


class VoiceModel:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.cfg = sim.cfg
        self.loop = sim.loop
        self.em = sim.em
        self.ids = sim.ids
        self.rng = sim.rng("voice")
        self.arr = sim.rng("arrivals")
        self.udrng = sim.rng("user-data")
        self.threads: list[Thread] = []
        self.anomalies: list[dict[str, Any]] = []
        self._answered = 0
        self._anomaly_n = 0
        cfg = self.cfg
        qs = cfg.voice_queues
        w = cfg.queue_weights or tuple(1.0 for _ in qs)
        tot = sum(w)
        acc = 0.0
        self._cum: list[float] = []
        for x in w:
            acc += x / tot
            self._cum.append(acc)
        self.dnis = {q: f"+1800555{100 + k:04d}" for k, q in enumerate(qs)}
        self.rp = {q: cfg.routing_points[k] for k, q in enumerate(qs)}

    # ------------------------------------------------------------------ processes
    def start(self) -> None:
        s = self.sim.start_ms
        cfg = self.cfg
        self.loop.at(s + self._gap(cfg.inbound_rate, self.arr), self._arrival)
        r_int = cfg.per_agent(cfg.internal_calls_per_hour, 0.3)
        if r_int > 0:
            self.loop.at(s + self._gap(r_int, self.arr), self._internal_tick, r_int)
        r_man = cfg.per_agent(cfg.manual_outbound_per_hour, 0.3)
        if r_man > 0:
            self.loop.at(s + self._gap(r_man, self.arr), self._manual_tick, r_man)

    @staticmethod
    def _gap(rate_per_hour: float, rng: Any) -> int:
        return max(1, int(rng.expovariate(rate_per_hour / MS_PER_HOUR)))

    def _lognormal_ms(self, mean_s: float, sigma: float = 0.6, lo_ms: int = 1000) -> int:
        mu = math.log(mean_s * 1000) - sigma * sigma / 2
        return max(lo_ms, int(self.rng.lognormvariate(mu, sigma)))

    def _arrival(self) -> None:
        if not self.sim.accepting():
            return
        self._inbound()
        self.loop.after(self._gap(self.cfg.inbound_rate, self.arr), self._arrival)

    def _internal_tick(self, rate: float) -> None:
        if not self.sim.accepting():
            return
        a = self.sim.router.any_agent()
        b = self.sim.router.any_agent(exclude=a) if a is not None else None
        if a is not None and b is not None:
            self._internal(a, b)
        self.loop.after(self._gap(rate, self.arr), self._internal_tick, rate)

    def _manual_tick(self, rate: float) -> None:
        if not self.sim.accepting():
            return
        a = self.sim.router.any_agent()
        if a is not None:
            self._manual_outbound(a)
        self.loop.after(self._gap(rate, self.arr), self._manual_tick, rate)

    # ------------------------------------------------------------------ primitives
    def _ev(self, call: Call, type_: str, party: Party | None, payload: dict[str, Any]) -> int:
        t = call.t + 1
        now = self.loop.now
        if t < now:
            t = now
        if party is not None:
            a = party.agent
            if a is not None:
                if a.t >= t:
                    t = a.t + 1
                a.t = t
        call.t = t
        if type_ != "UserDataChanged":
            call.end_t = t
        self.em.emit(t, VOICE_CALL, call.call_id, type_, payload)
        return t

    def new_call(
        self,
        call_type: str,
        thread: Thread | None,
        ani: str,
        dnis: str,
        user_data: dict[str, Any],
        call_id: str | None = None,
    ) -> Call:
        if thread is None:
            thread = Thread(self.ids.thread())
            self.threads.append(thread)
        now = self.loop.now
        call = Call(call_id or self.ids.call(), thread, call_type, ani, dnis, now, now - 1)
        call.abandon_ok = call_type == "Inbound"
        thread.calls.append(call)
        call.created = self._ev(
            call,
            "CallCreated",
            None,
            {
                "call_id": call.call_id,
                "thread_id": thread.thread_id,
                "call_type": call_type,
                "ani": ani,
                "dnis": dnis,
                "user_data": user_data,
            },
        )
        call.user_data_log.append((call.created, dict(user_data)))
        return call

    def add_party(
        self,
        call: Call,
        dn: str,
        dn_type: str,
        agent: Agent | None,
        reason: str,
        initiator: Party | None,
        party_id: str | None = None,
    ) -> Party:
        pid = party_id or self.ids.party()
        p = Party(pid, call, dn, dn_type, agent, reason, initiator, 0)
        p.added = self._ev(
            call,
            "PartyAdded",
            p,
            {
                "call_id": call.call_id,
                "party_id": pid,
                "dn": dn,
                "dn_type": dn_type,
                "agent_id": agent.agent_id if agent is not None else None,
                "reason": reason,
                "initiator_party_id": (
                    initiator.party_id
                    if initiator is not None and not (self.cfg.omit_routed_initiator and reason == "Route")
                    else None
                ),
            },
        )
        call.parties.append(p)
        if agent is not None:
            agent.parties.append(p)
        return p

    def _pev(self, p: Party, type_: str) -> int:
        return self._ev(p.call, type_, p, {"call_id": p.call.call_id, "party_id": p.party_id})

    def _activate(self, p: Party, t: int) -> None:
        if not p.active:
            p.active = True
            p.busy_from = t
            a = p.agent
            if a is not None:
                a.active += 1
                self.sim.agents.refresh(a)

    def ringing(self, p: Party) -> int:
        t = self._pev(p, "Ringing")
        p.ringing = t
        self._activate(p, t)
        return t

    def dialing(self, p: Party) -> int:
        t = self._pev(p, "Dialing")
        p.dialing = t
        self._activate(p, t)
        return t

    def establish(self, p: Party) -> int:
        t = self._pev(p, "Established")
        p.established = t
        self._activate(p, t)
        return t

    def hold(self, p: Party) -> int:
        t = self._pev(p, "Held")
        p.holds.append([t, None])
        return t

    def retrieve(self, p: Party) -> int:
        t = self._pev(p, "Retrieved")
        p.holds[-1][1] = t
        return t

    def release(self, p: Party, cause: str) -> int:
        t = self._ev(
            p.call, "Released", p, {"call_id": p.call.call_id, "party_id": p.party_id, "cause": cause}
        )
        p.released = t
        p.cause = cause
        if p.active:
            p.active = False
            if p.agent is not None:
                p.agent.active -= 1
        return t

    def end_call(self, call: Call) -> None:
        if call.anomaly_release:
            bogus = self.ids.party()
            t = self._ev(
                call, "Released", None, {"call_id": call.call_id, "party_id": bogus, "cause": "Normal"}
            )
            self._note_anomaly("released_unknown_party", call, bogus, t, "Released")
        if call.call_type != "Consult" and self.rng.random() < self.cfg.lost_call_ended_share:
            call.lost_end = True
        else:
            call.ended = self._ev(call, "CallEnded", None, {"call_id": call.call_id})
        if call.on_end is not None:
            call.on_end(call)

    def _note_anomaly(self, kind: str, call: Call, party_id: str, t: int, type_: str) -> None:
        self.anomalies.append(
            {
                "kind": kind,
                "type": type_,
                "call_id": call.call_id,
                "thread_id": call.thread.thread_id,
                "party_id": party_id,
                "ts": t,
            }
        )

    def user_data(self, call: Call, data: dict[str, Any]) -> None:
        t = self._ev(call, "UserDataChanged", None, {"call_id": call.call_id, "user_data": data})
        call.user_data_log.append((t, dict(data)))

    # ------------------------------------------------------------------ inbound
    def _pick_queue(self) -> str:
        x = self.arr.random()
        for q, c in zip(self.cfg.voice_queues, self._cum, strict=True):
            if x < c:
                return q
        return self.cfg.voice_queues[-1]

    def _inbound(self) -> None:
        q = self._pick_queue()
        ani = f"+1555{self.arr.randrange(10**7):07d}"
        ud = {
            "segment": self.arr.choice(("gold", "silver", "bronze")),
            "lang": "es" if self.arr.random() < 0.2 else "en",
        }
        call = self.new_call("Inbound", None, ani, self.dnis[q], ud)
        call.vq = q
        call.customer = self.add_party(call, ani, "External", None, "New", None)
        rp = self.add_party(call, self.rp[q], "RoutingPoint", None, "New", None)
        stay = max(200, min(3000, int(self.rng.expovariate(1.0 / self.cfg.rp_mean_ms))))
        if self.rng.random() < self.cfg.ivr_share:
            self.loop.at(rp.added + stay, self._to_ivr, call, rp)
        else:
            self.loop.at(rp.added + stay, self._rp_to_queue, call, rp)

    def _routed_from(self, rp: Party) -> str:
        """Party id of the party a routing point sends the call to; with ``omit_routed_initiator``
        the routing point's ``Diverted`` names it, 1 ms before its ``PartyAdded``."""
        pid = self.ids.party()
        if self.cfg.omit_routed_initiator:
            call = rp.call
            t = max(call.t + 1, self.loop.now - 1)
            call.t = t
            payload = {"call_id": call.call_id, "party_id": rp.party_id, "target_party_id": pid}
            self.em.emit(t, VOICE_CALL, call.call_id, "Diverted", payload)
        return pid

    def _rp_to_queue(self, call: Call, rp: Party) -> None:
        assert call.vq is not None
        qp = self.add_party(call, call.vq, "Queue", None, "Route", rp, party_id=self._routed_from(rp))
        self.release(rp, "Normal")
        self._enqueue(call, qp)

    def _to_ivr(self, call: Call, rp: Party) -> None:
        ivr = self.add_party(call, self.cfg.ivr_dn, "IVR", None, "Route", rp, party_id=self._routed_from(rp))
        self.release(rp, "Normal")
        self.establish(ivr)
        dur = self._lognormal_ms(self.cfg.ivr_mean_s, 0.5)
        if self.rng.random() < self.cfg.ivr_self_service_share:
            self.loop.after(dur, self._ivr_done, call, ivr)
        else:
            self.loop.after(dur, self._ivr_to_queue, call, ivr)

    def _ivr_done(self, call: Call, ivr: Party) -> None:
        assert call.customer is not None
        self.release(call.customer, "Normal")
        self.release(ivr, "Normal")
        self.end_call(call)

    def _ivr_to_queue(self, call: Call, ivr: Party) -> None:
        assert call.vq is not None
        qp = self.add_party(call, call.vq, "Queue", None, "Transfer", ivr)
        self.release(ivr, "Transferred")
        self._enqueue(call, qp)

    def _patience_ms(self) -> int:
        cfg = self.cfg
        thr = int(cfg.short_abandon_threshold_s * 1000)
        if self.rng.random() < cfg.short_abandon_share:
            return self.rng.randint(1000, max(1001, thr - 600))
        x = int(self.rng.expovariate(1.0 / (cfg.patience_mean_s * 1000)))
        if x <= thr + 600:
            x = thr + 600 + x  # patient callers never hang up around the short-abandon threshold
        return x

    def _enqueue(self, call: Call, qp: Party) -> None:
        q = qp.dn
        t = self._ev(call, "Queued", qp, {"call_id": call.call_id, "party_id": qp.party_id, "queue": q})
        qp.queue = q
        qp.queued = t
        call.vq = q
        if self.rng.random() < 0.2:
            self.user_data(call, {"vq": q})
        self.loop.at(t + self._patience_ms(), self._abandon_in_queue, qp)
        if self.rng.random() < self.cfg.clear_share:
            # routing finds no target for this call (e.g. no agent group may take it) and clears it
            qp.waiting = True
            self.loop.at(t + self.rng.randint(5, 60) * MS_PER_S, self._clear, qp)
            return
        self.sim.router.enqueue(qp)
        self.loop.at(t + int(self.cfg.queue_timeout_s * 1000), self._clear, qp)
        delay = self.rng.randint(50, max(51, self.cfg.routing_delay_max_ms))
        self.loop.at(t + delay, self.sim.router.try_route, qp)

    def _abandon_in_queue(self, qp: Party) -> None:
        if not qp.waiting:
            return
        self.sim.router.remove(qp)
        call = qp.call
        assert call.customer is not None
        self.release(call.customer, "Normal")
        self.release(qp, "Abandoned")
        qp.result = "Abandoned"
        self.end_call(call)

    def _clear(self, qp: Party) -> None:
        if not qp.waiting:
            return
        self.sim.router.remove(qp)
        call = qp.call
        self.release(qp, "Normal")
        qp.result = "Cleared"
        assert call.customer is not None
        self.release(call.customer, "Normal")
        self.end_call(call)

    def deliver(self, qp: Party, agent: Agent) -> None:
        """Routing found ``agent`` for the waiting queue party ``qp``."""
        self.sim.router.remove(qp)
        call = qp.call
        pid = self.ids.party()
        qp.diverted = self._ev(
            call, "Diverted", qp, {"call_id": call.call_id, "party_id": qp.party_id, "target_party_id": pid}
        )
        qp.result = "Diverted"
        ap = self.add_party(call, agent.dn, "Extension", agent, "Route", qp, party_id=pid)
        qp.target = ap
        self.release(qp, "Normal")
        self._offer(call, ap)

    def _offer(self, call: Call, ap: Party) -> None:
        cfg = self.cfg
        t = self.ringing(ap)
        timeout = int(cfg.ring_timeout_s * 1000)
        x = self.rng.random()
        c1 = cfg.ring_abandon_share if call.abandon_ok else 0.0
        c2 = c1 + cfg.rona_share
        c3 = c2 + cfg.redirect_share
        c4 = c3 + cfg.reject_share
        if x < c1:
            self.loop.at(
                t + self.rng.randint(1000, max(1001, min(timeout - 1000, 12000))), self._ring_abandon, ap
            )
        elif x < c2:
            self.loop.at(t + timeout, self._rona, ap)
        elif x < c3:
            self.loop.at(
                t + self.rng.randint(2000, max(2001, timeout - 2000)), self._ring_end, ap, "Redirected"
            )
        elif x < c4:
            self.loop.at(t + self.rng.randint(1000, 4000), self._ring_end, ap, "Rejected")
        else:
            ring = min(self._lognormal_ms(cfg.ring_mean_s, 0.5, 500), timeout - 500)
            self.loop.at(t + ring, self._answer, ap)

    def _ring_abandon(self, ap: Party) -> None:
        call = ap.call
        assert call.customer is not None and ap.agent is not None
        self.release(call.customer, "Normal")
        self.release(ap, "Abandoned")
        self.end_call(call)
        self.sim.agents.after_voice(ap.agent, acw_ok=False)

    def _rona(self, ap: Party) -> None:
        assert ap.agent is not None
        self.release(ap, "NoAnswer")
        self.sim.agents.rona(ap.agent)
        self._requeue(ap.call)

    def _ring_end(self, ap: Party, cause: str) -> None:
        assert ap.agent is not None
        self.release(ap, cause)
        self.sim.agents.after_voice(ap.agent, acw_ok=False)
        self._requeue(ap.call)

    def _requeue(self, call: Call) -> None:
        assert call.vq is not None
        qp = self.add_party(call, call.vq, "Queue", None, "Route", None)
        self._enqueue(call, qp)

    def _answer(self, ap: Party) -> None:
        call = ap.call
        self.establish(ap)
        if call.call_type == "Inbound":
            self._answered += 1
            if self._anomaly_n < self.cfg.anomalies and self._answered % 5 == 2:
                if self._anomaly_n % 2 == 0:
                    t = self._pev(ap, "Retrieved")
                    self._note_anomaly("retrieved_without_held", call, ap.party_id, t, "Retrieved")
                else:
                    call.anomaly_release = True
                self._anomaly_n += 1
        if call.call_type in ("Inbound", "Outbound") and self.udrng.random() < self.cfg.talk_user_data_share:
            self.loop.after(self.udrng.randint(2000, 20000), self._talk_user_data, call)
        self.talk(call, ap, allow_transfer=call.call_type == "Inbound" and ap.reason == "Route")

    # ------------------------------------------------------------------ user data set by agents
    DISPOSITIONS = ("resolved", "sale", "no-sale", "escalated", "follow-up-required-today")

    def _talk_user_data(self, call: Call) -> None:
        """The agent sets a first disposition while the call is still up (skipped once it ended)."""
        if call.ended is not None or call.lost_end:
            return
        data: dict[str, Any] = {"disposition": self.udrng.choice(("pending", "callback"))}
        if self.udrng.random() < 0.3:
            data["note"] = self._note()
        self.user_data(call, data)

    def acw_user_data(self, call: Call, agent: Agent, gen: int) -> None:
        """The agent, still in the after-call work of its party on `call`, sets the final
        disposition (usually after the call ended: a change only the PARTY rule keeps)."""
        if agent.gen != gen or agent.raw != "ACW":
            return
        data: dict[str, Any] = {"disposition": self.udrng.choice(self.DISPOSITIONS)}
        if self.udrng.random() < 0.3:
            data["note"] = self._note()
        self.user_data(call, data)

    def _note(self) -> str:
        words = ("customer", "asked", "about", "the", "invoice", "and", "a", "refund", "callback", "tomorrow")
        return " ".join(self.udrng.choice(words) for _ in range(self.udrng.randint(2, 12)))

    # ------------------------------------------------------------------ talk scripts
    def talk(self, call: Call, ap: Party, allow_transfer: bool, scale: float = 1.0) -> None:
        """Run a talk script for the handling party ``ap``: talk, holds, then end/transfer/consult."""
        cfg = self.cfg
        rng = self.rng
        total = self._lognormal_ms(cfg.talk_mean_s * scale, cfg.talk_sigma, 3000)
        action = "end"
        if allow_transfer:
            x = rng.random()
            if x < cfg.blind_transfer_share:
                action = "blind"
            elif x < cfg.blind_transfer_share + cfg.consult_share:
                action = "consult"
        holds = 0
        if rng.random() < cfg.hold_share:
            holds = 1 if rng.random() < 0.7 else 2
        steps: list[tuple[Any, ...]] = []
        cuts = sorted(rng.random() for _ in range(holds))
        prev = 0.0
        for c in cuts:
            steps.append(("talk", max(500, int(total * (c - prev)))))
            prev = c
            dur = self._lognormal_ms(cfg.hold_mean_s, 0.6, 2000)
            ab = call.abandon_ok and rng.random() < cfg.hold_abandon_share
            steps.append(("hold", dur, ab))
        steps.append(("talk", max(500, int(total * (1.0 - prev)))))
        steps.append((action,))
        self._step(call, ap, steps, 0)

    def _step(self, call: Call, ap: Party, steps: list[tuple[Any, ...]], i: int) -> None:
        if ap.released is not None or (call.customer is not None and call.customer.released is not None):
            return
        st = steps[i]
        kind = st[0]
        if kind == "talk":
            self.loop.after(st[1], self._step, call, ap, steps, i + 1)
        elif kind == "hold":
            t = self.hold(ap)
            if st[2]:
                self.loop.at(t + self.rng.randint(1000, max(1001, st[1] - 1)), self._hold_abandon, ap)
            else:
                self.loop.at(t + st[1], self._unhold, call, ap, steps, i + 1)
        elif kind == "end":
            self.finish(call)
        elif kind == "blind":
            self._blind(call, ap)
        else:
            self._consult(call, ap)

    def _unhold(self, call: Call, ap: Party, steps: list[tuple[Any, ...]], i: int) -> None:
        if ap.released is not None:
            return
        self.retrieve(ap)
        self._step(call, ap, steps, i)

    def _hold_abandon(self, ap: Party) -> None:
        call = ap.call
        if ap.released is not None or call.customer is None or call.customer.released is not None:
            return
        self.release(call.customer, "Normal")
        agents = []
        for p in [ap] + [p for p in call.parties if p is not ap]:
            if p.released is None and p.dn_type in ("Extension", "IVR") and p is not call.customer:
                self.release(p, "Normal")
                if p.agent is not None:
                    agents.append(p.agent)
        self.end_call(call)
        for a in agents:
            self.sim.agents.after_voice(a, acw_ok=call.acw_ok)

    def finish(self, call: Call) -> None:
        """Normal end: every remaining party hangs up, the call ends."""
        rest = [p for p in call.parties if p.released is None and p is not call.customer]
        cust = call.customer if call.customer is not None and call.customer.released is None else None
        customer_first = self.rng.random() < 0.5
        if cust is not None and customer_first:
            self.release(cust, "Normal")
        for p in rest:
            self.release(p, "Normal")
        if cust is not None and not customer_first:
            self.release(cust, "Normal")
        self.end_call(call)
        for p in rest:
            if p.agent is not None:
                self.sim.agents.after_voice(p.agent, acw_ok=call.acw_ok)

    # ------------------------------------------------------------------ transfers, consultation
    def _other_queue(self, q: str | None) -> str:
        qs = [x for x in self.cfg.voice_queues if x != q] or list(self.cfg.voice_queues)
        return self.rng.choice(qs)

    def _blind(self, call: Call, ap: Party) -> None:
        a = ap.agent
        assert a is not None
        b = None
        if self.rng.random() >= self.cfg.transfer_to_queue_share:
            b = self.sim.router.any_agent(exclude=a)
        if b is None:
            q2 = self._other_queue(call.vq)
            qp = self.add_party(call, q2, "Queue", None, "Transfer", ap)
            self.release(ap, "Transferred")
            self._enqueue(call, qp)
        else:
            bp = self.add_party(call, b.dn, "Extension", b, "Transfer", ap)
            self.release(ap, "Transferred")
            self._offer(call, bp)
        self.sim.agents.after_voice(a, acw_ok=True)

    def _consult(self, call: Call, ap: Party) -> None:
        a = ap.agent
        assert a is not None
        b = self.sim.router.any_agent(exclude=a)
        if b is None:
            self.finish(call)
            return
        self.hold(ap)
        c2 = self.new_call("Consult", call.thread, a.dn, b.dn, {})
        c2.acw_ok = False
        ac = self.add_party(c2, a.dn, "Extension", a, "New", None)
        self.dialing(ac)
        bc = self.add_party(c2, b.dn, "Extension", b, "Consult", ac)
        t = self.ringing(bc)
        ap.cons_init += 1
        ring = min(
            self._lognormal_ms(self.cfg.ring_mean_s, 0.5, 500), int(self.cfg.ring_timeout_s * 1000) - 500
        )
        self.loop.at(t + ring, self._consult_answered, call, ap, c2, ac, bc)

    def _consult_answered(self, call: Call, ap: Party, c2: Call, ac: Party, bc: Party) -> None:
        self.establish(bc)
        t = self.establish(ac)
        self.loop.at(t + self._lognormal_ms(60, 0.6, 5000), self._consult_outcome, call, ap, c2, ac, bc)

    def _consult_outcome(self, call: Call, ap: Party, c2: Call, ac: Party, bc: Party) -> None:
        cfg = self.cfg
        a, b = ap.agent, bc.agent
        assert a is not None and b is not None
        x = self.rng.random()
        if x < cfg.consult_transfer_share:
            bo = self.add_party(call, b.dn, "Extension", b, "Transfer", ap)
            self.establish(bo)
            self.release(ac, "Normal")
            self.release(bc, "Normal")
            self.end_call(c2)
            self.release(ap, "Transferred")
            self.sim.agents.after_voice(a, acw_ok=True)
            self.talk(call, bo, allow_transfer=False, scale=0.6)
        elif x < cfg.consult_transfer_share + cfg.conference_share:
            bo = self.add_party(call, b.dn, "Extension", b, "Conference", ap)
            self.establish(bo)
            self.release(ac, "Normal")
            self.release(bc, "Normal")
            self.end_call(c2)
            self.retrieve(ap)
            if self.rng.random() < cfg.conference_leave_share:
                self.loop.after(self.rng.randint(10, 90) * MS_PER_S, self._conference_leave, ap)
            self.talk(call, bo, allow_transfer=False, scale=0.6)
        else:
            self.release(bc, "Normal")
            self.release(ac, "Normal")
            self.end_call(c2)
            self.retrieve(ap)
            self.sim.agents.after_voice(b, acw_ok=False)
            self.talk(call, ap, allow_transfer=False, scale=0.4)

    def _conference_leave(self, ap: Party) -> None:
        call = ap.call
        if ap.released is not None or (call.customer is not None and call.customer.released is not None):
            return
        if ap.holds and ap.holds[-1][1] is None:
            return
        self.release(ap, "Conferenced")
        assert ap.agent is not None
        self.sim.agents.after_voice(ap.agent, acw_ok=True)

    # ------------------------------------------------------------------ internal and manual outbound
    def _internal(self, a: Agent, b: Agent) -> None:
        call = self.new_call("Internal", None, a.dn, b.dn, {})
        call.acw_ok = False
        pa = self.add_party(call, a.dn, "Extension", a, "New", None)
        self.dialing(pa)
        pb = self.add_party(call, b.dn, "Extension", b, "New", pa)
        t = self.ringing(pb)
        ring = min(
            self._lognormal_ms(self.cfg.ring_mean_s, 0.5, 500), int(self.cfg.ring_timeout_s * 1000) - 500
        )
        self.loop.at(t + ring, self._internal_answered, call, pa, pb)

    def _internal_answered(self, call: Call, pa: Party, pb: Party) -> None:
        self.establish(pb)
        t = self.establish(pa)
        self.loop.at(t + self._lognormal_ms(90, 0.6, 3000), self.finish, call)

    def _manual_outbound(self, a: Agent) -> None:
        number = f"+1555{self.arr.randrange(10**7):07d}"
        call = self.new_call("Outbound", None, a.dn, number, {"manual": True})
        pa = self.add_party(call, a.dn, "Extension", a, "New", None)
        self.dialing(pa)
        cust = self.add_party(call, number, "External", None, "New", pa)
        call.customer = cust
        t = self.ringing(cust)
        self.loop.at(t + self.rng.randint(3, 15) * MS_PER_S, self._manual_answered, call, pa)

    def _manual_answered(self, call: Call, pa: Party) -> None:
        assert call.customer is not None
        self.establish(call.customer)
        self.establish(pa)
        self.talk(call, pa, allow_transfer=False, scale=0.7)
