"""Which arrival rate an open-model sweep tries next, and what it found (GuideLLM's ``sweep``
with a bisection, as vLLM's SLA sweep refines a rate against a latency bound).

Pure. The sweep begins from two closed runs: a *synchronous* one (one request in flight: the
unloaded latency and the rate one client reaches) and a *throughput* one (many users: the most
the target completes per second). Then ``spread`` rates between the synchronous rate and
``OVERSHOOT`` times the throughput (so that one rate lies beyond what the target was seen to
complete), and bisection between the highest rate within the SLO below the lowest one outside
it, until the two are within ``PRECISION`` of each other. The capacity is that highest rate.

A rate within the SLO above one outside it (noise, or a target that recovers) does not move the
bracket: the capacity is never quoted above a rate that failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["OVERSHOOT", "PRECISION", "Bracket", "bracket", "next_rate", "spread"]

OVERSHOOT = 1.2
PRECISION = 0.05
MAX_BISECTIONS = 8


def spread(synchronous_rps: float, throughput_rps: float, count: int) -> list[float]:
    """``count`` rates evenly from above the synchronous rate to ``OVERSHOOT`` × throughput."""
    if count < 1:
        raise ValueError("count must be at least 1")
    low = max(synchronous_rps, 0.0)
    high = max(throughput_rps * OVERSHOOT, low * OVERSHOOT, 0.1)
    return [round(low + (high - low) * number / count, 3) for number in range(1, count + 1)]


@dataclass(frozen=True, slots=True)
class Bracket:
    """The highest rate within the SLO below the lowest rate outside it (either may be None)."""

    within: float | None
    outside: float | None

    @property
    def narrow(self) -> bool:
        """Within ``PRECISION``: the capacity is known to 5 %."""
        if self.within is None or self.outside is None:
            return False
        return self.outside <= self.within * (1 + PRECISION)


def bracket(tried: Sequence[tuple[float, bool]]) -> Bracket:
    """From ``(rate, within_slo)`` of every rate tried."""
    outside = min((rate for rate, ok in tried if not ok), default=None)
    within = max(
        (rate for rate, ok in tried if ok and (outside is None or rate < outside)), default=None
    )
    return Bracket(within, outside)


def next_rate(tried: Sequence[tuple[float, bool]], bisections: int) -> float | None:
    """The rate to try next, or None: the bracket is narrow, or cannot be narrowed.

    No rate outside the SLO: the target held every rate tried (the sweep's highest is already
    beyond what it completed in the throughput run), nothing to bisect. No rate within: even the
    lowest failed; bisect down towards zero so the sentence can say how low it had to go.
    """
    if bisections >= MAX_BISECTIONS:
        return None
    found = bracket(tried)
    if found.outside is None or found.narrow:
        return None
    low = found.within if found.within is not None else 0.0
    return round((low + found.outside) / 2, 3)
