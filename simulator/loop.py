"""The discrete-event loop: a heap of (time ms, insertion number, callback, args)."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any


class EventLoop:
    """Runs callbacks in (time, insertion) order; ``now`` is the time of the running callback."""

    __slots__ = ("_heap", "_n", "now")

    def __init__(self, start_ms: int) -> None:
        self.now = start_ms
        self._heap: list[tuple[int, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._n = 0

    def at(self, t: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` at time ``t`` (never earlier than now)."""
        if t < self.now:
            t = self.now
        self._n += 1
        heapq.heappush(self._heap, (t, self._n, fn, args))

    def after(self, delay_ms: int, fn: Callable[..., Any], *args: Any) -> None:
        self.at(self.now + delay_ms, fn, *args)

    def __len__(self) -> int:
        return len(self._heap)

    def pop(self) -> tuple[int, Callable[..., Any], tuple[Any, ...]]:
        t, _, fn, args = heapq.heappop(self._heap)
        return t, fn, args
