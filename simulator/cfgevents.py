"""Configuration changes: the objects of the simulated contact center and their changes over time.

The simulator does not publish ``gca-cfg``: that topic comes only from the config adapter
(``ingest/config/adapter.py``), which reads the Configuration Database. The simulator records
what an administrator would have done in the Configuration Database, and when:
``SimulationResult.config_changes``, a list of :class:`ConfigChange` in time order, each the
whole object after the change in the shape the Configuration Database publishes it
(``cfg.obj_<type>`` in ``ingest/config/config_db.sql``), or ``None`` for a deletion.
``ingest/config/writer.py`` writes them into the Configuration Database, each with its simulated
time as the change time, and the adapter publishes them.

At the start (the run's first millisecond) every object: Skill, AgentGroup, ActionCode, Queue,
Campaign, DN (routing points, the IVR, every extension), Place, Person (every agent). dbids and
attributes depend only on configuration names and counts, never on the seed, so days simulated
with the same agents share one configuration (the demo data set of ``cli/config_demo.py``):

  Skill 101+, AgentGroup 201+, ActionCode 301+, Queue 401+, Campaign 501+, DN 601+ (routing
  points, then the IVR), DN 200000+i (extension of agent i), Place 300000+i, Person 100000+i.

With ``queue_thresholds`` (default off, a reporting option: it changes no event, only the Queue
objects of the configuration and the ledger's threshold schedule): the first voice queue has a
service-level threshold of 30 s and a short-abandon threshold of 5 s, the first chat queue a
service-level threshold of 60 s (short abandon: the settings), the other queues none (the
settings); at 75 % of the run (14:00 of the default day) the first voice queue's thresholds
become 15 s / 8 s. :meth:`ConfigModel.threshold_schedule` is that history, the ledger's
``queue_threshold_schedule``. The demo data set (``cli/config_demo.py``) has the start thresholds.

With ``config_changes``: at 25 % of the run a new agent (Person, DN, Place) who logs in 3 min
later; at 40 % agent0002 moves to another agent group; at 50 % a skill level of agent0003
changes; the last regular agent logs out at 55 % at the latest and its Person is deleted
5 minutes after that logout. Routing is not affected by these changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .agents import skill_of
from .model import Agent
from .timefmt import ts_str

if TYPE_CHECKING:
    from .config import SimulationConfig
    from .simulation import Simulation

SWITCH = "SIP_Switch"
DISPOSITIONS: tuple[str, ...] = ("Sale", "NoSale", "Callback", "WrongNumber", "Unreached")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


#: a queue's (service-level, short-abandon) thresholds in seconds; None: not set (the settings)
QueueThresholds = tuple[float | None, float | None]


def start_queue_thresholds(cfg: SimulationConfig) -> dict[str, QueueThresholds]:
    """The per-queue thresholds of the configuration at the start with ``queue_thresholds`` (and
    of the demo data set): the first voice queue 30 s / 5 s, the first chat queue 60 s / not set."""
    out: dict[str, QueueThresholds] = {}
    if cfg.voice_queues:
        out[cfg.voice_queues[0]] = (30, 5)
    if cfg.chat_queues:
        out[cfg.chat_queues[0]] = (60, None)
    return out


def changed_queue_thresholds(cfg: SimulationConfig) -> dict[str, QueueThresholds]:
    """The thresholds changed at 75 % of the run with ``queue_thresholds``."""
    return {cfg.voice_queues[0]: (15, 8)} if cfg.voice_queues else {}


def threshold_attributes(thresholds: QueueThresholds | None) -> dict[str, float]:
    """The Queue attributes of the thresholds set (unset ones are absent, as published)."""
    if thresholds is None:
        return {}
    names = ("service_level_threshold", "short_abandon_threshold")
    return {name: value for name, value in zip(names, thresholds, strict=True) if value is not None}


@dataclass(frozen=True, slots=True)
class ConfigChange:
    """One object after one change, at a simulated time."""

    ts: int  # simulated time of the change, epoch ms
    object_type: str
    dbid: int
    attributes: dict[str, Any] | None  # None: the object is deleted

    @property
    def changed_at(self) -> datetime:
        return _EPOCH + timedelta(milliseconds=self.ts)

    def to_json(self) -> dict[str, Any]:
        return {
            "ts": ts_str(self.ts),
            "object_type": self.object_type,
            "dbid": self.dbid,
            "attributes": self.attributes,
        }


class ConfigModel:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.cfg = sim.cfg
        self.loop = sim.loop
        self.changes: list[ConfigChange] = []
        # queue -> [(from, epoch ms; thresholds)], the queues' thresholds as configured over time
        self.thresholds: dict[str, list[tuple[int, QueueThresholds]]] = {}

    def _record(self, object_type: str, dbid: int, attributes: dict[str, Any] | None) -> None:
        t = max(self.loop.now, self.sim.start_ms)
        self.changes.append(ConfigChange(t, object_type, dbid, attributes))

    def upsert(self, object_type: str, dbid: int, attributes: dict[str, Any]) -> None:
        self._record(object_type, dbid, attributes)

    # ------------------------------------------------------------------ objects
    def skills(self) -> list[str]:
        cfg = self.cfg
        return [skill_of(q) for q in cfg.voice_queues] + ["Chat", "Email", "Outbound"]

    def groups(self) -> list[str]:
        return [f"AG_{skill_of(q)}" for q in self.cfg.voice_queues] + ["AG_Digital", "AG_Outbound"]

    @staticmethod
    def person_attributes(a: Agent) -> dict[str, Any]:
        return {
            "user_name": a.agent_id,
            "employee_id": f"E{a.idx:05d}",
            "first_name": a.first_name,
            "last_name": a.last_name,
            "email": f"{a.agent_id}@example.com",
            "is_agent": True,
            "enabled": True,
            "agent_groups": sorted(set(a.groups)),
            "skills": dict(sorted(a.skills.items())),
            "place": a.place,
            "extension": a.dn,
            "agent_logins": [{"login_code": a.agent_id, "switch": SWITCH, "wrapup_time": 0}],
            "media": ["voice", *a.digital],
        }

    def _agent_objects(self, a: Agent) -> None:
        self.upsert("DN", 200_000 + a.idx, {"number": a.dn, "type": "Extension", "switch": SWITCH})
        self.upsert("Place", 300_000 + a.idx, {"name": a.place, "dns": [a.dn]})
        self.upsert("Person", 100_000 + a.idx, self.person_attributes(a))

    def start(self) -> None:
        self.loop.at(self.sim.start_ms, self._snapshot)
        if self.cfg.config_changes:
            span = self.sim.horizon_ms - self.sim.start_ms
            s = self.sim.start_ms
            if self.sim.agents.new_agent is not None:
                self.loop.at(s + int(0.25 * span), self._agent_objects, self.sim.agents.new_agent)
            if self.cfg.agents >= 2:
                self.loop.at(s + int(0.40 * span), self._move_group, self.sim.agents.agents[1])
            if self.cfg.agents >= 3:
                self.loop.at(s + int(0.50 * span), self._skill_change, self.sim.agents.agents[2])
        if self.cfg.queue_thresholds:
            span = self.sim.horizon_ms - self.sim.start_ms
            self.loop.at(self.sim.start_ms + int(0.75 * span), self._threshold_change)

    def _queues(self) -> list[tuple[str, str]]:
        cfg = self.cfg
        queues = [(q, "voice") for q in cfg.voice_queues]
        return queues + [(q, "chat") for q in cfg.chat_queues] + [(q, "email") for q in cfg.email_queues]

    def _queue(self, k: int, name: str, media: str, thresholds: QueueThresholds | None) -> None:
        attributes: dict[str, Any] = {
            "name": name,
            "media_type": media,
            "type": "VirtualQueue",
            "switch": SWITCH,
        }
        if name in self.thresholds:  # a change: a threshold no longer set is cleared (None)
            attributes |= dict.fromkeys(("service_level_threshold", "short_abandon_threshold"))
        self.upsert("Queue", 401 + k, attributes | threshold_attributes(thresholds))
        if thresholds is not None or name in self.thresholds:  # (cleared: the settings again)
            at = max(self.loop.now, self.sim.start_ms)
            self.thresholds.setdefault(name, []).append((at, thresholds or (None, None)))

    def _threshold_change(self) -> None:
        changed = changed_queue_thresholds(self.cfg)
        for k, (q, media) in enumerate(self._queues()):
            if q in changed:
                self._queue(k, q, media, changed[q])

    def threshold_schedule(self) -> dict[str, list[tuple[int, float, float]]]:
        """Each queue's thresholds over time, unset ones as the settings' (the ledger's schedule)."""
        cfg = self.cfg
        return {
            q: [
                (
                    at,
                    cfg.service_level_threshold_s if sl is None else sl,
                    cfg.short_abandon_threshold_s if sa is None else sa,
                )
                for at, (sl, sa) in entries
            ]
            for q, entries in self.thresholds.items()
        }

    def _snapshot(self) -> None:
        cfg = self.cfg
        for k, name in enumerate(self.skills()):
            self.upsert("Skill", 101 + k, {"name": name})
        for k, name in enumerate(self.groups()):
            self.upsert("AgentGroup", 201 + k, {"name": name})
        for k, name in enumerate(cfg.not_ready_reasons):
            self.upsert("ActionCode", 301 + k, {"name": name, "code": name.upper(), "type": "NotReady"})
        base = 301 + len(cfg.not_ready_reasons)
        for k, name in enumerate(DISPOSITIONS):
            self.upsert("ActionCode", base + k, {"name": name, "code": name.upper(), "type": "Disposition"})
        start = start_queue_thresholds(cfg) if cfg.queue_thresholds else {}
        for k, (q, media) in enumerate(self._queues()):
            self._queue(k, q, media, start.get(q))
        for k, (name, mode) in enumerate(cfg.campaigns):
            self.upsert("Campaign", 501 + k, {"name": name, "group": "AG_Outbound", "dialing_mode": mode})
        for k, q in enumerate(cfg.voice_queues):
            self.upsert(
                "DN",
                601 + k,
                {"number": cfg.routing_points[k], "type": "RoutingPoint", "switch": SWITCH, "queue": q},
            )
        ivr = {"number": cfg.ivr_dn, "type": "IVR", "switch": SWITCH}
        self.upsert("DN", 601 + len(cfg.voice_queues), ivr)
        new = self.sim.agents.new_agent
        for a in self.sim.agents.agents:
            if a is not new:
                self._agent_objects(a)

    def _move_group(self, a: Agent) -> None:
        groups = self.groups()
        cur = a.groups[0]
        a.groups[0] = groups[(groups.index(cur) + 1) % len(groups)] if cur in groups else groups[0]
        self.upsert("Person", 100_000 + a.idx, self.person_attributes(a))

    def _skill_change(self, a: Agent) -> None:
        k = sorted(a.skills)[0]
        a.skills[k] = a.skills[k] % 10 + 1
        self.upsert("Person", 100_000 + a.idx, self.person_attributes(a))

    def delete_person(self, a: Agent) -> None:
        self._record("Person", 100_000 + a.idx, None)
