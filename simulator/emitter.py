"""Turns simulated happenings into contract events (EVENTS.md), in event-time order.

Five topics: ``gca-cfg`` is not the simulator's; its configuration changes go through the
Configuration Database and the config adapter (see cfgevents.py).

Handlers emit events with a time at or after the loop's ``now``. The emitter keeps them in a
small heap and releases them once the simulation clock has moved past their time, so the
stream comes out ordered by (ts, emission order). At release each event gets its source's
next ``seq`` and its globally unique ``id`` (``<family>-<run tag>-<n:09d>``, n counting per
source family), and is serialised once with orjson.

With ``redundant_sources`` the HA peer ``sip-b`` repeats a share of the voice events (both
voice topics): same ``id`` and payload, its own ``source`` and its own ``seq`` (+1 per copy).
The copy follows the original in the base delivery order.
"""

from __future__ import annotations

import heapq
import random
from typing import Any, NamedTuple

import orjson

from .timefmt import ts_str

TOPICS: tuple[str, ...] = (
    "voice-callthread",
    "voice-agentstate",
    "digital-itx",
    "digital-agentstate",
    "voice-outbound",
)
VOICE_CALL, VOICE_AGENT, DIGITAL_ITX, DIGITAL_AGENT, OUTBOUND = range(5)
SOURCE_OF: tuple[str, ...] = ("sip-a", "sip-a", "ixn-a", "ixn-a", "ocs-a")
FAMILY_OF: tuple[str, ...] = ("sip", "sip", "ixn", "ixn", "ocs")
PEER_SOURCE = "sip-b"


class Delivery(NamedTuple):
    """One message as it is delivered: logical topic, Kafka key, compact JSON bytes."""

    topic: str
    key: str
    value: bytes


class Emitter:
    """Orders, numbers, serialises and (optionally) duplicates events."""

    def __init__(self, tenant: str, tag: str, redundant: bool, redundant_share: float, seed: int) -> None:
        self.tenant = tenant
        self._tenant_json = orjson.dumps(tenant).decode()
        self.tag = tag
        self._buf: list[tuple[int, int, int, str, str, dict[str, Any]]] = []
        self._n = 0
        self.deliveries: list[Delivery] = []
        self._seq: dict[str, int] = {}
        self._fam_n: dict[str, int] = {}
        self._redundant = redundant
        self._red_share = redundant_share
        self._red_rng = random.Random(f"{seed}/redundant")
        self.type_counts: dict[tuple[str, str], int] = {}
        self.event_count = 0
        self.copy_count = 0
        self.last_ts = -1
        self.first_ts: int | None = None

    def emit(self, ts: int, topic: int, key: str, type_: str, payload: dict[str, Any]) -> None:
        """Queue an event at ``ts`` (epoch ms) on ``topic`` (index into TOPICS) with Kafka ``key``."""
        self._n += 1
        heapq.heappush(self._buf, (ts, self._n, topic, key, type_, payload))

    def flush_before(self, t: int) -> None:
        """Release every queued event with a time before ``t``."""
        buf = self._buf
        while buf and buf[0][0] < t:
            self._out(*heapq.heappop(buf))

    def flush_all(self) -> None:
        buf = self._buf
        while buf:
            self._out(*heapq.heappop(buf))

    def _out(self, ts: int, _n: int, topic: int, key: str, type_: str, payload: dict[str, Any]) -> None:
        # The envelope is written as text (its fields are plain ASCII; the tenant is JSON-encoded
        # once) and the payload by orjson: the same bytes as orjson.dumps of the merged object.
        assert ts >= self.last_ts, "events must leave the emitter in time order"
        self.last_ts = ts
        if self.first_ts is None:
            self.first_ts = ts
        source = SOURCE_OF[topic]
        fam = FAMILY_OF[topic]
        seq = self._seq.get(source, 0) + 1
        self._seq[source] = seq
        n = self._fam_n.get(fam, 0) + 1
        self._fam_n[fam] = n
        ev_id = f"{fam}-{self.tag}-{n:09d}"
        tail = f'"ts":"{ts_str(ts)}","type":"{type_}","v":1'
        body = orjson.dumps(payload)
        body = (b"," + body[1:]) if len(body) > 2 else b"}"
        value = (
            f'{{"id":"{ev_id}","tenant":{self._tenant_json},"source":"{source}","seq":{seq},{tail}'.encode()
            + body
        )
        tname = TOPICS[topic]
        self.deliveries.append(Delivery(tname, key, value))
        self.event_count += 1
        tk = (tname, type_)
        self.type_counts[tk] = self.type_counts.get(tk, 0) + 1
        if self._redundant and topic <= VOICE_AGENT and self._red_rng.random() < self._red_share:
            pseq = self._seq.get(PEER_SOURCE, 0) + 1
            self._seq[PEER_SOURCE] = pseq
            copy = (
                f'{{"id":"{ev_id}","tenant":{self._tenant_json},"source":"{PEER_SOURCE}","seq":{pseq},{tail}'.encode()
                + body
            )
            self.deliveries.append(Delivery(tname, key, copy))
            self.copy_count += 1

    @property
    def seq_by_source(self) -> dict[str, int]:
        return dict(sorted(self._seq.items()))
