"""Outbound campaigns (topic ``voice-outbound``) and their calls on ``voice-callthread``.

Conventions:

* Each campaign runs from ``CampaignGroupStarted`` (30 min after the start, or 5 % of the run if
  shorter) to ``CampaignGroupStopped`` (as long before the horizon); ``group`` is ``AG_Outbound``.
* A dial: ``RecordDialed`` (with the new ``call_id``), then ``CallCreated`` (call_type
  ``Outbound``, ani = the campaign's caller id, dnis = the contact, user_data with campaign,
  record and chain), then the customer ``External`` party (reason ``New``, no initiator).
  There is no dialer party.
* Dial results and the customer party's events:
    Busy: customer ``Released(Busy)``;  SIT: ``Released(Rejected)``;
    NoAnswer: ``Ringing``, ``Released(NoAnswer)`` after 25-30 s;
    AnsweringMachine / Fax / Dropped: ``Ringing``, ``Established``, ``Released(Normal)``;
    Abandoned: answered but no agent was free (predictive) -- ``Ringing``, ``Established``,
      ``Released(Normal)`` by the dialer;
    Answered: ``Ringing``, ``Established``, then the agent party joins: ``PartyAdded``
      (Extension, reason ``Route``, initiator null) -> ``Ringing`` (0.3-1.5 s) -> ``Established``;
      RESOURCE_ROLE of that party is therefore Received. Then a talk with optional holds, then
      both released ``Normal``, ``CallEnded``.
  ``DialResult`` is emitted when the result is known (before the customer's release).
* Progressive campaigns reserve a free agent of the group before dialing (the agent is not
  offered inbound calls meanwhile); predictive ones dial without a reservation and need a free
  agent at answer time, else the result is Abandoned.
* Busy, NoAnswer, AnsweringMachine, Dropped and Abandoned are retried after ``retry_delay_s`` up to
  ``max_attempts`` (same record_id, attempt + 1). A record ends with ``RecordCompleted``:
  disposition Sale/NoSale/Callback after an answered call (emitted after its ``CallEnded``),
  WrongNumber after Fax/SIT, Unreached otherwise (also for records still waiting when the campaign
  stops). A chain has one or two records (two numbers of one customer): the second is dialed when
  the first ends unreached.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .emitter import OUTBOUND
from .model import Agent, Attempt, Call, Party, Record
from .timefmt import MS_PER_HOUR, MS_PER_MIN, MS_PER_S

if TYPE_CHECKING:
    from .simulation import Simulation

RETRYABLE = frozenset({"Busy", "NoAnswer", "AnsweringMachine", "Dropped", "Abandoned"})
CALLER_ID = "+18005550199"


class Campaign:
    __slots__ = ("active", "mode", "name", "retries", "started", "stop_at", "stopped", "t")

    def __init__(self, name: str, mode: str) -> None:
        self.name = name
        self.mode = mode
        self.active = False
        self.t = 0
        self.retries: list[Record] = []  # records due for another attempt, oldest first
        self.stop_at = 0
        self.started: int | None = None  # CampaignGroupStarted / Stopped, for the ledger
        self.stopped: int | None = None


class OutboundModel:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.cfg = sim.cfg
        self.loop = sim.loop
        self.em = sim.em
        self.rng = sim.rng("outbound")
        self.campaigns = [Campaign(n, m) for n, m in self.cfg.campaigns]
        self.records: list[Record] = []
        self._due: list[tuple[int, Record]] = []
        names = [r for r, _ in self.cfg.dial_result_weights]
        w = [x for _, x in self.cfg.dial_result_weights]
        self._results = (names, w)

    def start(self) -> None:
        span = self.sim.horizon_ms - self.sim.start_ms
        lead = min(30 * MS_PER_MIN, span // 20)
        for c in self.campaigns:
            c.stop_at = self.sim.horizon_ms - lead
            self.loop.at(self.sim.start_ms + lead, self._camp_start, c)
            self.loop.at(c.stop_at, self._camp_stop, c)

    @property
    def rate(self) -> float:
        return self.cfg.per_agent(self.cfg.dials_per_hour, 1.0)

    def _ev(self, obj: Campaign | Record, campaign: str, type_: str, payload: dict[str, Any]) -> int:
        t = obj.t + 1
        if t < self.loop.now:
            t = self.loop.now
        obj.t = t
        self.em.emit(t, OUTBOUND, campaign, type_, payload)
        return t

    def _camp_start(self, c: Campaign) -> None:
        c.started = self._ev(
            c,
            c.name,
            "CampaignGroupStarted",
            {"campaign_id": c.name, "group": "AG_Outbound", "dialing_mode": c.mode},
        )
        c.active = True
        self.loop.after(self._gap(), self._tick, c)

    def _camp_stop(self, c: Campaign) -> None:
        c.stopped = self._ev(
            c,
            c.name,
            "CampaignGroupStopped",
            {"campaign_id": c.name, "group": "AG_Outbound", "dialing_mode": c.mode},
        )
        c.active = False
        for rec in c.retries:
            self._complete(rec, "Unreached")
        c.retries.clear()

    def _gap(self) -> int:
        return max(1, int(self.rng.expovariate(self.rate / MS_PER_HOUR)))

    def _tick(self, c: Campaign) -> None:
        if not c.active:
            return
        self.loop.after(self._gap(), self._tick, c)
        now = self.loop.now
        rec: Record | None = None
        if c.retries and c.retries[0].t <= now:
            rec = c.retries[0]
        agent = None
        if c.mode == "Progressive":
            agent = self.sim.router.any_agent(outbound_only=True)
            if agent is None:
                return
        if rec is not None:
            c.retries.pop(0)
        else:
            rec = self._new_record(c)
        self._dial(c, rec, agent)

    def _new_record(self, c: Campaign, chain_id: str | None = None) -> Record:
        ids = self.sim.ids
        rec = Record(ids.record(), chain_id or ids.chain(), c.name, f"+1555{self.rng.randrange(10**7):07d}")
        self.records.append(rec)
        if chain_id is None and self.rng.random() < 0.2:
            rec.next_in_chain = Record(
                ids.record(), rec.chain_id, c.name, f"+1555{self.rng.randrange(10**7):07d}"
            )
        return rec

    def _dial(self, c: Campaign, rec: Record, agent: Agent | None) -> None:
        voice = self.sim.voice
        if agent is not None:
            agent.reserved = True
            self.sim.agents.refresh(agent)
        call_id = self.sim.ids.call()
        att = Attempt(len(rec.attempts) + 1, call_id, 0)
        rec.attempts.append(att)
        att.dialed = self._ev(
            rec,
            c.name,
            "RecordDialed",
            {
                "campaign_id": c.name,
                "record_id": rec.record_id,
                "chain_id": rec.chain_id,
                "attempt": att.attempt,
                "contact": rec.contact,
                "call_id": call_id,
            },
        )
        ud = {"campaign_id": c.name, "record_id": rec.record_id, "chain_id": rec.chain_id}
        call = voice.new_call("Outbound", None, CALLER_ID, rec.contact, ud, call_id=call_id)
        cust = voice.add_party(call, rec.contact, "External", None, "New", None)
        call.customer = cust
        names, w = self._results
        result = self.rng.choices(names, w)[0]
        if result == "Abandoned" and c.mode == "Progressive":
            result = "Answered"
        rng = self.rng
        if result == "Busy":
            self.loop.after(
                rng.randint(1, 4) * MS_PER_S, self._fail, c, rec, att, call, agent, result, "Busy"
            )
        elif result == "SIT":
            self.loop.after(
                rng.randint(1, 3) * MS_PER_S, self._fail, c, rec, att, call, agent, result, "Rejected"
            )
        else:
            voice.ringing(cust)
            if result == "NoAnswer":
                self.loop.after(
                    rng.randint(25, 30) * MS_PER_S, self._fail, c, rec, att, call, agent, result, "NoAnswer"
                )
            else:
                self.loop.after(
                    rng.randint(4, 20) * MS_PER_S, self._answered, c, rec, att, call, agent, result
                )

    def _result(self, c: Campaign, rec: Record, att: Attempt, result: str) -> None:
        att.result = result
        att.result_ts = self._ev(
            rec,
            c.name,
            "DialResult",
            {"campaign_id": c.name, "record_id": rec.record_id, "call_id": att.call_id, "result": result},
        )

    def _unreserve(self, agent: Agent | None) -> None:
        if agent is not None:
            agent.reserved = False
            self.sim.agents.after_voice(agent, acw_ok=False)

    def _fail(
        self, c: Campaign, rec: Record, att: Attempt, call: Call, agent: Agent | None, result: str, cause: str
    ) -> None:
        assert call.customer is not None
        self._result(c, rec, att, result)
        self.sim.voice.release(call.customer, cause)
        self.sim.voice.end_call(call)
        self._unreserve(agent)
        self._attempt_done(c, rec, result)

    def _answered(
        self, c: Campaign, rec: Record, att: Attempt, call: Call, agent: Agent | None, result: str
    ) -> None:
        voice = self.sim.voice
        cust = call.customer
        assert cust is not None
        voice.establish(cust)
        if result == "Answered" and agent is None:
            agent = self.sim.router.any_agent(outbound_only=True)
            if agent is None:
                result = "Abandoned"
        if result != "Answered":
            self._result(c, rec, att, result)
            hang = self.rng.randint(300, 1500) if result == "Dropped" else self.rng.randint(1, 6) * MS_PER_S
            self.loop.after(hang, self._hang_up, c, rec, call, result)
            self._unreserve(agent)
            return
        assert agent is not None
        self._result(c, rec, att, result)
        agent.reserved = False
        ap = voice.add_party(call, agent.dn, "Extension", agent, "Route", None)
        rec.agent_party = ap
        t = voice.ringing(ap)
        call.on_end = lambda _call: self._complete(rec, self.rng.choice(("Sale", "NoSale", "Callback")))
        self.loop.at(t + self.rng.randint(300, 1500), self._connect, call, ap)

    def _connect(self, call: Call, ap: Party) -> None:
        self.sim.voice.establish(ap)
        self.sim.voice.talk(call, ap, allow_transfer=False, scale=0.8)

    def _hang_up(self, c: Campaign, rec: Record, call: Call, result: str) -> None:
        assert call.customer is not None
        self.sim.voice.release(call.customer, "Normal")
        self.sim.voice.end_call(call)
        self._attempt_done(c, rec, result)

    def _attempt_done(self, c: Campaign, rec: Record, result: str) -> None:
        now = self.loop.now
        if result in RETRYABLE and len(rec.attempts) < self.cfg.max_attempts and c.active:
            due = now + int(self.cfg.retry_delay_s * 1000)
            if due < c.stop_at:
                rec.t = max(rec.t, due - 1)
                c.retries.append(rec)
                c.retries.sort(key=lambda r: (r.t, r.record_id))
                return
        self._complete(rec, "WrongNumber" if result in ("Fax", "SIT") else "Unreached")

    def _complete(self, rec: Record, disposition: str) -> None:
        rec.disposition = disposition
        rec.completed = self._ev(
            rec,
            rec.campaign,
            "RecordCompleted",
            {"campaign_id": rec.campaign, "record_id": rec.record_id, "disposition": disposition},
        )
        nxt = rec.next_in_chain
        if disposition == "Unreached" and nxt is not None:
            c = next(x for x in self.campaigns if x.name == rec.campaign)
            if c.active:
                self.records.append(nxt)
                nxt.t = self.loop.now
                c.retries.append(nxt)
                c.retries.sort(key=lambda r: (r.t, r.record_id))
