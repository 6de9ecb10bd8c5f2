"""Checks 4, 5 and 7: how many requests each key had admitted, against the limit.

Admissions that are certain (2xx) are the only ones counted *for* over-admission; everything that
may have used budget (2xx, unknown outcomes, quota refusals) is counted *against* under-admission.
Throttles never count: a target that counts them is the fault.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from harness.api.duration import format_duration
from harness.conformance.buckets import ADMITTED, THROTTLED, Bucket
from harness.conformance.context import CheckContext
from harness.conformance.egress import egress_note
from harness.conformance.findings import Finding, Problem
from harness.conformance.identify import Family, Identification
from harness.conformance.intervals import (
    anchored_windows,
    surely_in_aligned_window,
    tight_windows,
    too_few_before,
)
from harness.conformance.keyed import decided, key_finding
from harness.conformance.power import (
    REMEDY_RATE,
    CasePower,
    Power,
    admitted_span_ns,
    by_case,
    case_power,
    rate_power,
    shared_over_limit,
    smallest_rate_power,
    throttled,
    with_power,
)
from harness.conformance.registry import check
from harness.conformance.spec import Tolerance

__all__ = [
    "AdmissionProblem",
    "over_admission_finding",
    "over_admissions",
    "under_admission_finding",
    "under_admissions",
    "vary_isolation_finding",
]

Index = npt.NDArray[np.intp]


class AdmissionProblem(StrEnum):
    BEYOND_ANY_LIMITER = "beyond-any-limiter"  # more than any family admits in a hull
    BEYOND_ONE_WINDOW = "beyond-one-window"  # sliding log or anchored windows
    BEYOND_TOKEN_BUCKET = "beyond-token-bucket"
    BEYOND_ALIGNED_WINDOW = "beyond-aligned-window"
    THROTTLED_FRESH_KEY = "throttled-fresh-key"
    THROTTLED_WITH_BUDGET = "throttled-with-budget"


# What each rule's violation says (the summary's words, then what the rule allows), from the
# crowd's ``size``, the ``limit``, the ``duration`` (Go's text) and the identified ``family``.
_OVER_WORDS = {
    AdmissionProblem.BEYOND_ANY_LIMITER: (
        "{size} admitted within {windows} window(s) of {duration} (no limiter of limit {limit} "
        "allows more than {most})",
        "at most {most} within {windows} window(s) of {duration}",
    ),
    AdmissionProblem.BEYOND_ONE_WINDOW: (
        "{size} admitted within less than {duration}, in one window of the {family} the target "
        "otherwise behaves like",
        "at most {limit} within {duration} ({family})",
    ),
    AdmissionProblem.BEYOND_TOKEN_BUCKET: (
        "{size} admitted faster than a bucket of {limit} refilled at {limit}/{duration} allows",
        "at most {limit} at once, refilled at {limit}/{duration}",
    ),
    AdmissionProblem.BEYOND_ALIGNED_WINDOW: (
        "{size} admitted inside one aligned window of {duration} (limit {limit})",
        "at most {limit} in one aligned window of {duration}",
    ),
}


def _first_crowd(
    bucket: Bucket, admitted: Index, crowds: Iterable[tuple[int, float, bool]]
) -> Index | None:
    """The first admissions of the key that are ``size`` within a hull below ``bound`` (at most
    ``bound`` if ``inclusive``), for the first (size, bound, inclusive) of ``crowds`` there are."""
    lo, hi = bucket.lo[admitted], bucket.hi[admitted]
    for size, bound, inclusive in crowds:
        runs = tight_windows(lo, hi, size, bound, inclusive=inclusive)
        if len(runs):
            return admitted[int(runs[0]) : int(runs[0]) + size]
    return None


# Each rule sees one key's admissions (indices into the bucket) and returns the first crowd of
# them that exceeds what a limiter allows, if any.
def _beyond_any_limiter(
    bucket: Bucket, admitted: Index, identification: Identification, tolerance: Tolerance
) -> Index | None:
    """U1, any family: more than L·(⌈H/D⁻⌉+1) in a hull H (H up to three windows)."""
    limit, short = bucket.rate.limit, tolerance.short(bucket.rate.duration_ns)
    crowds = [(limit * (windows + 1) + 1, windows * short, True) for windows in (1, 2, 3)]
    return _first_crowd(bucket, admitted, crowds)


def _beyond_one_window(
    bucket: Bucket, admitted: Index, identification: Identification, tolerance: Tolerance
) -> Index | None:
    """S1 for a sliding log, L+1 in one possible window for anchored windows."""
    limit, duration = bucket.rate.limit, bucket.rate.duration_ns
    if identification.family is Family.SLIDING_LOG:
        return _first_crowd(bucket, admitted, [(limit + 1, tolerance.short(duration), False)])
    if identification.family is not Family.ANCHORED_WINDOW:
        return None
    starters = bucket.consumers()
    runs = anchored_windows(
        bucket.lo[admitted],
        bucket.hi[admitted],
        limit,
        tolerance.short(duration),
        tolerance.long(duration),
        bucket.lo[starters],
        bucket.hi[starters],
    )
    return admitted[int(runs[0]) : int(runs[0]) + limit + 1] if len(runs) else None


def _beyond_token_bucket(
    bucket: Bucket, admitted: Index, identification: Identification, tolerance: Tolerance
) -> Index | None:
    """A bucket of L refilled at L per D admits at most L + L·H/D⁻ in a hull H."""
    if identification.family is not Family.TOKEN_BUCKET:
        return None
    limit, short = bucket.rate.limit, tolerance.short(bucket.rate.duration_ns)
    sizes = range(limit + 1, min(len(admitted), 2 * limit + 1) + 1)
    return _first_crowd(bucket, admitted, [(n, short * (n - limit) / limit, False) for n in sizes])


def _beyond_aligned_window(
    bucket: Bucket, admitted: Index, identification: Identification, tolerance: Tolerance
) -> Index | None:
    """L+1 surely inside one window of the lattice read from the waits (aligned windows)."""
    phase = identification.phases.get((bucket.case.name, bucket.key))
    if identification.family is not Family.FIXED_WINDOW or phase is None or phase.periods_seen < 1:
        return None
    # The phase's error already covers the lattice's drift over the bucket (identify).
    window = surely_in_aligned_window(
        bucket.lo[admitted], bucket.hi[admitted], phase, tolerance.boundary_ns
    )
    known = window >= 0
    values, counts = np.unique(window[known], return_counts=True)
    crowded = values[counts > bucket.rate.limit]
    return admitted[known][window[known] == crowded[0]] if len(crowded) else None


_OVER_ADMISSION_RULES = (
    (AdmissionProblem.BEYOND_ANY_LIMITER, _beyond_any_limiter),
    (AdmissionProblem.BEYOND_ONE_WINDOW, _beyond_one_window),
    (AdmissionProblem.BEYOND_TOKEN_BUCKET, _beyond_token_bucket),
    (AdmissionProblem.BEYOND_ALIGNED_WINDOW, _beyond_aligned_window),
)


def _crowd_problem(
    bucket: Bucket, kind: AdmissionProblem, members: Index, family: Family
) -> Problem:
    """A crowd of admissions as a violation: its words, and the span it surely fits in."""
    rate, size = bucket.rate, len(members)
    values = {
        "size": size,
        "most": size - 1,
        "limit": rate.limit,
        "duration": rate.canonical_duration,
        "windows": (size - 1) // rate.limit - 1,
        "family": family.value,
    }
    text, expected = (words.format(**values) for words in _OVER_WORDS[kind])
    span = format_duration(int(bucket.hi[members].max() - bucket.lo[members].min()))
    observed = f"{size} admitted within {span}"
    return Problem(text, bucket.evidence(kind, members, expected, observed))


def over_admissions(
    bucket: Bucket, identification: Identification, tolerance: Tolerance
) -> Problem | None:
    """The first proof that this key was admitted more than its limit allows, if any: any
    family first, then strictly for the identified family."""
    admitted = bucket.where(ADMITTED)
    for kind, rule in _OVER_ADMISSION_RULES:
        members = rule(bucket, admitted, identification, tolerance)
        if members is not None:
            return _crowd_problem(bucket, kind, members, identification.family)
    return None


def under_admissions(
    bucket: Bucket,
    tolerance: Tolerance,
    family: Family = Family.UNDETERMINED,
    counter_declared: bool = False,
) -> Problem | None:
    """The first throttle this key got while it provably still had budget, if any; ``family``
    (the identified one) names the approximation a throttle within two windows is read as;
    ``counter_declared``: an http profile's policy declares a sliding-window counter, which is
    then held to its own bound instead (``_counter_under_admission``)."""
    rate = bucket.rate
    throttled, consumers = bucket.where(THROTTLED), bucket.consumers()
    observed = f"throttled after fewer than {rate.limit}"
    # U2: keys are fresh (new chatbot per run), so everything before counts: any family.
    fresh = too_few_before(bucket.lo, bucket.hi, throttled, consumers, rate.limit, None)
    if len(fresh):
        expected = f"no throttle before {rate.limit} requests of a fresh key"
        return Problem(
            f"throttled although fewer than {rate.limit} requests of this key came before it",
            bucket.evidence(AdmissionProblem.THROTTLED_FRESH_KEY, fresh[:1], expected, observed),
        )
    if counter_declared:
        return _counter_under_admission(bucket, tolerance, throttled, consumers)
    recent = too_few_before(
        bucket.lo, bucket.hi, throttled, consumers, rate.limit, tolerance.long(rate.duration_ns)
    )
    if not len(recent):
        return None
    expected = f"no throttle before {rate.limit} requests within {rate.canonical_duration}"
    return Problem(
        f"throttled although fewer than {rate.limit} requests of this key came within the "
        f"{rate.canonical_duration} before it (no sliding log, fixed window or token bucket "
        f"does this); {_counter_reading(bucket, recent[0], tolerance, family)}",
        bucket.evidence(AdmissionProblem.THROTTLED_WITH_BUDGET, recent[:1], expected, observed),
    )


def _counter_under_admission(
    bucket: Bucket, tolerance: Tolerance, throttled: Index, consumers: Index
) -> Problem | None:
    """A declared sliding-window counter's own bound: its estimate counts at most the current
    and the previous period, both within 2·D⁺ before a request, so with fewer than L requests
    there it must admit."""
    rate = bucket.rate
    horizon = 2 * tolerance.long(rate.duration_ns)
    recent = too_few_before(bucket.lo, bucket.hi, throttled, consumers, rate.limit, horizon)
    if not len(recent):
        return None
    expected = f"no throttle before {rate.limit} requests within two {rate.canonical_duration}"
    return Problem(
        f"throttled although fewer than {rate.limit} requests of this key came within the two "
        f"{rate.canonical_duration} periods before it, more than a sliding-window counter "
        "remembers (are throttled requests counted? then a client that keeps asking is never "
        "admitted again)",
        bucket.evidence(
            AdmissionProblem.THROTTLED_WITH_BUDGET,
            recent[:1],
            expected,
            f"throttled after fewer than {rate.limit}",
        ),
    )


def _counter_reading(bucket: Bucket, throttle: int, tolerance: Tolerance, family: Family) -> str:
    """What a sliding-window counter makes of the throttle: its estimate weights the previous
    window's count, so it may refuse once ``limit`` requests came within two windows (never with
    fewer), below the limit of any one window: the counter's approximation, named as such (or a
    token bucket's lost refill, where that is the family identified)."""
    rate = bucket.rate
    within = too_few_before(
        bucket.lo,
        bucket.hi,
        np.array([throttle], dtype=np.intp),
        bucket.consumers(),
        rate.limit,
        2 * tolerance.long(rate.duration_ns),
    )
    if len(within):
        return (
            f"not even a sliding-window counter does (fewer than {rate.limit} within two "
            "windows before it)"
        )
    if family is Family.WHOLE_SECOND_TOKEN_BUCKET:
        return (
            "a token bucket that loses its fractional refill does (the family assumed: a clock "
            f"of whole seconds; {rate.limit} or more came within two windows)"
        )
    return (
        f"a sliding-window counter's approximation does (the family assumed: {rate.limit} or "
        f"more came within two windows of {rate.canonical_duration}, the previous one weighted)"
    )


