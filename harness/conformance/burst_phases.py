"""Whether a limiter family still possible explains what a case's bursts on fresh keys admitted.

While the trace is held to no family, one burst admitting L+1 proves nothing: a fixed window's
boundary inside it lets 2L through. But aligned windows put that boundary at one phase for every
key (research §1.2: "identical phase (mod D) for every key"), so bursts at different phases of
the window cannot all straddle one; an anchored window starts at a fresh key's first request
(at most L within D); a token bucket admits at most L + L·H/D⁻ in a hull H. The case's bursts
are held to each family still possible together, and a violation is proved only when none
explains them all; the same test on bursts that each admitted L+1 says whether the bursts had
power against the smallest violation.

Each burst is placed on the wall clock (its keys may come from several processes), widened by
the boundary slack β and by the lattice's drift over the bursts' span (ρ·span) on each side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.conformance.buckets import Bucket
from harness.conformance.identify import Family
from harness.conformance.spec import RateSpec, Tolerance

__all__ = ["Shot", "allowance", "common_boundary", "refutation", "shots"]


@dataclass(frozen=True, slots=True)
class Shot:
    """One burst as the families see it: ``count`` admitted within ``[start_ns, end_ns]`` on
    the wall clock (its requests' hull, sent to received)."""

    count: int
    start_ns: int
    end_ns: int

    @property
    def hull_ns(self) -> int:
        return self.end_ns - self.start_ns


def shots(buckets: Sequence[Bucket], counts: Sequence[int]) -> list[Shot]:
    """Each burst's hull on the wall clock, with the count the families are held to."""
    return [
        Shot(count, int(b.lo.min()) + b.wall_of_zero_ns, int(b.hi.max()) + b.wall_of_zero_ns)
        for b, count in zip(buckets, counts, strict=True)
        if len(b)
    ]


def allowance(family: Family, limit: int, hull_ns: int, short: int) -> int:
    """The most a burst of hull H on a fresh key may have admitted under ``family`` (a fixed
    window: with a boundary inside, which ``common_boundary`` must still find)."""
    any_family = limit * (math.ceil(hull_ns / short) + 1)
    if hull_ns >= short:
        return any_family
    if family is Family.TOKEN_BUCKET:
        return math.floor(limit + limit * hull_ns / short)
    if family is Family.FIXED_WINDOW:
        return 2 * limit
    return limit  # a sliding log, or an anchored window started by the burst's first request


def common_boundary(arcs: Sequence[Shot], period: int, slack: int) -> bool:
    """Whether one lattice ``φ + m·period`` has a point inside every shot (widened by
    ``slack``). The arcs' intersection on the circle, when not empty, starts at one of their
    starts: so it is enough to try each start against every arc."""
    lengths = np.array([shot.hull_ns + 2 * slack for shot in arcs], dtype=np.int64)
    starts = np.array([shot.start_ns - slack for shot in arcs], dtype=np.int64)
    partial = lengths < period  # an arc as long as the period holds every phase
    starts, lengths = starts[partial] % period, lengths[partial]
    if len(starts) < 2:
        return True
    offsets = (starts[:, None] - starts[None, :]) % period  # try start i in arc j
    return bool(np.any(np.all(offsets <= lengths[None, :], axis=1)))


def refutation(
    family: Family, rate: RateSpec, fired: Sequence[Shot], tolerance: Tolerance
) -> str | None:
    """Why ``family`` cannot explain these bursts' admissions, or None when it can."""
    limit, short = rate.limit, tolerance.short(rate.duration_ns)
    beyond = [shot for shot in fired if shot.count > allowance(family, limit, shot.hull_ns, short)]
    if beyond:
        most = max(beyond, key=lambda shot: shot.count)
        allowed = allowance(family, limit, most.hull_ns, short)
        return f"{family.value} admits at most {allowed} in a burst of {most.hull_ns / 1e9:.3g} s"
    if family is not Family.FIXED_WINDOW:
        return None
    straddling = [shot for shot in fired if shot.count > limit and shot.hull_ns < short]
    span = max(s.end_ns for s in fired) - min(s.start_ns for s in fired) if fired else 0
    slack = tolerance.boundary_ns + math.ceil(tolerance.rate_error * (span + rate.duration_ns))
    if common_boundary(straddling, rate.duration_ns, slack):
        return None
    return (
        f"{family.value} would need a window boundary inside each of {len(straddling)} bursts "
        f"admitting more than {limit}, and they lie at different phases of the "
        f"{rate.canonical_duration} window"
    )
