"""Checks 3, 4, 5, 7, 8: how many requests each key had admitted, against the limit.

Admissions that are certain (2xx) are the only ones counted *for* over-admission; everything that
may have used budget (2xx, unknown outcomes, quota refusals) is counted *against* under-admission.
Throttles never count: a target that counts them is the fault.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from harness.conformance.buckets import ADMITTED, OTHER, OUT_OF_QUOTA, THROTTLED, Bucket
from harness.conformance.findings import MAX_EVIDENCE, Finding, Outcome
from harness.conformance.identify import Family, Identification
from harness.conformance.intervals import (
    anchored_windows,
    surely_in_aligned_window,
    tight_windows,
    too_few_before,
)
from harness.conformance.spec import Tolerance

__all__ = [
    "burst_finding",
    "concurrency_finding",
    "over_admission_finding",
    "over_admissions",
    "under_admission_finding",
    "under_admissions",
    "vary_isolation_finding",
]


def _ids(bucket: Bucket, indices: Iterable[int]) -> list[str]:
    return bucket.ids(indices)


def over_admissions(
    bucket: Bucket, identification: Identification, tolerance: Tolerance
) -> tuple[str, list[str]] | None:
    """The first proof that this key was admitted more than its limit allows, if any."""
    rate = bucket.rate
    limit, short, long = (
        rate.limit,
        tolerance.short(rate.duration_ns),
        tolerance.long(rate.duration_ns),
    )
    admitted = bucket.where(ADMITTED)
    lo, hi = bucket.lo[admitted], bucket.hi[admitted]
    # U1, any family: more than L·(⌈H/D⁻⌉+1) in a hull H.
    for windows in (1, 2, 3):
        size = limit * (windows + 1) + 1
        runs = tight_windows(lo, hi, size, windows * short, inclusive=True)
        if len(runs):
            first = int(runs[0])
            return (
                f"{size} admitted within {windows} window(s) of {rate.canonical_duration} "
                f"(no limiter of limit {limit} allows more than {size - 1})",
                _ids(bucket, admitted[first : first + size]),
            )
    family = identification.family
    if family is Family.SLIDING_LOG or family is Family.ANCHORED_WINDOW:
        if family is Family.SLIDING_LOG:
            runs = tight_windows(lo, hi, limit + 1, short)  # S1
        else:
            starters = bucket.consumers()
            runs = anchored_windows(
                lo, hi, limit, short, long, bucket.lo[starters], bucket.hi[starters]
            )
        if len(runs):
            first = int(runs[0])
            return (
                f"{limit + 1} admitted within less than {rate.canonical_duration}, in one "
                f"window of the {family.value} the target otherwise behaves like",
                _ids(bucket, admitted[first : first + limit + 1]),
            )
    if family is Family.TOKEN_BUCKET:
        for size in range(limit + 1, min(len(admitted), 2 * limit + 1) + 1):
            runs = tight_windows(lo, hi, size, short * (size - limit) / limit)
            if len(runs):
                first = int(runs[0])
                return (
                    f"{size} admitted faster than a bucket of {limit} refilled at "
                    f"{limit}/{rate.canonical_duration} allows",
                    _ids(bucket, admitted[first : first + size]),
                )
    phase = identification.phases.get((bucket.case.name, bucket.key))
    if family is Family.FIXED_WINDOW and phase is not None and phase.periods_seen >= 1:
        # The phase's error already covers the lattice's drift over the bucket (identify).
        window = surely_in_aligned_window(lo, hi, phase, tolerance.boundary_ns)
        known = window >= 0
        if known.any():
            values, counts = np.unique(window[known], return_counts=True)
            crowded = values[counts > limit]
            if len(crowded):
                members = admitted[known][window[known] == crowded[0]]
                return (
                    f"{len(members)} admitted inside one aligned window of "
                    f"{rate.canonical_duration} (limit {limit})",
                    _ids(bucket, members),
                )
    return None


def under_admissions(bucket: Bucket, tolerance: Tolerance) -> tuple[str, list[str]] | None:
    """The first throttle this key got while it provably still had budget, if any."""
    rate = bucket.rate
    throttled, consumers = bucket.where(THROTTLED), bucket.consumers()
    # U2: keys are fresh (new chatbot per run), so everything before counts: any family.
    fresh = too_few_before(bucket.lo, bucket.hi, throttled, consumers, rate.limit, None)
    if len(fresh):
        return (
            f"throttled although fewer than {rate.limit} requests of this key came before it",
            _ids(bucket, fresh[:1]),
        )
    recent = too_few_before(
        bucket.lo, bucket.hi, throttled, consumers, rate.limit, tolerance.long(rate.duration_ns)
    )
    if len(recent):
        return (
            f"throttled although fewer than {rate.limit} requests of this key came within the "
            f"{rate.canonical_duration} before it (assuming a sliding log, a fixed window or a "
            "token bucket; a sliding-window counter could do this)",
            _ids(bucket, recent[:1]),
        )
    return None


def _from_problems(
    check_id: str,
    title: str,
    problems: list[tuple[Bucket, str, list[str]]],
    judged: int,
    what: str,
    silent: int = 0,
) -> Finding:
    """``silent``: keys left unjudged because the target decided none of their requests."""
    if problems:
        bucket, summary, evidence = problems[0]
        more = f" ({len(problems)} keys in all)" if len(problems) > 1 else ""
        return Finding(
            check_id, title, Outcome.FAIL,
            f"case {bucket.case.name!r}, key {bucket.key!r}: {summary}{more}",
            tuple(evidence[:MAX_EVIDENCE]),
            {"keys": [f"{b.case.name}/{b.key}" for b, _, _ in problems[:50]]},
        )  # fmt: skip
    unjudged = f"{silent} {what} got no answer that admitted or refused a request"
    if not judged and silent:
        return Finding(check_id, title, Outcome.INCONCLUSIVE, unjudged)
    if not judged:
        return Finding(check_id, title, Outcome.SKIPPED, f"no {what} in this run")
    note = f"; {unjudged}" if silent else ""
    return Finding(
        check_id, title, Outcome.PASS, f"{judged} {what} judged, none in violation{note}"
    )


def _decided(buckets: list[Bucket]) -> tuple[list[Bucket], int]:
    """The buckets with evidence, and how many had none."""
    decided = [bucket for bucket in buckets if bucket.decided()]
    return decided, len(buckets) - len(decided)


def over_admission_finding(
    buckets: list[Bucket], identification: Identification, tolerance: Tolerance
) -> Finding:
    problems = []
    judged = 0
    # Rotating keys are judged by vary-isolation.
    buckets, silent = _decided([bucket for bucket in buckets if bucket.case.rotate == "none"])
    for bucket in buckets:
        judged += 1
        found = over_admissions(bucket, identification, tolerance)
        if found:
            problems.append((bucket, *found))
    return _from_problems("over-admission", "Over-admission", problems, judged, "keys", silent)


def under_admission_finding(buckets: list[Bucket], tolerance: Tolerance) -> Finding:
    problems = []
    buckets, silent = _decided(buckets)
    for bucket in buckets:
        found = under_admissions(bucket, tolerance)
        if found:
            problems.append((bucket, *found))
    return _from_problems(
        "under-admission", "Under-admission and recovery", problems, len(buckets), "keys", silent
    )


def vary_isolation_finding(
    buckets: list[Bucket], identification: Identification, tolerance: Tolerance
) -> Finding:
    """Keys split (a device seen from several IPs, an IP with several devices or spoofed
    X-Forwarded-For values) must share one budget; distinct keys must not share one."""
    problems = []
    judged = 0
    cases_with_keys: dict[str, int] = {}
    for bucket in buckets:
        cases_with_keys[bucket.case.name] = cases_with_keys.get(bucket.case.name, 0) + 1
    buckets, silent = _decided(buckets)
    for bucket in buckets:
        if bucket.case.rotate != "none":
            judged += 1
            found = over_admissions(bucket, identification, tolerance)
            if found:
                summary, evidence = found
                problems.append(
                    (bucket, f"rotating {bucket.case.rotate} split one key: {summary}", evidence)
                )
        elif cases_with_keys[bucket.case.name] > 1 and bucket.rate.vary_by:
            judged += 1
            found = under_admissions(bucket, tolerance)
            if found:
                summary, evidence = found
                problems.append(
                    (bucket, f"another key's traffic used this key's budget: {summary}", evidence)
                )
    return _from_problems("vary-isolation", "Vary isolation", problems, judged, "keys", silent)


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


def _burst_check(
    check_id: str,
    title: str,
    buckets: list[Bucket],
    identification: Identification,
    tolerance: Tolerance,
) -> Finding:
    problems: list[tuple[Bucket, str, list[str]]] = []
    exact = 0
    buckets, silent = _decided(buckets)
    for bucket in buckets:
        rate = bucket.rate
        admitted = bucket.where(ADMITTED)
        unknown = int(np.count_nonzero((bucket.code == OTHER) | (bucket.code == OUT_OF_QUOTA)))
        throttled = bucket.where(THROTTLED)
        allowed, reading = _burst_allowance(bucket, identification, tolerance)
        if len(admitted) > allowed:
            summary = (
                f"a burst on a fresh key had {len(admitted)} admitted; "
                f"at most {allowed} allowed ({reading})"
            )
            problems.append((bucket, summary, _ids(bucket, admitted)))
        elif len(throttled) and len(admitted) + unknown < rate.limit:
            summary = (
                f"a burst on a fresh key had only {len(admitted)} admitted "
                f"before throttling (limit {rate.limit})"
            )
            problems.append((bucket, summary, _ids(bucket, [*admitted, *throttled[:1]])))
        elif len(admitted) == rate.limit:
            exact += 1
    if problems or not buckets:
        return _from_problems(check_id, title, problems, len(buckets), "bursts", silent)
    note = f"; {silent} bursts got no answer that admitted or refused a request" if silent else ""
    return Finding(
        check_id, title, Outcome.PASS,
        f"{len(buckets)} bursts on fresh keys; {exact} admitted exactly the limit, the rest "
        f"within what a window boundary inside the burst allows{note}",
    )  # fmt: skip


def burst_finding(
    buckets: list[Bucket], identification: Identification, tolerance: Tolerance
) -> Finding:
    chosen = [b for b in buckets if b.case.behaviour == "burst" and not b.case.concurrent_burst]
    return _burst_check("burst", "Back-to-back burst", chosen, identification, tolerance)


def concurrency_finding(
    buckets: list[Bucket], identification: Identification, tolerance: Tolerance
) -> Finding:
    chosen = [b for b in buckets if b.case.behaviour == "burst" and b.case.concurrent_burst]
    return _burst_check("concurrency", "Concurrent burst", chosen, identification, tolerance)
