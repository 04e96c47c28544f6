"""The ledger's figures per 15-minute interval: the ground truth of the aggregates (AGGREGATES.md).

Built from the simulation's own objects (parties, offers, sessions and their state runs), never
from the events or the facts. The readings (what counts where) are listed in ledger.py's
docstring; this module holds the machinery: the reporting clock, the thresholds in force, the
TIME_RANGE table (read from the dbt seed, so the ledger and the aggregates use the same ranges)
and the three aggregations (queue stays, agent handling, agent-state spans).
"""

from __future__ import annotations

import csv
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .model import Itx, Offer, Party
from .timefmt import MS_PER_S, to_ms, ts_str

QUARTER_MS = 15 * 60 * 1000

DEFAULT_SERVICE_LEVEL_S = 20
DEFAULT_SHORT_ABANDON_S = 10

TIME_RANGE_SEED = Path(__file__).resolve().parents[1] / "seeds" / "time_range.csv"

# ---------------------------------------------------------------------- columns
QUEUE_OUTCOMES: tuple[str, ...] = (
    "accepted",
    "abandoned",
    "abandoned_invite",
    "redirected",
    "cleared",
    "routed_other",
)
DISTRIBUTED: frozenset[str] = frozenset({"accepted", "abandoned_invite", "redirected", "routed_other"})
QUEUE_MEASURES: tuple[str, ...] = (
    "entered",
    *QUEUE_OUTCOMES,
    "abandoned_short",
    "distributed",
    "accepted_time_ms",
    "accepted_time_max_ms",
    "accepted_thr",
    "abandoned_time_ms",
    "abandoned_time_max_ms",
    "engage_time_ms",
    "hold_time_ms",
    "wrap_time_ms",
    "handle_time_ms",
)
AGENT_MEASURES: tuple[str, ...] = (
    "offered",
    "accepted",
    "rejected",
    "redirected",
    "abandoned_invite",
    "invite_time_ms",
    "initiated",
    "dial_time_ms",
    "engage_time_ms",
    "hold",
    "hold_time_ms",
    "wrap",
    "wrap_time_ms",
    "handle_time_ms",
    "transfer_init",
    "xfer_received_accepted",
    "conf_received_accepted",
    "consult_init",
    "consult_offered",
    "consult_accepted",
    "consult_engage_time_ms",
)
STATE_MEASURES: tuple[str, ...] = (
    "active_time_ms",
    "ready_time_ms",
    "not_ready_time_ms",
    "busy_time_ms",
    "wrap_time_ms",
)
STATE_COLUMN: dict[str, str] = {
    "Ready": "ready_time_ms",
    "NotReady": "not_ready_time_ms",
    "Busy": "busy_time_ms",
    "AfterCallWork": "wrap_time_ms",
}
OFFERED_ROLES: frozenset[str] = frozenset({"Received", "ReceivedTransfer", "ReceivedConference"})


