"""Simulation settings: one frozen dataclass, plus the run tag derived from it.

Every knob has a default for a small center (20 agents, 8 hours). Rates left as ``None`` are
derived from the number of agents so that a bigger center gets proportionally more traffic.

The *delivery* options (``redundant_sources``, ``redundant_share``, ``shuffle``,
``shuffle_window``, ``late_share``) only change how the emitted stream is delivered; they
never change the simulation, the event ids or the ledger, and they are not part of the run tag.
The *reporting* options (``reporting_time_zone``, ``service_level_threshold_s``,
``queue_thresholds``) only shape the ledger's per-interval files (the ground truth of the
aggregates) and, for ``queue_thresholds``, the Queue objects of the configuration changes and the
mediation segments' short-abandon flag; they never change an event and are not part of the run
tag either.

The *rendering* options (``omit_routed_initiator``) change how the upstream servers write the
events (which link fields they fill, which events they add), never the simulation: they are not
part of the run tag, so entity ids and the ledger stay the same; event ids get a tag of their own
(``event_tag``), so one id never names two different events.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DELIVERY_FIELDS: frozenset[str] = frozenset(
    {"redundant_sources", "redundant_share", "shuffle", "shuffle_window", "late_share"}
)
REPORTING_FIELDS: frozenset[str] = frozenset(
    {"reporting_time_zone", "service_level_threshold_s", "queue_thresholds"}
)
RENDERING_FIELDS: frozenset[str] = frozenset({"omit_routed_initiator"})


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that shapes one simulated run. Same config (and seed) => byte-identical output."""

    seed: int = 1
    tenant: str = "t1"
    start: datetime = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    duration_hours: float = 8.0

    # ---- people and shifts
    agents: int = 20
    shift_hours: float = 8.0
    never_logout_share: float = 0.1  # sessions left open at the horizon
    relogin_share: float = 0.1  # agents who log out for a break and log in again
    relogin_without_logout_share: float = 0.05  # agents who log in again without a logout
    not_ready_reasons: tuple[str, ...] = ("Break", "Lunch", "Meeting", "Training")
    nr_during_call_share: float = 0.3  # a due break is pressed during the call (NotReady over Busy)
    acw_share: float = 0.8  # calls followed by after-call work
    acw_mean_s: float = 25.0
    # user data the agent sets (own random stream, so the rest of the day does not move): a
    # disposition (and sometimes a note) during the talk of an answered inbound or outbound call,
    # and one set during after-call work, after the call ended (MEASURES.md "User data": only the
    # PARTY rule keeps it); some values are longer than their mapped columns (cut and counted)
    talk_user_data_share: float = 0.3
    acw_user_data_share: float = 0.5
    rona_not_ready_s: float = 45.0  # NotReady (no reason) after a ring-no-answer

    # ---- voice inbound
    voice_queues: tuple[str, ...] = ("VQ_Sales", "VQ_Support", "VQ_Billing")
    queue_weights: tuple[float, ...] | None = None
    routing_points: tuple[str, ...] = ("8001", "8002", "8003")
    ivr_dn: str = "9001"
    calls_per_hour: float | None = None  # None: 10 per staffed agent-hour
    rp_mean_ms: int = 1200
    routing_delay_max_ms: int = 600
    ivr_share: float = 0.12
    ivr_self_service_share: float = 0.4
    ivr_mean_s: float = 50.0
    ring_mean_s: float = 5.0
    ring_timeout_s: float = 15.0
    talk_mean_s: float = 180.0
    talk_sigma: float = 0.7
    hold_share: float = 0.25
    hold_mean_s: float = 30.0
    patience_mean_s: float = 180.0
    short_abandon_share: float = 0.03  # callers with a patience under the short-abandon threshold
    short_abandon_threshold_s: float = 10.0
    clear_share: float = 0.01  # stays routing finds no target for: cleared after 5-60 s
    queue_timeout_s: float = 900.0  # routing clears any stay this long
    rona_share: float = 0.05
    redirect_share: float = 0.02
    reject_share: float = 0.015
    ring_abandon_share: float = 0.012
    hold_abandon_share: float = 0.04
    blind_transfer_share: float = 0.06
    transfer_to_queue_share: float = 0.6
    consult_share: float = 0.06
    consult_transfer_share: float = 0.5
    conference_share: float = 0.2  # the rest of the consultations return to the customer
    conference_leave_share: float = 0.7
    internal_calls_per_hour: float | None = None  # None: 0.3 per agent
    manual_outbound_per_hour: float | None = None  # None: 0.3 per agent
    lost_call_ended_share: float = 0.005

    # ---- digital
    digital_agent_share: float = 0.3
    chats_per_hour: float | None = None  # None: 1.5 per agent
    emails_per_hour: float | None = None  # None: 0.6 per agent
    chat_queues: tuple[str, ...] = ("VQ_Chat", "VQ_Chat_Escalation")
    email_queues: tuple[str, ...] = ("VQ_Email", "VQ_Email_Escalation")
    chat_capacity: int = 3
    email_capacity: int = 1
    chat_mean_s: float = 420.0
    email_mean_s: float = 300.0
    chat_patience_mean_s: float = 300.0
    email_cancel_share: float = 0.03
    email_expire_s: float = 4 * 3600.0
    offer_reject_share: float = 0.05
    offer_timeout_share: float = 0.04
    offer_timeout_s: float = 30.0
    digital_transfer_share: float = 0.06

    # ---- outbound campaigns
    campaigns: tuple[tuple[str, str], ...] = (("CMP_Retention", "Progressive"), ("CMP_Survey", "Predictive"))
    outbound_agent_share: float = 0.25
    dials_per_hour: float | None = None  # per campaign; None: 1 per agent
    max_attempts: int = 3
    retry_delay_s: float = 900.0
    dial_result_weights: tuple[tuple[str, float], ...] = (
        ("Answered", 0.45),
        ("Busy", 0.10),
        ("NoAnswer", 0.20),
        ("AnsweringMachine", 0.10),
        ("Fax", 0.03),
        ("SIT", 0.04),
        ("Dropped", 0.03),
        ("Abandoned", 0.05),
    )

    # ---- configuration, anomalies
    config_changes: bool = False
    anomalies: int = 0

    # ---- delivery (not part of the simulation)
    redundant_sources: bool = False
    redundant_share: float = 1.0
    shuffle: bool | str = False  # False/"none", True/"window", "full"
    shuffle_window: int = 1000
    late_share: float = 0.0

    # ---- reporting (the ledger's intervals and thresholds; not part of the simulation)
    reporting_time_zone: str = "UTC"
    service_level_threshold_s: float = 20.0  # per-queue thresholds default to it (and to the one above)
    queue_thresholds: bool = False  # per-queue thresholds in the configuration, one changed (cfgevents.py)
    # ---- rendering (how the upstream servers write the events; not part of the simulation)
    # Routed parties (reason Route after a Diverted) get a null initiator_party_id, and routing
    # points emit Diverted(target_party_id=<the next party>), as several SIP servers do.
    omit_routed_initiator: bool = False

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")
        if self.duration_hours <= 0:
            raise ValueError("duration_hours must be > 0")
        if self.agents < 2:
            raise ValueError("at least 2 agents")
        if len(self.routing_points) < len(self.voice_queues):
            raise ValueError("one routing point per voice queue")
        if self.queue_weights is not None and len(self.queue_weights) != len(self.voice_queues):
            raise ValueError("queue_weights must match voice_queues")
        if self.shuffle not in (False, True, "none", "window", "full"):
            raise ValueError("shuffle must be False/'none', True/'window' or 'full'")
        try:
            ZoneInfo(self.reporting_time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown reporting_time_zone {self.reporting_time_zone!r}") from exc

    # ---- derived values
    @property
    def coverage(self) -> float:
        """Share of the agents on shift at a time."""
        return min(1.0, self.shift_hours / self.duration_hours)

    @property
    def inbound_rate(self) -> float:
        if self.calls_per_hour is not None:
            return self.calls_per_hour
        return 10.0 * self.agents * self.coverage

    def per_agent(self, value: float | None, per_agent: float) -> float:
        return value if value is not None else per_agent * self.agents * self.coverage

    @property
    def shuffle_mode(self) -> str:
        if self.shuffle is True:
            return "window"
        if self.shuffle is False:
            return "none"
        return str(self.shuffle)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field (datetime as ISO text)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.isoformat() if isinstance(v, datetime) else v
        return out


def run_tag(cfg: SimulationConfig) -> str:
    """Short stable hash of everything that shapes the simulation (not the delivery or reporting options).

    Goes into every event id and entity id, so runs with another seed, start or configuration
    never collide, while the same run always gives the same ids.
    """
    sim = {
        k: v
        for k, v in cfg.to_json().items()
        if k not in DELIVERY_FIELDS | REPORTING_FIELDS | RENDERING_FIELDS
    }
    text = repr(sorted(sim.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def event_tag(cfg: SimulationConfig) -> str:
    """The tag in event ids: the run tag, or, when a rendering option changes the events, a hash
    of the run tag and the rendering options (the same event id never names two events)."""
    tag = run_tag(cfg)
    rendering = {k: v for k, v in cfg.to_json().items() if k in RENDERING_FIELDS}
    if rendering == {f: getattr(SimulationConfig, f) for f in RENDERING_FIELDS}:
        return tag
    return hashlib.sha256(repr((tag, sorted(rendering.items()))).encode()).hexdigest()[:10]
