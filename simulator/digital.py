"""Digital interactions: chats and emails (topic ``digital-itx``).

Conventions:

* ``InteractionCreated`` (direction ``Inbound``) then ``Queued`` (first queue of the media).
* An offer: ``Offered`` -> ``Accepted`` (2-10 s later), or ``Rejected`` (2-8 s), or
  ``OfferTimedOut`` (after ``offer_timeout_s``). After a reject or a timeout the interaction is
  still in its queue: no new ``Queued``; routing offers it to another agent (never twice to the
  same agent).
* Handling ends with ``AgentReleased`` then ``Completed(Resolved)``, or with a transfer:
  ``Transferred(agent_id, to_queue)`` followed by ``Queued(to_queue)``, or
  ``Transferred(agent_id, to_agent_id)`` followed by ``Offered`` to that agent (if that offer is
  rejected or times out, the interaction goes back to its last queue with a new ``Queued``).
  The transferring agent gets no ``AgentReleased``: its part ends at ``Transferred``.
* ``Completed`` reasons: ``Abandoned`` (a chat customer left while queued), ``Cancelled`` and
  ``Expired`` (emails withdrawn, or waiting ``email_expire_s``, while queued), ``Resolved``.
* Ledger: queue time = sum over ``Queued`` events of (Queued -> the next ``Accepted`` or
  ``Completed``), offers included; handle time = sum of (Accepted -> AgentReleased/Transferred).
  Agent Busy on a media = at least one interaction of that media offered to or accepted by the
  agent (Offered -> Rejected/OfferTimedOut/Transferred/AgentReleased).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

from .emitter import DIGITAL_ITX
from .model import Agent, Itx, Offer
from .timefmt import MS_PER_HOUR, MS_PER_S

if TYPE_CHECKING:
    from .simulation import Simulation


class DigitalModel:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.cfg = sim.cfg
        self.loop = sim.loop
        self.em = sim.em
        self.rng = sim.rng("digital")
        self.itxs: list[Itx] = []
        self.queues = {"chat": self.cfg.chat_queues, "email": self.cfg.email_queues}
        self.waiting: dict[str, deque[Itx]] = {q: deque() for qs in self.queues.values() for q in qs}
        self.agents: dict[str, list[Agent]] = {
            m: [a for a in sim.agents.agents if m in a.media] for m in ("chat", "email")
        }

    def start(self) -> None:
        cfg = self.cfg
        for media, rate in (
            ("chat", cfg.per_agent(cfg.chats_per_hour, 1.5)),
            ("email", cfg.per_agent(cfg.emails_per_hour, 0.6)),
        ):
            if rate > 0 and self.agents[media] and self.queues[media]:
                self.loop.at(self.sim.start_ms + self._gap(rate), self._arrival, media, rate)

    def _gap(self, rate: float) -> int:
        return max(1, int(self.rng.expovariate(rate / MS_PER_HOUR)))

    def _lognormal_ms(self, mean_s: float, sigma: float = 0.6) -> int:
        mu = math.log(mean_s * 1000) - sigma * sigma / 2
        return max(5000, int(self.rng.lognormvariate(mu, sigma)))

    def _ev(self, itx: Itx, agent: Agent | None, type_: str, payload: dict[str, Any]) -> int:
        t = itx.t + 1
        if t < self.loop.now:
            t = self.loop.now
        if agent is not None:
            if agent.t >= t:
                t = agent.t + 1
            agent.t = t
        itx.t = t
        self.em.emit(t, DIGITAL_ITX, itx.itx_id, type_, payload)
        return t

    # ------------------------------------------------------------------ arrivals
    def _arrival(self, media: str, rate: float) -> None:
        if not self.sim.accepting():
            return
        self.loop.after(self._gap(rate), self._arrival, media, rate)
        rng = self.rng
        now = self.loop.now
        q0 = self.queues[media][0]
        itx = Itx(self.sim.ids.itx(), media, f"cust{rng.randrange(10**7):07d}", now, now - 1, q0)
        itx.user_data = {"subject": rng.choice(("order", "invoice", "account", "other"))}
        itx.created = self._ev(
            itx,
            None,
            "InteractionCreated",
            {
                "itx_id": itx.itx_id,
                "media_type": media,
                "direction": "Inbound",
                "customer_id": itx.customer_id,
                "user_data": itx.user_data,
            },
        )
        self.itxs.append(itx)
        self._queue(itx, q0)
        if media == "email":
            if rng.random() < self.cfg.email_cancel_share:
                self.loop.at(
                    itx.created + rng.randint(60, 900) * MS_PER_S, self._give_up, itx, "Cancelled", 0
                )
            self.loop.at(itx.created + int(self.cfg.email_expire_s * 1000), self._give_up, itx, "Expired", 0)

    def _queue(self, itx: Itx, q: str) -> None:
        t = self._ev(itx, None, "Queued", {"itx_id": itx.itx_id, "queue": q})
        itx.queue = q
        itx.state = "queued"
        itx.patience_expired = None
        itx.stays.append([q, t, None])
        self.waiting[q].append(itx)
        self.loop.at(t + self.rng.randint(200, 2000), self.pump, itx.media)
        if itx.media == "chat":  # a chat customer's patience, per stay in a queue
            patience = max(5000, int(self.rng.expovariate(1.0 / (self.cfg.chat_patience_mean_s * 1000))))
            self.loop.at(t + patience, self._give_up, itx, "Abandoned", len(itx.stays))

    def _give_up(self, itx: Itx, reason: str, stay: int) -> None:
        if stay and stay != len(itx.stays):
            return
        if itx.state == "queued":
            self._complete(itx, reason)
        elif itx.state == "offered" and itx.patience_expired is None:
            itx.patience_expired = reason

    def _complete(self, itx: Itx, reason: str) -> None:
        t = self._ev(itx, None, "Completed", {"itx_id": itx.itx_id, "reason": reason})
        if itx.stays and itx.stays[-1][2] is None:
            itx.stays[-1][2] = t
        itx.completed = t
        itx.reason = reason
        itx.state = "done"

    # ------------------------------------------------------------------ routing
    def _best(self, media: str, itx: Itx) -> Agent | None:
        best: Agent | None = None
        key: tuple[int, int, int] | None = None
        for a in self.agents[media]:
            ms = a.media[media]
            if not ms.logged_in or ms.raw != "Ready" or ms.pending_logout or ms.load >= ms.capacity:
                continue
            if a.agent_id in itx.tried:
                continue
            k = (ms.load, ms.idle_since, a.idx)
            if key is None or k < key:
                best, key = a, k
        return best

    def pump(self, media: str) -> None:
        """Offer waiting interactions of ``media`` to free agents, oldest first."""
        for q in self.queues[media]:
            dq = self.waiting[q]
            keep: deque[Itx] = deque()
            while dq:
                itx = dq.popleft()
                if itx.state != "queued" or itx.queue != q:
                    continue
                a = self._best(media, itx)
                if a is None:
                    keep.append(itx)
                    continue
                self._offer(itx, a)
            self.waiting[q] = keep

    def _offer(self, itx: Itx, a: Agent) -> None:
        t = self._ev(itx, a, "Offered", {"itx_id": itx.itx_id, "agent_id": a.agent_id})
        off = Offer(itx, a, t)
        itx.offers.append(off)
        itx.tried.add(a.agent_id)
        itx.state = "offered"
        ms = a.media[itx.media]
        ms.load += 1
        ms.offers.append(off)
        x = self.rng.random()
        if x < self.cfg.offer_reject_share:
            self.loop.at(t + self.rng.randint(2, 8) * MS_PER_S, self._refuse, off, "Rejected")
        elif x < self.cfg.offer_reject_share + self.cfg.offer_timeout_share:
            self.loop.at(t + int(self.cfg.offer_timeout_s * 1000), self._refuse, off, "OfferTimedOut")
        else:
            self.loop.at(t + self.rng.randint(2, 10) * MS_PER_S, self._accept, off)

    def _agent_done(self, off: Offer, t: int, kind: str) -> None:
        off.end = t
        off.end_kind = kind
        a = off.agent
        ms = a.media[off.itx.media]
        ms.load -= 1
        ms.idle_since = t
        if ms.load == 0:
            self.sim.agents.media_idle(a, off.itx.media)

    def _refuse(self, off: Offer, kind: str) -> None:
        itx = off.itx
        t = self._ev(itx, off.agent, kind, {"itx_id": itx.itx_id, "agent_id": off.agent.agent_id})
        off.outcome = kind
        off.outcome_ts = t
        self._agent_done(off, t, kind)
        if itx.stays and itx.stays[-1][2] is None:
            if itx.patience_expired is not None:
                self._complete(itx, itx.patience_expired)
            else:
                itx.state = "queued"
                self.waiting[itx.queue].appendleft(itx)
        else:  # a direct transfer that did not work: back to the last queue
            self._queue(itx, itx.queue)
        self.pump(itx.media)

    def _accept(self, off: Offer) -> None:
        itx = off.itx
        t = self._ev(itx, off.agent, "Accepted", {"itx_id": itx.itx_id, "agent_id": off.agent.agent_id})
        off.outcome = "Accepted"
        off.outcome_ts = t
        itx.state = "handling"
        if itx.stays and itx.stays[-1][2] is None:
            itx.stays[-1][2] = t
        mean = self.cfg.chat_mean_s if itx.media == "chat" else self.cfg.email_mean_s
        dur = self._lognormal_ms(mean)
        if itx.transfers == 0 and self.rng.random() < self.cfg.digital_transfer_share:
            self.loop.at(t + dur // 2, self._transfer, off)
        else:
            self.loop.at(t + dur, self._release, off)

    def _release(self, off: Offer) -> None:
        itx = off.itx
        t = self._ev(itx, off.agent, "AgentReleased", {"itx_id": itx.itx_id, "agent_id": off.agent.agent_id})
        self._agent_done(off, t, "AgentReleased")
        self._complete(itx, "Resolved")
        self.pump(itx.media)

    def _transfer(self, off: Offer) -> None:
        itx = off.itx
        a = off.agent
        itx.transfers += 1
        b = None
        if self.rng.random() < 0.5:
            itx.tried.discard(a.agent_id)
            b = self._best(itx.media, itx)
            if b is a:
                b = None
        if b is not None:
            t = self._ev(
                itx,
                a,
                "Transferred",
                {"itx_id": itx.itx_id, "agent_id": a.agent_id, "to_agent_id": b.agent_id},
            )
            self._agent_done(off, t, "Transferred")
            self._offer(itx, b)
        else:
            qs = self.queues[itx.media]
            q2 = qs[1] if len(qs) > 1 and itx.queue == qs[0] else qs[0]
            t = self._ev(
                itx, a, "Transferred", {"itx_id": itx.itx_id, "agent_id": a.agent_id, "to_queue": q2}
            )
            self._agent_done(off, t, "Transferred")
            self._queue(itx, q2)
        self.pump(itx.media)