def _steady(buckets: list[Bucket]) -> list[Bucket]:
    """The keys of the cases that send over time (a burst's keys are the burst checks')."""
    return [bucket for bucket in buckets if bucket.case.behaviour != "burst"]


@check(4, "over-admission", "Over-admission")
def over_admission_finding(context: CheckContext) -> Finding:
    # Rotating keys are judged by vary-isolation.
    plain = [bucket for bucket in context.buckets if bucket.case.rotate == "none"]
    buckets, silent = decided(plain)
    found = (over_admissions(b, context.identification, context.tolerance) for b in buckets)
    problems = [problem for problem in found if problem is not None]
    power = Power.of(
        smallest_rate_power(case, keys, context.tolerance, context.identification)
        for case, keys in by_case(_steady(plain)).items()
    )
    return with_power(key_finding(problems, len(buckets), "keys", silent), power)


@check(5, "under-admission", "Under-admission and recovery")
def under_admission_finding(context: CheckContext) -> Finding:
    buckets, silent = decided(context.buckets)
    family = context.identification.family
    counter = context.data.declared_family == Family.SLIDING_WINDOW_COUNTER.value
    declared = counter and family is Family.SLIDING_WINDOW_COUNTER
    found = (under_admissions(b, context.tolerance, family, declared) for b in buckets)
    problems = [problem for problem in found if problem is not None]
    power = Power.of(
        case_power(case, keys, [throttled(b) for b in keys], "was never throttled", REMEDY_RATE)
        for case, keys in by_case(_steady(context.buckets)).items()
    )
    return with_power(key_finding(problems, len(buckets), "keys", silent), power)


