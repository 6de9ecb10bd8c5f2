"""Checks 3 and 8: a burst on a fresh key, back to back or concurrent, admits exactly the limit.

A fresh key owes nothing to earlier traffic: a burst admitting fewer than ``limit`` before a
throttle is under-admission, one admitting more than the identified family allows (a window
boundary inside the burst lets fixed windows admit twice the limit) is over-admission. A
concurrent burst is where a limiter that checks and records in two steps admits too many.
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np

from harness.conformance.buckets import ADMITTED, OTHER, OUT_OF_QUOTA, THROTTLED, Bucket
from harness.conformance.context import CheckContext
from harness.conformance.findings import Finding, Outcome, Problem
from harness.conformance.identify import Family, Identification
from harness.conformance.keyed import decided, key_finding
from harness.conformance.power import Power, by_case, case_power, with_power
from harness.conformance.registry import check
from harness.conformance.spec import Tolerance

__all__ = ["BurstProblem", "burst_finding", "concurrency_finding"]


class BurstProblem(StrEnum):
    TOO_MANY = "burst-too-many"
    TOO_FEW = "burst-too-few"


def _burst_allowance(
    bucket: Bucket, identification: Identification, tolerance: Tolerance
) -> tuple[int, str]:
    """How many a burst on this fresh key may have admitted, and under which reading."""
    rate = bucket.rate
    limit = rate.limit
    hull = float(bucket.hi.max() - bucket.lo.min())
    short = tolerance.short(rate.duration_ns)
    family = identification.family
    if family in (Family.SLIDING_LOG, Family.ANCHORED_WINDOW) and hull < short:
        return limit, family.value
    if family is Family.TOKEN_BUCKET:
        return math.floor(limit + limit * hull / short), family.value
    phase = identification.phases.get((bucket.case.name, bucket.key))
    if family is Family.FIXED_WINDOW and phase is not None and hull < short:
        low = bucket.lo.min() - phase.offset - phase.error - tolerance.boundary_ns
        high = bucket.hi.max() - phase.offset + phase.error + tolerance.boundary_ns
        boundary_inside = math.floor(high / phase.period) > math.floor(low / phase.period)
        return (2 * limit if boundary_inside else limit), family.value
    return limit * (math.ceil(hull / short) + 1), "any family"


def _burst_problem(bucket: Bucket, context: CheckContext) -> Problem | None:
    """Too many admitted for the family, or a throttle before the limit was reached."""
    limit = bucket.rate.limit
    admitted, throttled = bucket.where(ADMITTED), bucket.where(THROTTLED)
    unknown = int(np.count_nonzero((bucket.code == OTHER) | (bucket.code == OUT_OF_QUOTA)))
    allowed, reading = _burst_allowance(bucket, context.identification, context.tolerance)
    count = len(admitted)
    if count > allowed:
        return Problem(
            f"a burst on a fresh key had {count} admitted; at most {allowed} allowed ({reading})",
            bucket.evidence(
                BurstProblem.TOO_MANY,
                admitted,
                f"at most {allowed} admitted ({reading})",
                f"{count} admitted",
            ),
        )
    if len(throttled) and count + unknown < limit:
        return Problem(
            f"a burst on a fresh key had only {count} admitted before throttling (limit {limit})",
            bucket.evidence(
                BurstProblem.TOO_FEW,
                [*admitted, *throttled[:1]],
                f"{limit} admitted before a throttle",
                f"{count} admitted, then throttled",
            ),
        )
    return None


def _burst_check(context: CheckContext, concurrent: bool) -> Finding:
    chosen = [
        bucket
        for bucket in context.buckets
        if bucket.case.behaviour == "burst" and bucket.case.concurrent_burst is concurrent
    ]
    buckets, silent = decided(chosen)
    found = (_burst_problem(bucket, context) for bucket in buckets)
    problems = [problem for problem in found if problem is not None]
    power = Power.of(
        case_power(case, keys, [_outnumbered(b) for b in keys], BURST_WHY, BURST_REMEDY)
        for case, keys in by_case(chosen).items()
    )
    if problems or not buckets:
        return with_power(key_finding(problems, len(buckets), "bursts", silent), power)
    exact = sum(len(bucket.where(ADMITTED)) == bucket.rate.limit for bucket in buckets)
    note = f"; {silent} bursts got no answer that admitted or refused a request" if silent else ""
    return with_power(
        Finding(
            Outcome.PASS,
            f"{len(buckets)} bursts on fresh keys; {exact} admitted exactly the limit, the rest "
            f"within what a window boundary inside the burst allows{note}",
        ),
        power,
    )


BURST_WHY = "never had a burst larger than its limit decided"
BURST_REMEDY = "make the burst's 'size' larger than the limit"


def _outnumbered(bucket: Bucket) -> bool:
    """The burst outnumbered the limit: a limiter admitting too many or too few could show."""
    return int(np.count_nonzero(bucket.code != OTHER)) > bucket.rate.limit


@check(3, "burst", "Back-to-back burst")
def burst_finding(context: CheckContext) -> Finding:
    return _burst_check(context, concurrent=False)


@check(8, "concurrency", "Concurrent burst")
def concurrency_finding(context: CheckContext) -> Finding:
    return _burst_check(context, concurrent=True)
