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
from harness.conformance.burst_phases import refutation, shots
from harness.conformance.context import CheckContext
from harness.conformance.findings import Finding, Outcome, Problem
from harness.conformance.identify import Family, Identification
from harness.conformance.keyed import decided, key_finding
from harness.conformance.power import CasePower, Power, by_case, case_power, with_power
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
    problems = [
        problem
        for keys in by_case(buckets).values()
        for problem in _case_problems(keys, context)
        if problem is not None
    ]
    power = Power.of(_burst_power(case, keys, context) for case, keys in by_case(chosen).items())
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


def _case_problems(keys: list[Bucket], context: CheckContext) -> list[Problem | None]:
    """Each burst of one case judged alone; while the family is undetermined, the bursts that
    pass alone are then held together to every family still possible (``burst_phases``)."""
    alone = [_burst_problem(bucket, context) for bucket in keys]
    if context.identification.family is not Family.UNDETERMINED:
        return alone
    rate = keys[0].rate
    counts = [len(bucket.where(ADMITTED)) for bucket in keys]
    fired = shots(keys, counts)
    reasons = [
        refutation(family, rate, fired, context.tolerance)
        for family in context.identification.possible
    ]
    if any(reason is None for reason in reasons):
        return alone
    why = "; ".join(reason for reason in reasons if reason is not None)
    expected = f"at most {rate.limit} admitted (the case's bursts together, every family possible)"
    return [
        problem
        if problem is not None or count <= rate.limit
        else Problem(
            f"a burst on a fresh key had {count} admitted (limit {rate.limit}), which no "
            f"limiter family still possible explains with the case's other bursts: {why}",
            bucket.evidence(
                BurstProblem.TOO_MANY, bucket.where(ADMITTED), expected, f"{count} admitted"
            ),
        )
        for bucket, count, problem in zip(keys, counts, alone, strict=True)
    ]


def _burst_power(case: str, keys: list[Bucket], context: CheckContext) -> CasePower:
    """Bursts larger than the limit; while the family is undetermined, only if bursts that
    each admitted one too many (L+1) would have been refuted by every family still possible."""
    outnumbered = [_outnumbered(bucket) for bucket in keys]
    gross = case_power(case, keys, outnumbered, BURST_WHY, BURST_REMEDY)
    identification = context.identification
    if identification.family is not Family.UNDETERMINED or not gross.powered:
        return gross
    rate = keys[0].rate
    smallest = [rate.limit + 1 if more else 0 for more in outnumbered]
    fired = shots(keys, smallest)
    reasons = {
        family: refutation(family, rate, fired, context.tolerance)
        for family in identification.possible
    }
    explaining = [family.value for family, reason in reasons.items() if reason is None]
    if not explaining:
        return gross
    possible = " or ".join(family.value for family in identification.possible)
    return CasePower(
        case,
        0,
        len(keys),
        f"case {case!r} had no power against the smallest over-admission ({rate.limit + 1} "
        f"in a burst): the limiter family is undetermined (could be {possible}), and "
        f"{' or '.join(explaining)} would explain {rate.limit + 1} in each of its "
        f"{sum(outnumbered)} bursts; {BURST_PHASE_REMEDY}",
    )


BURST_PHASE_REMEDY = (
    "send more bursts on fresh keys at different phases of the window (repeat ≥ 2, an "
    "interval that is no multiple of the window, a run long enough for them): several bursts "
    "cannot all straddle boundaries of one window offset"
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
