"""Overlap reading/validating the next batch with landing the previous one.

One writer thread lands batches strictly in order, at most one in flight: memory stays at two
batches, and because every batch commits its rows with its source position in one
transaction, a crash still loses or repeats nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class OrderedBatchWriter:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="infomart-writer")
        self._pending: Future[None] | None = None

    def submit(self, land: Callable[[], None]) -> None:
        """Land a batch in the background, after the previous one has committed."""
        self.wait()
        self._pending = self._pool.submit(land)

    def wait(self) -> None:
        """Block until every submitted batch has committed; re-raise a landing error."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)
