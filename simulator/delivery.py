"""Delivery options applied to the finished stream (never to the simulation or the ledger).

* ``shuffle``: ``"window"`` shuffles the delivery order inside consecutive windows of
  ``shuffle_window`` messages; ``"full"`` shuffles everything.
* ``late_share``: that share of the messages is taken out and delivered after all the others
  (in their original relative order), as if they arrived hours late; their ``ts`` is unchanged.

Both use their own random stream, derived from the seed.
"""

from __future__ import annotations

import random

from .emitter import Delivery


def apply_delivery(
    deliveries: list[Delivery], seed: int, shuffle_mode: str, window: int, late_share: float
) -> tuple[list[Delivery], int]:
    """Return the delivery order and the number of late messages."""
    out = deliveries
    if shuffle_mode == "full":
        rng = random.Random(f"{seed}/shuffle")
        out = list(out)
        rng.shuffle(out)
    elif shuffle_mode == "window":
        rng = random.Random(f"{seed}/shuffle")
        w = max(2, window)
        out = list(out)
        for i in range(0, len(out), w):
            chunk = out[i : i + w]
            rng.shuffle(chunk)
            out[i : i + w] = chunk
    late = 0
    if late_share > 0:
        rng = random.Random(f"{seed}/late")
        on_time: list[Delivery] = []
        late_list: list[Delivery] = []
        for d in out:
            (late_list if rng.random() < late_share else on_time).append(d)
        late = len(late_list)
        out = on_time + late_list
    return out, late
