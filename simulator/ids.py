"""Identifiers of the entities a run creates.

Entity ids embed the run tag (a hash of seed, start and configuration) so that runs never
collide; configuration names (agent ids, DNs, queues, reason codes, campaigns) do not, so
several simulated days share one configuration.
"""

from __future__ import annotations


class IdFactory:
    """Sequential, run-tagged ids: ``c-<tag>-00000001`` (call), ``t-`` (thread), ``p-`` (party),
    ``i-`` (digital interaction), ``r-`` (outbound record), ``ch-`` (outbound chain)."""

    __slots__ = ("_c", "_ch", "_i", "_p", "_r", "_t", "tag")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self._c = self._t = self._p = self._i = self._r = self._ch = 0

    def call(self) -> str:
        self._c += 1
        return f"c-{self.tag}-{self._c:08d}"

    def thread(self) -> str:
        self._t += 1
        return f"t-{self.tag}-{self._t:08d}"

    def party(self) -> str:
        self._p += 1
        return f"p-{self.tag}-{self._p:09d}"

    def itx(self) -> str:
        self._i += 1
        return f"i-{self.tag}-{self._i:08d}"

    def record(self) -> str:
        self._r += 1
        return f"r-{self.tag}-{self._r:07d}"

    def chain(self) -> str:
        self._ch += 1
        return f"ch-{self.tag}-{self._ch:07d}"


def agent_id(i: int) -> str:
    """Stable agent id of the i-th agent (1-based): ``agent0001``."""
    return f"agent{i:04d}"


def agent_dn(i: int) -> str:
    """Stable extension DN of the i-th agent (1-based): ``70001``."""
    return f"{70000 + i}"


def place_name(i: int) -> str:
    return f"Place_{i:04d}"
