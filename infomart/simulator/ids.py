"""Identifiers of the entities a run creates.

Entity ids embed the run tag (a hash of seed, start and configuration) so that runs never
collide; configuration names (agent ids, DNs, queues, reason codes, campaigns) do not, so
several simulated days share one configuration.
"""

from __future__ import annotations


class IdFactory:
    """Sequential, run-tagged ids: ``c-<tag>-00000001`` (call), ``t-`` (thread), ``p-`` (party),
    ``i-`` (digital interaction), ``r-`` (outbound record), ``ch-`` (outbound chain)."""

    __slots__ = ("_n", "tag")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self._n = {"c": 0, "t": 0, "p": 0, "i": 0, "r": 0, "ch": 0}

    def _next(self, kind: str, width: int) -> str:
        n = self._n[kind] + 1
        self._n[kind] = n
        return f"{kind}-{self.tag}-{n:0{width}d}"

    def call(self) -> str:
        return self._next("c", 8)

    def thread(self) -> str:
        return self._next("t", 8)

    def party(self) -> str:
        return self._next("p", 9)

    def itx(self) -> str:
        return self._next("i", 8)

    def record(self) -> str:
        return self._next("r", 7)

    def chain(self) -> str:
        return self._next("ch", 7)


def agent_id(i: int) -> str:
    """Stable agent id of the i-th agent (1-based): ``agent0001``."""
    return f"agent{i:04d}"


def agent_dn(i: int) -> str:
    """Stable extension DN of the i-th agent (1-based): ``70001``."""
    return f"{70000 + i}"


def place_name(i: int) -> str:
    return f"Place_{i:04d}"
