"""How far the promised waits were from the truth, and the resolution they are given in.

wait-honesty fails a promise the trace proves broken; this measures by how much. For throttle j
the promised retry instant is ``P ∈ [lo_j + w_j, hi_j + w_j]``; the instant the budget truly freed,
``T``, lies after j and after every throttle surely between j and the next admission (a refusal
proves the budget was not yet free), and before the end of the first admission surely after j
(an admission proves it was). So ``P − T`` lies in ``[P_lo − T_hi, P_hi − T_lo]``: a promise
surely **late** (the wait too long) by ``P_lo − T_hi`` when that is beyond the retry slack
wait-honesty allows (ω, and a declared granularity), surely **early** (too short) by
``T_lo − P_hi`` beyond it. These are lower bounds: the true error is at least that. A correct
limiter shows none, whatever the client's latency.

The resolution is read from the waits themselves: the coarsest of whole seconds, tenths,
hundredths, milliseconds and microseconds that every reported wait is a multiple of.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from harness.api.duration import format_duration
from harness.conformance.buckets import ADMITTED, THROTTLED, Bucket
from harness.conformance.spec import Tolerance

__all__ = [
    "GRANULARITIES",
    "ErrorStats",
    "PromiseBounds",
    "WaitAccuracy",
    "infer_granularity",
    "promise_bounds",
    "promise_errors",
    "wait_accuracy",
]

# Candidate resolutions, coarsest first, with the words the summary uses.
GRANULARITIES = (
    (1_000_000_000, "whole seconds"),
    (100_000_000, "tenths of a second"),
    (10_000_000, "hundredths of a second"),
    (1_000_000, "milliseconds"),
    (1_000, "microseconds"),
)
# Fewer waits than this say nothing of their resolution (one wait of 1 s is no pattern).
MIN_WAITS_FOR_GRANULARITY = 3

Floats = npt.NDArray[np.float64]


def infer_granularity(waits_ns: Floats) -> int:
    """The coarsest candidate every wait is a multiple of (0: too few waits, or finer than 1 µs).

    A wait parsed from text ("1.5s") is exact to the nanosecond, so "a multiple" means within
    half a nanosecond of one (float64 holds waits of days to that precision).
    """
    waits = waits_ns[~np.isnan(waits_ns)]
    if len(waits) < MIN_WAITS_FOR_GRANULARITY:
        return 0
    for granularity, _ in GRANULARITIES:
        off = np.abs(waits - np.round(waits / granularity) * granularity)
        if np.all(off < 0.5):
            return granularity
    return 0


def granularity_words(granularity_ns: int) -> str:
    for granularity, words in GRANULARITIES:
        if granularity == granularity_ns:
            return words
    return "finer than microseconds" if granularity_ns == 0 else ""


@dataclass(frozen=True, slots=True)
class ErrorStats:
    """Promises surely off one way: how many, and p50/p95/max of the error's lower bound (s)."""

    count: int
    p50_s: float
    p95_s: float
    max_s: float

    @classmethod
    def of(cls, errors_ns: Floats) -> ErrorStats:
        off = errors_ns[errors_ns > 0] / 1e9
        if not len(off):
            return cls(0, 0.0, 0.0, 0.0)
        p50, p95 = np.percentile(off, [50, 95])
        return cls(len(off), float(p50), float(p95), float(off.max()))

    def describe(self, way: str) -> str:
        if not self.count:
            return f"none surely {way}"
        return (
            f"{self.count} surely {way} by at least p50 {self.p50_s:.3f}s, p95 {self.p95_s:.3f}s, "
            f"max {self.max_s:.3f}s"
        )


@dataclass(frozen=True, slots=True)
class PromiseBounds:
    """A key's throttles with a wait (indices into the bucket), the wait each promised, and the
    bounds of the wait that was true (ns from the throttle: the budget freed after ``true_lo``
    and by ``true_hi``, ∞ when no admission came after)."""

    throttles: npt.NDArray[np.intp]
    wait_ns: Floats
    true_lo_ns: Floats
    true_hi_ns: Floats
    slack_ns: Floats  # the retry slack each promise is allowed (wait-honesty's own)

    def errors(self) -> tuple[Floats, Floats]:
        """How late and how early each promise surely was beyond its slack (ns, 0 where not)."""
        late = np.maximum(0.0, self.wait_ns - self.true_hi_ns - self.slack_ns)
        early = np.maximum(0.0, self.true_lo_ns - self.wait_ns - self.slack_ns)
        return late, early