def _isolation_problem(
    bucket: Bucket, context: CheckContext, case_keys: list[Bucket]
) -> Problem | None:
    """A rotating key over one key's budget, or a key of a shared case throttled where its own
    traffic explains the throttle under no family and the case's keys together can."""
    if bucket.case.rotate != "none":
        found = over_admissions(bucket, context.identification, context.tolerance)
        if found is None:
            return None
        return Problem(f"rotating {bucket.case.rotate} split one key: {found.text}", found.evidence)
    return _shared_budget(bucket, case_keys, context.tolerance)


def _shared_budget(bucket: Bucket, case_keys: list[Bucket], tolerance: Tolerance) -> Problem | None:
    """The first throttle that only another key's traffic explains.

    Its own traffic explains a throttle under some family whenever ``limit`` of its requests may
    have come before it, however long before: a sliding-window counter refuses below the limit
    of one window, a token bucket that loses its fractional refill refills arbitrarily slowly.
    So only a throttle of a key with fewer than ``limit`` requests ever before it (U2, which no
    family that starts a key with its budget does) is evidence, and only when the case's keys
    together may have sent ``limit`` before it; otherwise it is under-admission's finding.
    """
    rate = bucket.rate
    fresh = too_few_before(
        bucket.lo, bucket.hi, bucket.where(THROTTLED), bucket.consumers(), rate.limit, None
    )
    if not len(fresh):
        return None
    slack = tolerance.boundary_ns
    others = np.sort(
        np.concatenate([b.lo[b.consumers()] + (b.wall_of_zero_ns - slack) for b in case_keys])
    )
    throttle_hi = bucket.hi[fresh] + (bucket.wall_of_zero_ns + slack)
    before = np.searchsorted(others, throttle_hi, "right")
    shared = fresh[before >= rate.limit]
    if not len(shared):
        return None
    first = int(np.flatnonzero(before >= rate.limit)[0])
    expected = f"no throttle of a key before {rate.limit} of its own requests (any family)"
    observed = f"throttled after {int(before[first])} requests of the case's keys together"
    return Problem(
        f"another key's traffic used this key's budget: throttled although fewer than "
        f"{rate.limit} requests of this key ever came before it, which no limiter family "
        f"explains, and the case's keys together may have sent {int(before[first])}",
        bucket.evidence(AdmissionProblem.THROTTLED_FRESH_KEY, shared[:1], expected, observed),
    )


