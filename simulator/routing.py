"""Voice routing: FIFO virtual queues and the pool of Ready, idle agents.

A call waits in its virtual queue (one queue party = one stay). It goes to the longest-idle
available agent that has the queue among its ACD queues; an agent who becomes available takes
the oldest waiting call of its queues. Selection ties break on the agent index, so the choice
never depends on hashing.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Agent, Party
    from .simulation import Simulation


def _rank(a: Agent) -> tuple[int, int]:
    return (a.idle_since, a.idx)


class VoiceRouter:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.available: set[Agent] = set()
        self.waiting: dict[str, deque[Party]] = {q: deque() for q in sim.cfg.voice_queues}

    def enqueue(self, qp: Party) -> None:
        qp.waiting = True
        assert qp.queue is not None
        self.waiting[qp.queue].append(qp)

    @staticmethod
    def remove(qp: Party) -> None:
        qp.waiting = False  # dropped lazily from the deque

    def _head(self, q: str) -> Party | None:
        dq = self.waiting[q]
        while dq and not dq[0].waiting:
            dq.popleft()
        return dq[0] if dq else None

    def best_agent(self, q: str) -> Agent | None:
        cands = [a for a in self.available if q in a.queue_set]
        return min(cands, key=_rank) if cands else None

    def any_agent(self, exclude: Agent | None = None, outbound_only: bool = False) -> Agent | None:
        cands = [a for a in self.available if a is not exclude and (a.outbound or not outbound_only)]
        return min(cands, key=_rank) if cands else None

    def agent_available(self, a: Agent) -> None:
        """A newly available agent takes the oldest waiting call of its queues."""
        best: Party | None = None
        for q in a.queues:
            h = self._head(q)
            if h is not None and (
                best is None or (h.queued or 0, h.party_id) < (best.queued or 0, best.party_id)
            ):
                best = h
        if best is not None:
            self.sim.voice.deliver(best, a)

    def try_route(self, qp: Party) -> None:
        """Routing's first attempt for a newly queued call (after the strategy's short delay)."""
        if not qp.waiting or qp.queue is None:
            return
        a = self.best_agent(qp.queue)
        if a is not None:
            self.sim.voice.deliver(qp, a)
