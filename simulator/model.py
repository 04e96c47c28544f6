"""The simulation's own state: calls, parties, agents, sessions, digital interactions, records.

The ledger is computed from these objects (never by parsing the emitted events). Every ``*_ts``
style attribute holds the exact epoch-millisecond time of the event that was emitted for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(slots=True, eq=False)
class Session:
    """One login session of one agent on one media (``voice``, ``chat``, ``email``)."""

    agent_id: str
    media: str
    start: int
    end: int | None = None
    ended_by: str = "open"  # logout | next_login | open
    # raw state changes inside the session: (ts, raw, reason); raw in LoginNR Ready NotReady ACW
    changes: list[tuple[int, str, str | None]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class MediaState:
    """An agent's state on one digital media."""

    media: str
    capacity: int
    logged_in: bool = False
    raw: str | None = None
    load: int = 0
    pending_logout: bool = False
    idle_since: int = 0
    sessions: list[Session] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class BreakPlan:
    at: int
    reason: str
    duration: int
    logout: bool = False  # log out for the break and log in again after it
    relogin: bool = False  # at its end log in again without a logout


@dataclass(slots=True, eq=False)
class Agent:
    """One agent: configuration (stable across runs) plus runtime voice state."""

    idx: int
    agent_id: str
    dn: str
    place: str
    queues: tuple[str, ...]
    skills: dict[str, int]
    groups: list[str]
    digital: tuple[str, ...]
    outbound: bool
    first_name: str
    last_name: str
    t: int = 0  # per-agent clock: the ts of the agent's last event on any topic
    logged_in: bool = False
    raw: str | None = None  # LoginNR | Ready | NotReady | ACW while logged in
    gen: int = 0  # bumped by every voice state event; scheduled handlers check it
    active: int = 0  # voice parties ringing, dialing, established or held
    reserved: bool = False  # held for a progressive campaign dial
    idle_since: int = 0
    pending_logout: bool = False
    pending_break: BreakPlan | None = None
    final_done: bool = False
    shift_end: int | None = None
    never_logout: bool = False
    delete_after_logout: bool = False
    sessions: list[Session] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    media: dict[str, MediaState] = field(default_factory=dict)
    acw_log: list[tuple[int, Party | None]] = field(
        default_factory=list
    )  # (ACW start ts, the party it followed)
    queue_set: frozenset[str] = frozenset()


@dataclass(slots=True, eq=False)
class Thread:
    thread_id: str
    calls: list[Call] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Call:
    call_id: str
    thread: Thread
    call_type: str
    ani: str
    dnis: str
    created: int
    t: int  # per-call clock: ts of the call's last event
    parties: list[Party] = field(default_factory=list)
    customer: Party | None = None
    vq: str | None = None
    ended: int | None = None  # CallEnded ts
    lost_end: bool = False
    acw_ok: bool = True
    abandon_ok: bool = False
    anomaly_release: bool = False
    on_end: Callable[[Call], None] | None = None
    # user data as the simulation set it: (ts, object merged over the earlier ones), CallCreated
    # first; and the ts of the call's last event other than a UserDataChanged (the CALL rule's
    # instant, MEASURES.md "User data")
    user_data_log: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    end_t: int = 0


@dataclass(slots=True, eq=False)
class Party:
    party_id: str
    call: Call
    dn: str
    dn_type: str
    agent: Agent | None
    reason: str
    initiator: Party | None
    added: int
    ringing: int | None = None
    dialing: int | None = None
    established: int | None = None
    holds: list[list[int | None]] = field(default_factory=list)  # [Held ts, Retrieved ts or None]
    released: int | None = None
    cause: str | None = None
    active: bool = False
    busy_from: int | None = None
    # queue parties
    queue: str | None = None
    queued: int | None = None
    diverted: int | None = None
    target: Party | None = None
    waiting: bool = False
    result: str | None = None  # Diverted | Abandoned | Cleared
    cons_init: int = 0


@dataclass(slots=True, eq=False)
class Offer:
    """One offer of a digital interaction to one agent."""

    itx: Itx
    agent: Agent
    offered: int
    outcome: str | None = None  # Accepted | Rejected | OfferTimedOut
    outcome_ts: int | None = None
    end: int | None = None  # when the agent's part ended (busy until then)
    end_kind: str | None = None  # Rejected | OfferTimedOut | Transferred | AgentReleased


@dataclass(slots=True, eq=False)
class Itx:
    itx_id: str
    media: str
    customer_id: str
    created: int
    t: int
    queue: str
    state: str = "new"  # queued | offered | handling | done
    stays: list[list[Any]] = field(default_factory=list)  # [queue, Queued ts, end ts]
    offers: list[Offer] = field(default_factory=list)
    tried: set[str] = field(default_factory=set)
    completed: int | None = None
    reason: str | None = None
    patience_expired: str | None = None
    transfers: int = 0
    user_data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Attempt:
    attempt: int
    call_id: str
    dialed: int
    result: str | None = None
    result_ts: int | None = None


@dataclass(slots=True, eq=False)
class Record:
    record_id: str
    chain_id: str
    campaign: str
    contact: str
    t: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    completed: int | None = None
    disposition: str | None = None
    agent_party: Party | None = None
    next_in_chain: Record | None = None