def promise_bounds(bucket: Bucket, tolerance: Tolerance) -> PromiseBounds:
    """Each throttle's promised wait and the bounds of the true one (module docstring), with
    the slack wait-honesty allows it: the tolerance's, widened by a declared granularity."""
    lo, hi, wait = bucket.lo, bucket.hi, bucket.wait_ns
    throttled = bucket.where(THROTTLED)
    throttled = throttled[~np.isnan(wait[throttled])]
    if not len(throttled):
        empty = np.empty(0, dtype=np.float64)
        return PromiseBounds(throttled, empty, empty, empty, empty)
    admitted = bucket.where(ADMITTED)  # ``lo`` ascending: the bucket is sorted by it
    a_lo = lo[admitted].astype(np.float64)
    a_hi_suffix = np.minimum.accumulate(hi[admitted][::-1].astype(np.float64))[::-1]
    first = np.searchsorted(a_lo, hi[throttled], "right")
    after = first < len(admitted)
    # T_hi: the earliest end of an admission surely after j (∞ if none came).
    t_hi = np.full(len(throttled), np.inf)
    t_hi[after] = a_hi_suffix[first[after]]
    # T_lo: the last throttle surely between j and that admission's start (else j itself) ...
    bound = np.full(len(throttled), np.inf)
    bound[after] = a_lo[first[after]]
    j_lo, j_hi = lo[throttled].astype(np.float64), hi[throttled].astype(np.float64)
    last = np.searchsorted(j_lo, bound, "left") - 1  # j itself at least: j starts before
    inside = (j_lo[last] > j_hi) & (j_hi[last] < bound)
    # ... and only if nothing that may have used budget (an admission possibly after j, an
    # unanswered request) meets [lo_j, hi_p]: it may have taken the budget freed before p.
    consumers = bucket.consumers()
    c_lo, c_hi = np.sort(lo[consumers]), np.sort(hi[consumers])
    meeting = np.searchsorted(c_lo, j_hi[last], "right") - np.searchsorted(c_hi, j_lo, "left")
    inside &= meeting == 0
    t_lo = np.where(inside, j_lo[last], j_lo)
    w = wait[throttled]
    slack = tolerance.retry_slack(w) + bucket.case.wait_granularity_ns
    return PromiseBounds(throttled, w, np.maximum(0.0, t_lo - j_hi), t_hi - j_lo, slack)


def promise_errors(bucket: Bucket, tolerance: Tolerance) -> tuple[Floats, Floats]:
    """For each throttle of the key with a wait: the lower bounds of how late and how early its
    promise was beyond its slack (ns, 0 where not surely off that way; module docstring)."""
    return promise_bounds(bucket, tolerance).errors()


@dataclass(frozen=True, slots=True)
class WaitAccuracy:
    """Every throttle with a wait, of every key: how many, the promises surely late and early,
    the resolution inferred from the waits and the one the scenario declared (0: none)."""

    throttles: int
    late: ErrorStats
    early: ErrorStats
    granularity_ns: int
    declared_ns: int

    def describe(self) -> str:
        inferred = granularity_words(self.granularity_ns)
        if self.throttles < MIN_WAITS_FOR_GRANULARITY:
            inferred = "too few to tell their resolution"
        declared = f", declared {format_duration(self.declared_ns)}" if self.declared_ns else ""
        return (
            f"{self.throttles} waits ({inferred}{declared}): {self.late.describe('late')}, "
            f"{self.early.describe('early')}"
        )

    def measures(self) -> dict[str, object]:
        """The figures as data (verdict.json's ``measures``)."""
        return {
            "waits": self.throttles,
            "granularity_ns": self.granularity_ns,
            "declared_granularity_ns": self.declared_ns,
            **{f"late_{k}": v for k, v in _stats(self.late).items()},
            **{f"early_{k}": v for k, v in _stats(self.early).items()},
        }


def _stats(stats: ErrorStats) -> dict[str, object]:
    return {"count": stats.count, "p50_s": stats.p50_s, "p95_s": stats.p95_s, "max_s": stats.max_s}


def wait_accuracy(buckets: list[Bucket], tolerance: Tolerance) -> WaitAccuracy:
    """The accuracy of every key's promises together (``buckets``: the keys judged)."""
    lates, earlies, waits = [], [], []
    for bucket in buckets:
        late, early = promise_errors(bucket, tolerance)
        lates.append(late)
        earlies.append(early)
        throttled = bucket.where(THROTTLED)
        waits.append(bucket.wait_ns[throttled])
    every = np.concatenate(waits) if waits else np.empty(0)
    every = every[~np.isnan(every)]
    declared = max((bucket.case.wait_granularity_ns for bucket in buckets), default=0)
    return WaitAccuracy(
        throttles=len(every),
        late=ErrorStats.of(np.concatenate(lates) if lates else np.empty(0)),
        early=ErrorStats.of(np.concatenate(earlies) if earlies else np.empty(0)),
        granularity_ns=infer_granularity(every),
        declared_ns=declared,
    )
