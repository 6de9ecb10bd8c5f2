"""Which limiter family the target behaves like, read from the trace and its ``wait`` values.

The API only promises "at most ``limit`` messages per ``duration``"; sliding log, fixed window
(aligned or anchored) and token bucket all keep it, each in its own sense (research §1.2).
The evidence, in order:
- every ``wait`` at most D/L (and enough throttles to have seen a long one): a token bucket;
- no run of L+1 admissions inside one window: a sliding log (the strictest reading);
- retry instants on one lattice over several blocked periods: aligned fixed windows, phase known;
- otherwise: windows anchored at their first admission.
The trace is then held to that family strictly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from harness.conformance.buckets import ADMITTED, THROTTLED, Bucket
from harness.conformance.intervals import Phase, estimate_phase, tight_windows
from harness.conformance.spec import Tolerance

__all__ = ["Family", "Identification", "identify", "retry_bounds"]

# Fewer throttles than this cannot tell a token bucket from a window that is rarely reached.
MIN_THROTTLES_FOR_BUCKET = 10


class Family(StrEnum):
    TOKEN_BUCKET = "token-bucket"
    SLIDING_LOG = "sliding-log"
    FIXED_WINDOW = "fixed-window"
    ANCHORED_WINDOW = "anchored-window"
    UNDETERMINED = "undetermined"


@dataclass(frozen=True)
class Identification:
    family: Family
    reason: str
    phases: dict[tuple[str, str], Phase] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.family.value}: {self.reason}"


def retry_bounds(bucket: Bucket, tolerance: Tolerance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each throttle with a wait: its index, and the earliest and latest promised retry."""
    throttled = bucket.where(THROTTLED)
    throttled = throttled[~np.isnan(bucket.wait_ns[throttled])]
    wait = bucket.wait_ns[throttled]
    slack = tolerance.granularity_ns + tolerance.boundary_ns + tolerance.rate_error * wait
    return throttled, bucket.lo[throttled] + wait - slack, bucket.hi[throttled] + wait + slack


def identify(buckets: list[Bucket], tolerance: Tolerance) -> Identification:
    throttles = 0
    long_wait = False
    over_limit = False
    phases: dict[tuple[str, str], Phase] = {}
    falsified = confirmed = False
    for bucket in buckets:
        rate = bucket.rate
        throttled, retry_lo, retry_hi = retry_bounds(bucket, tolerance)
        throttles += len(throttled)
        bound = tolerance.long(rate.duration_ns) / rate.limit + tolerance.granularity_ns
        long_wait |= bool(len(throttled) and bucket.wait_ns[throttled].max() > bound)
        admitted = bucket.where(ADMITTED)
        short = tolerance.short(rate.duration_ns)
        runs = tight_windows(bucket.lo[admitted], bucket.hi[admitted], rate.limit + 1, short)
        over_limit |= bool(len(runs))
        span = float(bucket.hi.max() - bucket.lo.min()) if len(bucket) else 0.0
        drift = tolerance.rate_error * span
        phase = estimate_phase(retry_lo - drift, retry_hi + drift, rate.duration_ns)
        if phase is None:
            falsified = True
        else:
            phases[(bucket.case.name, bucket.key)] = phase
            confirmed |= phase.periods_seen >= 2
    if not throttles:
        return Identification(Family.UNDETERMINED, "no throttle was seen")
    if not long_wait and throttles >= MIN_THROTTLES_FOR_BUCKET:
        return Identification(
            Family.TOKEN_BUCKET, f"all {throttles} waits are at most duration/limit"
        )
    if not over_limit:
        return Identification(
            Family.SLIDING_LOG, "waits up to the duration; never more than limit within it"
        )
    if confirmed and not falsified:
        return Identification(
            Family.FIXED_WINDOW,
            "more than limit within a duration, retry instants on one aligned lattice",
            phases,
        )
    return Identification(
        Family.ANCHORED_WINDOW,
        "more than limit within a duration, retry instants on no common lattice",
    )