@check(7, "vary-isolation", "Vary isolation")
def vary_isolation_finding(context: CheckContext) -> Finding:
    """Keys split (a device seen from several IPs, an IP with several devices or spoofed
    X-Forwarded-For values) must share one budget; distinct keys must not share one."""
    keys_per_case: dict[str, int] = {}
    for bucket in context.buckets:
        keys_per_case[bucket.case.name] = keys_per_case.get(bucket.case.name, 0) + 1
    buckets, silent = decided(context.buckets)
    judged = [bucket for bucket in buckets if _isolated(bucket, keys_per_case)]
    cases = by_case(context.buckets)
    found = [(b, _isolation_problem(b, context, cases[b.case.name])) for b in judged]
    problems = [problem for _, problem in found if problem is not None]
    chosen = [b for b in _steady(context.buckets) if _isolated(b, keys_per_case)]
    power = Power.of(
        _isolation_power(case, keys, context.tolerance) for case, keys in by_case(chosen).items()
    )
    finding = with_power(key_finding(problems, len(judged), "keys", silent), power)
    note = egress_note([b for b, p in found if p is not None], judged, keys_per_case)
    return replace(finding, summary=f"{finding.summary}; {note}") if note else finding


def _isolated(bucket: Bucket, keys_per_case: dict[str, int]) -> bool:
    """Whether vary-isolation judges the key: a rotating one, or one of several distinct keys."""
    shared = keys_per_case[bucket.case.name] > 1 and bool(bucket.rate.vary_by)
    return bucket.case.rotate != "none" or shared


def _isolation_power(case: str, buckets: list[Bucket], tolerance: Tolerance) -> CasePower:
    """A rotating key over one key's budget; distinct keys over one budget together."""
    if buckets[0].case.rotate != "none":
        return rate_power(case, buckets, tolerance)
    together = shared_over_limit(buckets, tolerance, admitted_span_ns(buckets))
    why = "never offered more than one key's limit in a window, all its keys together"
    return case_power(case, buckets, [together] * len(buckets), why, REMEDY_RATE)
