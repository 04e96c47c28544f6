"""The run: wires the models to one event loop and one emitter, runs it, builds the ledger.

Arrival processes (calls, chats, emails, dials, internal and manual calls, breaks) stop at the
horizon (start + duration). Work in progress is finished after it (calls end, agents finish their
after-call work, pending logouts happen), so every call and interaction in the ledger is closed;
agent sessions planned to end after the horizon stay open (null end).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .agents import AgentManager
from .cfgevents import ConfigChange, ConfigModel
from .config import SimulationConfig, event_tag, run_tag
from .delivery import apply_delivery
from .digital import DigitalModel
from .emitter import TOPICS, Delivery, Emitter
from .ids import IdFactory
from .ledger import Ledger, build_ledger
from .loop import EventLoop
from .outbound import OutboundModel
from .routing import VoiceRouter
from .timefmt import MS_PER_HOUR, to_ms, ts_opt
from .voice import VoiceModel

Progress = Callable[[int, int], None]


@dataclass
class SimulationResult:
    """What :func:`simulate` returns. ``config_changes``: the configuration objects and their
    changes in time order, for the Configuration Database (cfgevents.py); not events."""

    config: SimulationConfig
    run_tag: str
    deliveries: list[Delivery]
    ledger: Ledger
    summary: dict[str, Any] = field(default_factory=dict)
    config_changes: list[ConfigChange] = field(default_factory=list)


class Simulation:
    """Shared context of one run (each model keeps a reference to it)."""

    def __init__(self, cfg: SimulationConfig) -> None:
        self.cfg = cfg
        self.run_tag = run_tag(cfg)
        self.start_ms = to_ms(cfg.start)
        self.horizon_ms = self.start_ms + round(cfg.duration_hours * MS_PER_HOUR)
        self.loop = EventLoop(self.start_ms)
        self.em = Emitter(cfg.tenant, event_tag(cfg), cfg.redundant_sources, cfg.redundant_share, cfg.seed)
        self.ids = IdFactory(self.run_tag)
        self.agents = AgentManager(self)
        self.router = VoiceRouter(self)
        self.voice = VoiceModel(self)
        self.digital = DigitalModel(self)
        self.outbound = OutboundModel(self)
        self.config = ConfigModel(self)

    def rng(self, name: str) -> random.Random:
        """An independent random stream per concern, derived from the seed (str seeds hash with sha512)."""
        return random.Random(f"{self.cfg.seed}/{name}")

    def accepting(self) -> bool:
        """Before the horizon: new work may start."""
        return self.loop.now < self.horizon_ms

    def result(self) -> SimulationResult:
        """Ledger, delivery options and summary of a finished run."""
        cfg = self.cfg
        ledger = build_ledger(self)
        deliveries, late = apply_delivery(
            self.em.deliveries, cfg.seed, cfg.shuffle_mode, cfg.shuffle_window, cfg.late_share
        )
        summary = _summary(self, deliveries, ledger, late)
        return SimulationResult(cfg, self.run_tag, deliveries, ledger, summary, list(self.config.changes))

    def run(self, progress: Progress | None = None) -> None:
        self.config.start()
        self.agents.start()
        self.voice.start()
        self.digital.start()
        self.outbound.start()
        loop, em = self.loop, self.em
        total = self.horizon_ms - self.start_ms
        step = max(1, total // 200)
        next_report = self.start_ms + step
        while len(loop):
            t, fn, args = loop.pop()
            if em._buf and em._buf[0][0] < t:
                em.flush_before(t)
            loop.now = t
            if progress is not None and t >= next_report:
                progress(min(t - self.start_ms, total), total)
                next_report = t + step
            fn(*args)
        em.flush_all()
        if progress is not None:
            progress(total, total)


def _summary(sim: Simulation, deliveries: list[Delivery], ledger: Ledger, late: int) -> dict[str, Any]:
    per_topic = dict.fromkeys(TOPICS, 0)
    per_type: dict[str, dict[str, int]] = {t: {} for t in TOPICS}
    for (topic, type_), n in sorted(sim.em.type_counts.items()):
        per_topic[topic] += n
        per_type[topic][type_] = n
    delivered = dict.fromkeys(TOPICS, 0)
    for d in deliveries:
        delivered[d.topic] += 1
    descriptors: dict[str, int] = {}
    for r in ledger.parties:
        k = f"{r['resource_role']}/{r['technical_result']}/{r['result_reason']}"
        descriptors[k] = descriptors.get(k, 0) + 1
    msf: dict[str, int] = {}
    for r in ledger.mediation_segments:
        k = r["technical_result"] + ("/short" if r["short_abandoned"] else "")
        msf[k] = msf.get(k, 0) + 1
    return {
        "run_tag": sim.run_tag,
        "start_ts": ts_opt(sim.start_ms),
        "horizon_ts": ts_opt(sim.horizon_ms),
        "first_event_ts": ts_opt(sim.em.first_ts),
        "last_event_ts": ts_opt(sim.em.last_ts),
        "events": sim.em.event_count,
        "redundant_copies": sim.em.copy_count,
        "late_deliveries": late,
        "deliveries": len(deliveries),
        "events_per_topic": per_topic,
        "deliveries_per_topic": delivered,
        "events_per_type": per_type,
        "seq_by_source": sim.em.seq_by_source,
        "ledger_rows": {k: len(v) for k, v in ledger.files().items()},
        "technical_descriptors": dict(sorted(descriptors.items())),
        "mediation_results": dict(sorted(msf.items())),
        "config_changes": len(sim.config.changes),
        "config": sim.cfg.to_json(),
    }


def simulate(cfg: SimulationConfig | None = None, progress: Progress | None = None) -> SimulationResult:
    """Run a simulation. Deterministic: the same config gives byte-identical deliveries and ledger."""
    sim = Simulation(cfg or SimulationConfig())
    sim.run(progress)
    return sim.result()
