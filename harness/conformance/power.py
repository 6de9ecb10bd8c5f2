"""Detection power: whether a run's traffic could have revealed the violation a check looks for.

A check that found nothing has only passed where a violation would have shown: a key that never
offered more than its limit in a window cannot prove over-admission, whatever the target does.
Each test here is a necessary condition for its check to fire, stated with the check's own
inequalities (``intervals.py``) over every request the target decided (admitted or not): had the
target been faulty, these requests could have proved it. Where a case meant to exercise a check
has no key with power, the check is inconclusive and says why (what the key offered, how long
its admitted answers took) and what to change.

Necessary, not sufficient: power is claimed only where the traffic was there, so a check is
never reported as passing on a case that could not have failed it (the sound side).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from harness.conformance.buckets import ADMITTED, OTHER, THROTTLED, Bucket
from harness.conformance.intervals import tight_windows
from harness.conformance.spec import Tolerance

__all__ = [
    "CasePower",
    "busiest_window",
    "case_power",
    "offered_over_limit",
    "shared_over_limit",
]


@dataclass(frozen=True, slots=True)
class CasePower:
    """A case's keys with and without power for one check, and why the others had none."""

    case: str
    with_power: int
    without_power: int
    reason: str  # "" when some key had power

    @property
    def powered(self) -> bool:
        return self.with_power > 0


def _decided(bucket: Bucket) -> np.ndarray:
    """The requests the target answered with a decision (not unanswered, not a 5xx)."""
    return np.flatnonzero(bucket.code != OTHER)


def busiest_window(bucket: Bucket, tolerance: Tolerance) -> int:
    """The most requests of the key that surely lie within one window shorter than the
    target's duration (each request's instant somewhere in its [lo, hi])."""
    decided = _decided(bucket)
    lo, hi = bucket.lo[decided], bucket.hi[decided]
    short = tolerance.short(bucket.rate.duration_ns)
    # A run of ``size`` fits when one of ``size + 1`` does: bisect the largest that fits.
    fits, fails = 0, len(lo) + 1
    while fails - fits > 1:
        size = (fits + fails) // 2
        if len(tight_windows(lo, hi, size, short)):
            fits = size
        else:
            fails = size
    return fits


def offered_over_limit(bucket: Bucket, tolerance: Tolerance) -> bool:
    """More than ``limit`` requests of this key surely within one window: a target admitting
    them all could be proved over its limit (over-admission, a rotated key's vary-isolation)."""
    decided = _decided(bucket)
    rate = bucket.rate
    runs = tight_windows(
        bucket.lo[decided], bucket.hi[decided], rate.limit + 1, tolerance.short(rate.duration_ns)
    )
    return bool(len(runs))


def shared_over_limit(buckets: list[Bucket], tolerance: Tolerance) -> bool:
    """More than one key's ``limit`` requests of the case's keys together surely within one
    window: had the target counted them in one budget, some key would have been throttled with
    budget left (vary-isolation of distinct keys). Keys of several processes meet on the wall
    clock, each interval widened by the worker's clock-offset error already (``buckets``) and by
    the boundary slack for the frame's drift between the two clocks."""
    if len(buckets) < 2:
        return False
    slack = tolerance.boundary_ns
    lo = np.concatenate([b.lo[_decided(b)] + b.wall_of_zero_ns - slack for b in buckets])
    hi = np.concatenate([b.hi[_decided(b)] + b.wall_of_zero_ns + slack for b in buckets])
    order = np.argsort(lo, kind="stable")
    rate = buckets[0].rate
    runs = tight_windows(lo[order], hi[order], rate.limit + 1, tolerance.short(rate.duration_ns))
    return bool(len(runs))


def admitted_latency_s(buckets: Iterable[Bucket]) -> float | None:
    """The median time an admitted answer took in these keys (for the reason's words)."""
    spans = [b.hi[b.code == ADMITTED] - b.lo[b.code == ADMITTED] for b in buckets]
    joined = np.concatenate(spans) if spans else np.empty(0)
    return float(np.median(joined)) / 1e9 if len(joined) else None


def case_power(
    case: str,
    buckets: list[Bucket],
    has_power: list[bool],
    tolerance: Tolerance,
    remedy: str,
) -> CasePower:
    """A case's power for one check from each key's; the reason names what the keys offered."""
    with_power = sum(has_power)
    if with_power or not buckets:
        return CasePower(case, with_power, len(buckets) - with_power, "")
    rate = buckets[0].rate
    most = max(busiest_window(bucket, tolerance) for bucket in buckets)
    latency = admitted_latency_s(buckets)
    took = f": admitted answers took p50 {latency:.3g} s" if latency is not None else ""
    reason = (
        f"case {case!r} never offered more than its limit ({rate.limit} per "
        f"{rate.canonical_duration}) in a window, at most {most}{took}; {remedy}"
    )
    return CasePower(case, 0, len(buckets), reason)


def throttled(bucket: Bucket) -> bool:
    """The key met its limit: the answers that echo the configuration could be judged."""
    return bool(np.any(bucket.code == THROTTLED))
