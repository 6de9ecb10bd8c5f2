"""When an open-model key's requests are meant to leave: its schedule, whatever the answers do.

Constant arrivals are evenly spaced at 1/rate; Poisson arrivals have exponential gaps of mean
1/rate, drawn from a generator seeded by the run and the slot, so a run's schedule is the same on
every replay of its settings. Instants are on the sending process's monotonic clock.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Literal

__all__ = ["arrival_instants", "schedule_seed"]

NS = 1_000_000_000


def schedule_seed(run_id: str, slot_index: int) -> int:
    """A seed of the slot's schedule: different per slot, the same for a run's every replay
    (Python's ``hash`` of a string changes from process to process)."""
    digest = hashlib.blake2b(f"{run_id}/{slot_index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def arrival_instants(
    start_ns: int,
    end_ns: int,
    rate: float,
    arrivals: Literal["constant", "poisson"],
    seed: int,
) -> Iterator[int]:
    """The intended send instants in ``[start_ns, end_ns)``: the first at ``start_ns``."""
    if rate <= 0:
        return
    mean_gap_ns = NS / rate
    draw = random.Random(seed)
    elapsed = 0.0
    while (instant := start_ns + round(elapsed)) < end_ns:
        yield instant
        elapsed += draw.expovariate(1.0) * mean_gap_ns if arrivals == "poisson" else mean_gap_ns