# ---------------------------------------------------------------------- reporting clock
class ReportingClock:
    """The 15-minute intervals of a reporting time zone, as UTC epoch-ms boundaries.

    An interval starts at every local quarter hour (hh:00, :15, :30, :45 on the local wall clock),
    found with zoneinfo, so a DST day has 92 or 100 intervals and a repeated local hour gives
    two distinct intervals per quarter (one per UTC offset). Boundaries are built lazily.
    """

    def __init__(self, zone: str = "UTC") -> None:
        self.zone_name = zone
        self.zone = ZoneInfo(zone)
        self._bounds: list[int] = []
        self._labels: dict[int, str] = {}

    def _floor(self, ms: int) -> int:
        local = datetime.fromtimestamp(ms // MS_PER_S, self.zone)
        start = to_ms(local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0))
        if start > ms:  # the local quarter hour does not exist: a transition off the quarter hour
            raise ValueError(f"time zone {self.zone_name} changes its offset off a quarter hour")
        return start

    def _next(self, b: int) -> int:
        nxt = self._floor(b + QUARTER_MS)
        return nxt if nxt > b else b + QUARTER_MS

    def _cover(self, ms: int) -> None:
        """Make the boundaries reach from at or before ``ms`` to strictly after it."""
        b = self._bounds
        if not b:
            b.append(self._floor(ms))
        if ms < b[0]:
            head = [self._floor(ms)]
            while self._next(head[-1]) < b[0]:
                head.append(self._next(head[-1]))
            b[:0] = head
        while b[-1] <= ms:
            b.append(self._next(b[-1]))

    def start_of(self, ms: int) -> int:
        """UTC epoch ms of the start of the interval ``ms`` falls in."""
        self._cover(ms)
        b = self._bounds
        return b[bisect_right(b, ms) - 1]

    def split(self, start: int, end: int) -> list[tuple[int, int]]:
        """[start, end) cut at the interval boundaries: (interval start, ms inside it), none empty."""
        if end <= start:
            return []
        self._cover(start)
        self._cover(end)
        b = self._bounds
        i = bisect_right(b, start) - 1
        out: list[tuple[int, int]] = []
        while b[i] < end:
            piece = min(end, b[i + 1]) - max(start, b[i])
            if piece > 0:
                out.append((b[i], piece))
            i += 1
        return out

    def intervals(self, start: int, end: int) -> list[int]:
        """Starts of every interval overlapping [start, end)."""
        return [b for b, _ in self.split(start, end)]

    def local_label(self, b: int) -> str:
        """The interval start on the local wall clock with its UTC offset (2026-03-08T03:00:00-04:00)."""
        text = self._labels.get(b)
        if text is None:
            text = datetime.fromtimestamp(b // MS_PER_S, self.zone).isoformat()
            self._labels[b] = text
        return text

    def grain(self, b: int) -> dict[str, Any]:
        """The interval columns of a row."""
        return {
            "interval_start_ts": ts_str(b),
            "interval_start_local": self.local_label(b),
            "date_time_key": b // MS_PER_S,
        }


# ---------------------------------------------------------------------- thresholds
def _seconds(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Service-level and short-abandon thresholds in seconds (compared to exact ms, both ≤)."""

    service_level_s: int | float = DEFAULT_SERVICE_LEVEL_S
    short_abandon_s: int | float = DEFAULT_SHORT_ABANDON_S

    @property
    def service_level_ms(self) -> int:
        return round(self.service_level_s * MS_PER_S)

    @property
    def short_abandon_ms(self) -> int:
        return round(self.short_abandon_s * MS_PER_S)


# queue -> [(effective from, epoch ms; service level s; short abandon s), ...]
ThresholdSchedule = Mapping[str, Sequence[tuple[int, float, float]]]


class ThresholdsInForce:
    """The thresholds of a queue at an instant: the last schedule entry effective at or before it,
    else the default (the settings)."""

    def __init__(self, schedule: ThresholdSchedule | None = None, default: Thresholds | None = None) -> None:
        d = default or Thresholds()
        self.default = Thresholds(_seconds(d.service_level_s), _seconds(d.short_abandon_s))
        self._starts: dict[str, list[int]] = {}
        self._values: dict[str, list[Thresholds]] = {}
        for queue, entries in (schedule or {}).items():
            ordered = sorted(entries, key=lambda e: e[0])
            self._starts[queue] = [e[0] for e in ordered]
            self._values[queue] = [Thresholds(_seconds(e[1]), _seconds(e[2])) for e in ordered]

    def at(self, queue: str, t: int) -> Thresholds:
        starts = self._starts.get(queue)
        if not starts:
            return self.default
        i = bisect_right(starts, t) - 1
        return self.default if i < 0 else self._values[queue][i]


# ---------------------------------------------------------------------- time ranges
@dataclass(frozen=True, slots=True)
class TimeRange:
    """One TIME_RANGE row: [start, end) in seconds; ``end_s`` None = open."""

    key: int
    name: str
    start_s: int
    end_s: int | None


@cache
def time_ranges(path: Path = TIME_RANGE_SEED) -> tuple[TimeRange, ...]:
    """The TIME_RANGE seed, ordered by start; checked to tile [0, open) without gaps."""
    with open(path, newline="") as f:
        rows = [
            TimeRange(
                int(r["time_range_key"]),
                r["time_range_name"],
                int(r["range_start"]),
                int(r["range_end"]) if r["range_end"] else None,
            )
            for r in csv.DictReader(f)
        ]
    rows.sort(key=lambda r: r.start_s)
    if not rows or rows[0].start_s != 0 or rows[-1].end_s is not None:
        raise ValueError(f"{path}: the ranges must start at 0 and end open")
    for a, b in pairwise(rows):
        if a.end_s != b.start_s:
            raise ValueError(f"{path}: range {a.key} ends at {a.end_s}, the next starts at {b.start_s}")
    return tuple(rows)


def time_range_key(ms: int) -> int:
    """The key of the range [start, end) that ``ms`` (exact milliseconds) falls in."""
    ranges = time_ranges()
    starts = _range_starts_ms()
    return ranges[bisect_right(starts, ms) - 1].key


@cache
def _range_starts_ms() -> list[int]:
    return [r.start_s * MS_PER_S for r in time_ranges()]


# ---------------------------------------------------------------------- queue stays
@dataclass(slots=True)
class QueueStay:
    """One ended MSF row with its outcome and, when accepted, its target's times."""

    queue: str
    media: str
    interaction_type: str
    start: int
    duration_ms: int
    outcome: str  # one of QUEUE_OUTCOMES
    accepted_ms: int = 0
    engage_ms: int = 0
    hold_ms: int = 0
    wrap_ms: int = 0


def interaction_type_of(p: Party) -> str:
    """INTERACTION_TYPE of the thread: its first call's type (Inbound, Outbound, Internal)."""
    return p.call.thread.calls[0].call_type


def voice_stay(qp: Party, irf: Mapping[int, dict[str, Any]]) -> QueueStay | None:
    """The stay of queue party ``qp``; None while it (or its target) has not ended.

    ``irf`` maps id(party) to its IRF ledger row (ledger.party_row).
    """
    if qp.queued is None or qp.queue is None:
        return None
    end = qp.diverted if qp.diverted is not None else qp.released
    if end is None:
        return None
    dur = end - qp.queued
    stay = QueueStay(qp.queue, "voice", interaction_type_of(qp), qp.queued, dur, "routed_other")
    if qp.result == "Abandoned":
        stay.outcome = "abandoned"
        return stay
    if qp.result == "Cleared":
        stay.outcome = "cleared"
        return stay
    target = qp.target
    row = irf.get(id(target)) if target is not None else None
    if target is None or row is None:
        return stay  # a target without an IRF row (not an agent, IVR or extension)
    if target.released is None:
        return None
    if target.agent is not None and row["talk_count"] == 1:
        stay.outcome = "accepted"
        stay.accepted_ms = dur + row["ring_ms"]
        stay.engage_ms = row["talk_ms"]
        stay.hold_ms = row["hold_ms"]
        stay.wrap_ms = row["acw_ms"] or 0
    elif (row["technical_result"], row["result_reason"]) == ("Abandoned", "AbandonedWhileRinging"):
        stay.outcome = "abandoned_invite"
    elif row["technical_result"] in ("Redirected", "Rejected") and row["talk_count"] == 0:
        stay.outcome = "redirected"
    return stay


def digital_stays(itx: Itx) -> list[QueueStay]:
    """The ended stays of a digital interaction: Queued -> the Accepted of an offer (accepted,
    with the offer's engage time), or -> Completed (Abandoned: abandoned; Expired or Cancelled:
    cleared). Offers rejected or timed out stay inside the segment."""
    accepted = {o.outcome_ts: o for o in itx.offers if o.outcome == "Accepted"}
    out: list[QueueStay] = []
    for queue, start, end in itx.stays:
        if end is None:
            continue
        stay = QueueStay(queue, itx.media, "Inbound", start, end - start, "routed_other")
        offer = accepted.get(end)
        if offer is not None:
            if offer.end is None:
                continue  # the target has not ended yet
            assert offer.outcome_ts is not None
            stay.outcome = "accepted"
            stay.accepted_ms = stay.duration_ms
            stay.engage_ms = offer.end - offer.outcome_ts
        elif end == itx.completed and itx.reason == "Abandoned":
            stay.outcome = "abandoned"
        elif end == itx.completed and itx.reason in ("Expired", "Cancelled"):
            stay.outcome = "cleared"
        out.append(stay)
    return out


def _max(a: int | None, b: int) -> int:
    return b if a is None or b > a else a


def queue_interval_rows(
    stays: Iterable[QueueStay], clock: ReportingClock, thresholds: ThresholdsInForce
) -> list[dict[str, Any]]:
    """ag2_queue_subhr: stays summed in the interval of their entry, per thresholds in force then."""
    acc: dict[tuple[int, str, str, str, int | float, int | float], dict[str, Any]] = {}
    for s in stays:
        thr = thresholds.at(s.queue, s.start)
        key = (clock.start_of(s.start), s.queue, s.media, s.interaction_type, *_thr_key(thr))
        row = acc.get(key)
        if row is None:
            row = dict.fromkeys(QUEUE_MEASURES, 0)
            row["accepted_time_max_ms"] = row["abandoned_time_max_ms"] = None
            acc[key] = row
        row["entered"] += 1
        row[s.outcome] += 1
        if s.outcome in DISTRIBUTED:
            row["distributed"] += 1
        if s.outcome == "accepted":
            row["accepted_time_ms"] += s.accepted_ms
            row["accepted_time_max_ms"] = _max(row["accepted_time_max_ms"], s.accepted_ms)
            row["accepted_thr"] += s.accepted_ms <= thr.service_level_ms
            row["engage_time_ms"] += s.engage_ms
            row["hold_time_ms"] += s.hold_ms
            row["wrap_time_ms"] += s.wrap_ms
            row["handle_time_ms"] += s.engage_ms + s.hold_ms + s.wrap_ms
        elif s.outcome == "abandoned":
            row["abandoned_time_ms"] += s.duration_ms
            row["abandoned_time_max_ms"] = _max(row["abandoned_time_max_ms"], s.duration_ms)
            row["abandoned_short"] += s.duration_ms <= thr.short_abandon_ms
    out = []
    for (b, queue, media, itype, sl, sa), row in sorted(acc.items(), key=lambda kv: kv[0]):
        answerable = row["accepted"] + row["abandoned"] + row["abandoned_invite"] - row["abandoned_short"]
        out.append(
            {
                **clock.grain(b),
                "queue": queue,
                "media_type": media,
                "interaction_type": itype,
                "service_level_threshold": sl,
                "short_abandon_threshold": sa,
                **row,
                "service_level": ratio(row["accepted_thr"], answerable),
            }
        )
    return out


def ratio(part: int, whole: int) -> float | None:
    """A row's ratio from its own exact parts; null when the denominator is 0."""
    return part / whole if whole else None


def _thr_key(thr: Thresholds) -> tuple[int | float, int | float]:
    return thr.service_level_s, thr.short_abandon_s


def wait_distribution_rows(
    stays: Iterable[QueueStay], clock: ReportingClock, outcome: str
) -> list[dict[str, Any]]:
    """ag2_queue_abn (outcome ``abandoned``, by MEDIATION_DURATION) or ag2_queue_acc_agent
    (``accepted``, by accepted time): counts per entry interval and TIME_RANGE."""
    acc: dict[tuple[int, str, str, str, int], int] = {}
    for s in stays:
        if s.outcome != outcome:
            continue
        wait = s.accepted_ms if outcome == "accepted" else s.duration_ms
        key = (clock.start_of(s.start), s.queue, s.media, s.interaction_type, time_range_key(wait))
        acc[key] = acc.get(key, 0) + 1
    return [
        {
            **clock.grain(b),
            "queue": queue,
            "media_type": media,
            "interaction_type": itype,
            "time_range_key": trk,
            outcome: n,
        }
        for (b, queue, media, itype, trk), n in sorted(acc.items())
    ]


# ---------------------------------------------------------------------- agent handling
@dataclass(slots=True)
class Handling:
    """One ended agent IRF row (voice party or digital offer) and what it adds to ag2_agent."""

    agent_id: str
    media: str
    interaction_type: str
    start: int
    measures: dict[str, int]


def agent_measures(row: Mapping[str, Any], consult: bool) -> dict[str, int]:
    """What one IRF row (ledger.party_row's fields) adds to its agent's ag2_agent row."""
    talk = row["talk_ms"]
    role = row["resource_role"]
    if consult:  # a consultation call's rows feed only consult_*
        if role == "ReceivedConsult":
            return {
                "consult_offered": 1,
                "consult_accepted": row["talk_count"],
                "consult_engage_time_ms": talk,
            }
        return {"consult_engage_time_ms": talk}
    result = row["technical_result"]
    wrap_ms = row["acw_ms"] or 0
    m = {
        "engage_time_ms": talk,
        "hold": row["hold_count"],
        "hold_time_ms": row["hold_ms"],
        "wrap": row["acw_count"],
        "wrap_time_ms": wrap_ms,
        "handle_time_ms": talk + row["hold_ms"] + wrap_ms,
        "transfer_init": int(result == "Transferred"),
        "consult_init": row["cons_init_count"],
    }
    if role in OFFERED_ROLES:
        accepted = row["talk_count"]
        m["offered"] = 1
        m["accepted"] = accepted
        m["rejected"] = int(result == "Rejected")
        m["redirected"] = int(result == "Redirected")
        m["abandoned_invite"] = int((result, row["result_reason"]) == ("Abandoned", "AbandonedWhileRinging"))
        m["invite_time_ms"] = row["ring_ms"]
        m["xfer_received_accepted"] = accepted if role == "ReceivedTransfer" else 0
        m["conf_received_accepted"] = accepted if role == "ReceivedConference" else 0
    elif role == "Initiated":
        m["initiated"] = 1
        m["dial_time_ms"] = row["dial_ms"]
    return m


def voice_handling(p: Party, row: Mapping[str, Any]) -> Handling | None:
    """The ag2_agent contribution of agent party ``p`` (None for other parties and open ones)."""
    if p.agent is None or p.released is None:
        return None
    consult = p.call.call_type == "Consult"
    return Handling(p.agent.agent_id, "voice", interaction_type_of(p), p.added, agent_measures(row, consult))


def offer_row(o: Offer, first_transfer: int | None) -> dict[str, Any] | None:
    """An offer's IRF row in ledger.party_row's fields (MEASURES.md, digital); None while open.

    ``first_transfer``: the ts of the interaction's first Transferred (role ReceivedTransfer for
    offers made after it)."""
    if o.end is None:
        return None
    itx = o.itx
    role = "ReceivedTransfer" if first_transfer is not None and o.offered > first_transfer else "Received"
    talk_count = talk_ms = 0
    reason = "Unspecified"
    if o.outcome == "Accepted":
        assert o.outcome_ts is not None
        talk_count, talk_ms = 1, o.end - o.outcome_ts
        result = "Transferred" if o.end_kind == "Transferred" else "Completed"
        ring_ms = o.outcome_ts - o.offered
    else:
        ring_ms = (o.outcome_ts if o.outcome_ts is not None else o.end) - o.offered
        if o.outcome == "Rejected":
            result = "Rejected"
        elif o.outcome == "OfferTimedOut":
            result, reason = "Redirected", "NoAnswer"
        elif itx.reason == "Abandoned":
            result, reason = "Abandoned", "AbandonedWhileRinging"
        else:
            result = "Cleared"  # the interaction completed (Expired, Cancelled) while offered
    return {
        "resource_role": role,
        "technical_result": result,
        "result_reason": reason,
        "ring_ms": ring_ms,
        "dial_ms": 0,
        "talk_count": talk_count,
        "talk_ms": talk_ms,
        "hold_count": 0,
        "hold_ms": 0,
        "acw_count": 0,
        "acw_ms": 0,
        "cons_init_count": 0,
    }


def digital_handlings(itx: Itx) -> list[Handling]:
    transfers = [o.end for o in itx.offers if o.end_kind == "Transferred" and o.end is not None]
    first_transfer = min(transfers) if transfers else None
    out = []
    for o in itx.offers:
        row = offer_row(o, first_transfer)
        if row is not None:
            measures = agent_measures(row, consult=False)
            out.append(Handling(o.agent.agent_id, itx.media, "Inbound", o.offered, measures))
    return out


def agent_interval_rows(handlings: Iterable[Handling], clock: ReportingClock) -> list[dict[str, Any]]:
    """ag2_agent_subhr: IRF rows summed in the interval of their START_TS (party added / Offered)."""
    acc: dict[tuple[int, str, str, str], dict[str, int]] = {}
    for h in handlings:
        key = (clock.start_of(h.start), h.agent_id, h.media, h.interaction_type)
        row = acc.get(key)
        if row is None:
            row = acc[key] = dict.fromkeys(AGENT_MEASURES, 0)
        for k, v in h.measures.items():
            row[k] += v
    return [
        {**clock.grain(b), "agent_id": agent, "media_type": media, "interaction_type": itype, **row}
        for (b, agent, media, itype), row in sorted(acc.items())
        if any(row.values())
    ]


# ---------------------------------------------------------------------- agent-state spans
# (agent_id, media, measure column, start, end or None while open)
Span = tuple[str, str, str, int, int | None]


def agent_state_interval_rows(
    spans: Iterable[Span], clock: ReportingClock, horizon: int
) -> list[dict[str, Any]]:
    """ag2_i_sess_state_subhr: session and state spans split exactly across the intervals they
    overlap; an open span runs to ``horizon`` (the data horizon)."""
    acc: dict[tuple[int, str, str], dict[str, int]] = {}
    for agent, media, column, start, end in spans:
        for b, ms in clock.split(start, horizon if end is None else end):
            key = (b, agent, media)
            row = acc.get(key)
            if row is None:
                row = acc[key] = dict.fromkeys(STATE_MEASURES, 0)
            row[column] += ms
    return [
        {
            **clock.grain(b),
            "agent_id": agent,
            "media_type": media,
            **row,
            "occupancy": ratio(
                row["busy_time_ms"] + row["wrap_time_ms"],
                row["busy_time_ms"] + row["wrap_time_ms"] + row["ready_time_ms"],
            ),
        }
        for (b, agent, media), row in sorted(acc.items())
        if any(row.values())
    ]
