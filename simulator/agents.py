"""Agents: stable configuration, shifts, breaks, login/logout and state events (voice and digital).

Conventions (the ledger and the downstream SQL rely on them):

* Agent configuration (id ``agent0001``, extension ``70001``, place ``Place_0001``, queues,
  skills, groups, digital and outbound flags) depends only on the agent's index, never on the
  seed, so runs with the same number of agents share one configuration.
* A voice session starts with ``AgentLogin`` (raw state *LoginNR*: NotReady with no reason,
  counted as workmode ``AuxWork`` with a null reason in the reason ledger) and a few seconds later
  ``AgentReady`` (or a NotReady with a reason first).
* Routing offers calls only to agents that are Ready and idle. An agent in after-call work or
  NotReady is never rung and never dials, so after-call work always ends with a state event
  (``AgentReady``, ``AgentNotReady(AuxWork)`` or ``AgentLogout``), never with a Ringing/Dialing.
* After-call work is ``AgentNotReady(workmode=AfterCallWork, reason_code=null)`` emitted 1 ms or
  more after the agent's last party of the call is released (and only when the agent has no
  other party left). Calls to another agent (internal), consultations received and offers that
  were not answered are not followed by after-call work.
* A due break while the agent is on a call is either pressed during the call
  (``AgentNotReady(AuxWork, reason)`` while Busy: NotReady wins) or taken after the call
  (and after its after-call work).
* After a ring-no-answer the agent is set ``AgentNotReady(AuxWork, reason_code=null)`` for
  ``rona_not_ready_s``.
* Some agents log out for their first break and log in again after it (two sessions ended by
  ``logout``); some log in again at the end of their first break without logging out (the first
  session ends ``next_login``); a share never log out (session open at the horizon). Open sessions
  always start less than 11 h before the horizon, so no 12 h session timeout applies.
* Every agent event (state events on both agent-state topics and the events of the agent's call
  parties and digital offers) advances a per-agent clock by at least 1 ms: two events of one agent
  never share a ``ts``.
* Digital agents log in to ``chat`` and ``email`` shortly after their first voice login, go
  ``MediaNotReady(reason)`` during voice breaks and ``MediaReady`` after, and log out after their
  final voice logout once their last interaction on that media is released.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from .emitter import DIGITAL_AGENT, VOICE_AGENT
from .ids import agent_dn, agent_id, place_name
from .model import Agent, BreakPlan, MediaState, Session
from .timefmt import MS_PER_HOUR, MS_PER_MIN, MS_PER_S

if TYPE_CHECKING:
    from .config import SimulationConfig
    from .simulation import Simulation

FIRST_NAMES = ("Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena", "Mia")
LAST_NAMES = (
    "Alvarez",
    "Brown",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jones",
)
BREAK_MINUTES: dict[str, tuple[int, int]] = {
    "Break": (10, 15),
    "Lunch": (30, 45),
    "Meeting": (20, 40),
    "Training": (30, 60),
}


def skill_of(queue: str) -> str:
    """Skill (and agent-group suffix) that serves a virtual queue: ``VQ_Sales`` -> ``Sales``."""
    return queue[3:] if queue.startswith("VQ_") else queue


def build_agent(cfg: SimulationConfig, i: int) -> Agent:
    """The i-th agent (1-based). Depends only on i and the queue names, not on the seed."""
    r = random.Random(f"agent-config/{i}")
    nq = len(cfg.voice_queues)
    primary = cfg.voice_queues[(i - 1) % nq]
    queues = [primary]
    if nq > 1 and r.random() < 0.5:
        queues.append(cfg.voice_queues[(i - 1 + 1 + r.randrange(nq - 1)) % nq])
    digital = ("chat", "email") if r.random() < cfg.digital_agent_share else ()
    outbound = r.random() < cfg.outbound_agent_share
    skills = {skill_of(q): 1 + r.randrange(10) for q in queues}
    groups = [f"AG_{skill_of(q)}" for q in queues]
    if digital:
        skills["Chat"] = 1 + r.randrange(10)
        skills["Email"] = 1 + r.randrange(10)
        groups.append("AG_Digital")
    if outbound:
        skills["Outbound"] = 1 + r.randrange(10)
        groups.append("AG_Outbound")
    a = Agent(
        idx=i,
        agent_id=agent_id(i),
        dn=agent_dn(i),
        place=place_name(i),
        queues=tuple(queues),
        skills=skills,
        groups=groups,
        digital=digital,
        outbound=outbound,
        first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
        last_name=LAST_NAMES[(i * 7) % len(LAST_NAMES)],
        queue_set=frozenset(queues),
    )
    for m in digital:
        a.media[m] = MediaState(media=m, capacity=cfg.chat_capacity if m == "chat" else cfg.email_capacity)
    return a


class AgentManager:
    """Shift plans and every agent state transition."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.cfg = sim.cfg
        self.loop = sim.loop
        self.em = sim.em
        self.rng = sim.rng("shifts")
        self.brng = sim.rng("behaviour")
        n = self.cfg.agents + (1 if self.cfg.config_changes else 0)
        self.agents: list[Agent] = [build_agent(self.cfg, i) for i in range(1, n + 1)]
        self.by_id = {a.agent_id: a for a in self.agents}
        self.new_agent: Agent | None = self.agents[-1] if self.cfg.config_changes else None
        self.deleted_agent: Agent | None = None

    # ------------------------------------------------------------------ planning
    def start(self) -> None:
        cfg = self.cfg
        start, horizon = self.sim.start_ms, self.sim.horizon_ms
        span = horizon - start
        shift = int(cfg.shift_hours * MS_PER_HOUR)
        rng = self.rng
        regular = self.agents[: cfg.agents]
        if cfg.config_changes and cfg.agents >= 4:
            self.deleted_agent = regular[-1]
        for a in regular:
            if span <= shift * 1.15:
                offset = int(rng.uniform(0, min(0.03 * span, 10 * MS_PER_MIN)))
                length = span - offset - int(rng.uniform(0, min(0.04 * span, 15 * MS_PER_MIN)))
            else:
                offset = int(rng.uniform(0, span - shift))
                length = int(shift * rng.uniform(0.95, 1.05))
            login = start + offset
            logout = login + length
            never = rng.random() < cfg.never_logout_share and login >= horizon - 11 * MS_PER_HOUR
            relogin = rng.random() < cfg.relogin_share
            relogin_nl = rng.random() < cfg.relogin_without_logout_share and not relogin
            if a is self.deleted_agent:
                never = False
                logout = min(logout, start + int(0.55 * span))
                a.delete_after_logout = True
            a.never_logout = never
            a.shift_end = None if never or logout >= horizon else logout
            self.loop.at(login, self._login, a)
            if a.shift_end is not None:
                self.loop.at(a.shift_end, self._shift_end, a)
            breaks = self._plan_breaks(login, a.shift_end if a.shift_end is not None else horizon)
            if breaks:
                breaks[0].logout = relogin
                breaks[0].relogin = relogin_nl
            for b in breaks:
                self.loop.at(b.at, self._break_due, a, b)
        if self.new_agent is not None:
            a = self.new_agent
            login = start + int(0.25 * span) + 3 * MS_PER_MIN
            a.shift_end = start + int(0.9 * span)
            self.loop.at(login, self._login, a)
            self.loop.at(a.shift_end, self._shift_end, a)
            for b in self._plan_breaks(login, a.shift_end):
                self.loop.at(b.at, self._break_due, a, b)

    def _plan_breaks(self, login: int, end: int) -> list[BreakPlan]:
        rng = self.rng
        reasons = self.cfg.not_ready_reasons
        if not reasons:
            return []
        others = [r for r in reasons if r != "Lunch"] or list(reasons)
        out: list[BreakPlan] = []
        lunch_done = "Lunch" not in reasons or end - login < 5 * MS_PER_HOUR
        mid = login + (end - login) // 2
        t = login + 2 * MS_PER_HOUR + int(rng.uniform(-15, 15) * MS_PER_MIN)
        while t < end - 15 * MS_PER_MIN:
            if not lunch_done and t >= mid - MS_PER_HOUR:
                reason = "Lunch"
                lunch_done = True
            else:
                reason = others[0] if rng.random() < 0.7 else rng.choice(others)
            lo, hi = BREAK_MINUTES.get(reason, (10, 20))
            dur = int(rng.uniform(lo, hi) * MS_PER_MIN)
            out.append(BreakPlan(at=t, reason=reason, duration=dur))
            t += dur + 2 * MS_PER_HOUR + int(rng.uniform(-15, 15) * MS_PER_MIN)
        if not out and end - login > MS_PER_HOUR:
            at = login + int((end - login) * rng.uniform(0.3, 0.6))
            out.append(BreakPlan(at=at, reason=others[0], duration=int(rng.uniform(5, 12) * MS_PER_MIN)))
        return out

    # ------------------------------------------------------------------ emission
    def _bump(self, a: Agent) -> int:
        t = a.t + 1
        now = self.loop.now
        if t < now:
            t = now
        a.t = t
        return t

    def _vstate(self, a: Agent, type_: str, payload: dict[str, Any], raw: str, reason: str | None) -> int:
        t = self._bump(a)
        self.em.emit(t, VOICE_AGENT, a.agent_id, type_, payload)
        a.gen += 1
        a.raw = raw
        a.sessions[-1].changes.append((t, raw, reason))
        return t

    def _ready(self, a: Agent) -> int:
        return self._vstate(a, "AgentReady", {"agent_id": a.agent_id}, "Ready", None)

    def _not_ready(self, a: Agent, reason: str | None, acw: bool = False) -> int:
        payload = {
            "agent_id": a.agent_id,
            "workmode": "AfterCallWork" if acw else "AuxWork",
            "reason_code": reason,
        }
        return self._vstate(a, "AgentNotReady", payload, "ACW" if acw else "NotReady", reason)

    def refresh(self, a: Agent) -> None:
        """Re-evaluate whether routing may offer the agent a call; offer waiting work if so."""
        router = self.sim.router
        avail = (
            a.logged_in
            and a.raw == "Ready"
            and a.active == 0
            and not a.reserved
            and not a.pending_logout
            and a.pending_break is None
        )
        if avail:
            if a not in router.available:
                a.idle_since = self.loop.now
                router.available.add(a)
                router.agent_available(a)
        else:
            router.available.discard(a)

    # ------------------------------------------------------------------ login / logout
    def _login(self, a: Agent) -> None:
        if a.final_done:
            return
        t = self._bump(a)
        self.em.emit(
            t,
            VOICE_AGENT,
            a.agent_id,
            "AgentLogin",
            {"agent_id": a.agent_id, "dn": a.dn, "place": a.place, "queues": list(a.queues)},
        )
        first = not a.sessions
        if a.logged_in:
            prev = a.sessions[-1]
            prev.end = t
            prev.ended_by = "next_login"
        a.sessions.append(Session(a.agent_id, "voice", t, changes=[(t, "LoginNR", None)]))
        a.logged_in = True
        a.raw = "LoginNR"
        a.gen += 1
        a.pending_logout = False
        a.pending_break = None
        self.refresh(a)
        self.loop.at(t + self.brng.randint(3, 25) * MS_PER_S, self._first_state, a, a.gen)
        if first:
            for m in a.digital:
                self.loop.at(t + self.brng.randint(2, 20) * MS_PER_S, self._media_login, a, m)

    def _first_state(self, a: Agent, gen: int) -> None:
        if a.gen != gen or not a.logged_in:
            return
        if self.brng.random() < 0.1:
            reason = self.brng.choice(self.cfg.not_ready_reasons) if self.cfg.not_ready_reasons else None
            b = BreakPlan(
                at=self.loop.now, reason=reason or "", duration=self.brng.randint(2, 8) * MS_PER_MIN
            )
            self._go_nr(a, b, digital=False)
            return
        self._ready(a)
        self.refresh(a)

    def _shift_end(self, a: Agent) -> None:
        if not a.logged_in:
            a.final_done = True
            self._media_logout_all(a)
            if a.delete_after_logout:
                self.loop.after(5 * MS_PER_MIN, self.sim.config.delete_person, a)
            return
        a.pending_logout = True
        self.refresh(a)
        if a.active == 0 and not a.reserved and a.raw != "ACW":
            self._logout(a, final=True)

    def _logout(self, a: Agent, final: bool) -> None:
        t = self._bump(a)
        self.em.emit(t, VOICE_AGENT, a.agent_id, "AgentLogout", {"agent_id": a.agent_id})
        s = a.sessions[-1]
        s.end = t
        s.ended_by = "logout"
        a.logged_in = False
        a.raw = None
        a.gen += 1
        a.pending_break = None
        a.pending_logout = False
        self.refresh(a)
        if final:
            a.final_done = True
            self._media_logout_all(a)
            if a.delete_after_logout:
                self.loop.after(5 * MS_PER_MIN, self.sim.config.delete_person, a)

    # ------------------------------------------------------------------ breaks
    def _break_due(self, a: Agent, b: BreakPlan) -> None:
        if not self.sim.accepting() or not a.logged_in or a.pending_logout or a.final_done:
            return
        if a.raw in ("NotReady", "LoginNR") or a.pending_break is not None:
            return
        if a.active > 0 or a.reserved:
            if (
                not b.logout
                and a.active > 0
                and a.raw == "Ready"
                and self.brng.random() < self.cfg.nr_during_call_share
            ):
                self._go_nr(a, b)
            else:
                a.pending_break = b
                self.refresh(a)
            return
        if a.raw == "ACW":
            a.pending_break = b
            self.refresh(a)
            return
        self._start_break(a, b)

    def _start_break(self, a: Agent, b: BreakPlan) -> None:
        if b.logout:
            self._media_break(a, b.reason)
            self._logout(a, final=False)
            self.loop.after(b.duration, self._relogin_after_break, a)
        else:
            self._go_nr(a, b)

    def _go_nr(self, a: Agent, b: BreakPlan, digital: bool = True) -> None:
        t = self._not_ready(a, b.reason or None)
        if digital:
            self._media_break(a, b.reason)
        self.refresh(a)
        self.loop.at(t + b.duration, self._break_end, a, a.gen, b)

    def _break_end(self, a: Agent, gen: int, b: BreakPlan) -> None:
        if a.gen != gen or a.raw != "NotReady":
            return
        if a.active > 0 or a.reserved:
            if a.pending_logout:
                return  # the logout follows the call
            self._ready(a)
            self._media_unbreak(a)
            self.refresh(a)
            return
        if a.pending_logout:
            self._logout(a, final=True)
            return
        if b.relogin:
            self._login(a)
            self._media_unbreak(a)
            return
        self._ready(a)
        self._media_unbreak(a)
        self.refresh(a)

    def _relogin_after_break(self, a: Agent) -> None:
        if a.final_done or a.logged_in:
            return
        if a.shift_end is not None and self.loop.now >= a.shift_end:
            return
        self._login(a)
        self._media_unbreak(a)

    # ------------------------------------------------------------------ after a call
    def after_voice(self, a: Agent, acw_ok: bool) -> None:
        """The agent's part in a call ended (a party released or a reservation dropped)."""
        if a.active > 0 or a.reserved or not a.logged_in:
            return
        if a.raw in ("NotReady", "LoginNR"):
            if a.pending_logout:
                self._logout(a, final=True)
            else:
                self.refresh(a)
            return
        if acw_ok and a.raw == "Ready" and self.brng.random() < self.cfg.acw_share:
            last = max((p for p in a.parties[-8:] if p.released is not None), key=lambda p: p.released or 0)
            t = self._not_ready(a, None, acw=True)
            a.acw_log.append((t, last))
            self.refresh(a)
            dur = max(1000, int(self.brng.expovariate(1.0 / (self.cfg.acw_mean_s * 1000))))
            self.loop.at(t + dur, self._acw_end, a, a.gen)
            voice = self.sim.voice
            if voice.udrng.random() < self.cfg.acw_user_data_share:
                self.loop.at(
                    t + 1 + int(voice.udrng.uniform(0.2, 0.8) * dur), voice.acw_user_data, last.call, a, a.gen
                )
            return
        self.continue_after_work(a)

    def _acw_end(self, a: Agent, gen: int) -> None:
        if a.gen != gen:
            return
        self.continue_after_work(a)

    def continue_after_work(self, a: Agent) -> None:
        if a.pending_logout:
            self._logout(a, final=True)
            return
        if a.pending_break is not None:
            b = a.pending_break
            a.pending_break = None
            self._start_break(a, b)
            return
        if a.raw == "ACW":
            self._ready(a)
        self.refresh(a)

    def rona(self, a: Agent) -> None:
        """The agent let a call ring out: NotReady (no reason) for a while, then Ready."""
        if a.active > 0 or not a.logged_in or a.raw != "Ready":
            self.after_voice(a, acw_ok=False)
            return
        t = self._not_ready(a, None)
        self.refresh(a)
        self.loop.at(t + int(self.cfg.rona_not_ready_s * 1000), self._rona_end, a, a.gen)

    def _rona_end(self, a: Agent, gen: int) -> None:
        if a.gen != gen:
            return
        if a.pending_logout:
            if a.active == 0 and not a.reserved:
                self._logout(a, final=True)
            return
        self._ready(a)
        self.refresh(a)

    # ------------------------------------------------------------------ digital media states
    def _mstate(self, a: Agent, ms: MediaState, type_: str, extra: dict[str, Any], raw: str | None) -> int:
        t = self._bump(a)
        payload = {"agent_id": a.agent_id, "media_type": ms.media}
        payload.update(extra)
        self.em.emit(t, DIGITAL_AGENT, a.agent_id, type_, payload)
        ms.raw = raw
        return t

    def _media_login(self, a: Agent, m: str) -> None:
        ms = a.media[m]
        if ms.logged_in or a.final_done:
            return
        t = self._mstate(a, ms, "MediaLogin", {"capacity": ms.capacity}, "LoginNR")
        ms.logged_in = True
        ms.sessions.append(Session(a.agent_id, m, t, changes=[(t, "LoginNR", None)]))
        self.loop.at(t + self.brng.randint(2, 20) * MS_PER_S, self._media_first_ready, a, m)

    def _media_first_ready(self, a: Agent, m: str) -> None:
        ms = a.media[m]
        if not ms.logged_in or ms.raw != "LoginNR" or ms.pending_logout:
            return
        if a.logged_in and a.raw == "NotReady":
            reason = a.sessions[-1].changes[-1][2]
            if reason:  # on a voice break: the media follows it; the break's end readies it
                t = self._mstate(a, ms, "MediaNotReady", {"reason_code": reason}, "NotReady")
                ms.sessions[-1].changes.append((t, "NotReady", reason))
                return
        self._media_ready(a, ms)

    def _media_ready(self, a: Agent, ms: MediaState) -> None:
        t = self._mstate(a, ms, "MediaReady", {}, "Ready")
        ms.sessions[-1].changes.append((t, "Ready", None))
        ms.idle_since = t
        self.sim.digital.pump(ms.media)

    def _media_break(self, a: Agent, reason: str) -> None:
        for ms in a.media.values():
            if ms.logged_in and not ms.pending_logout and ms.raw != "NotReady":
                t = self._mstate(a, ms, "MediaNotReady", {"reason_code": reason or None}, "NotReady")
                ms.sessions[-1].changes.append((t, "NotReady", reason or None))

    def _media_unbreak(self, a: Agent) -> None:
        for ms in a.media.values():
            if ms.logged_in and not ms.pending_logout and ms.raw != "Ready":
                self._media_ready(a, ms)

    def _media_logout_all(self, a: Agent) -> None:
        for ms in a.media.values():
            if ms.logged_in:
                ms.pending_logout = True
                if ms.load == 0:
                    self._media_logout(a, ms)

    def media_idle(self, a: Agent, m: str) -> None:
        """Called by the digital model when the agent's load on media ``m`` drops to 0."""
        ms = a.media[m]
        if ms.pending_logout and ms.logged_in and ms.load == 0:
            self._media_logout(a, ms)

    def _media_logout(self, a: Agent, ms: MediaState) -> None:
        t = self._mstate(a, ms, "MediaLogout", {}, None)
        s = ms.sessions[-1]
        s.end = t
        s.ended_by = "logout"
        ms.logged_in = False
        ms.pending_logout = False
