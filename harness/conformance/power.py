"""Detection power: whether a run's traffic could have revealed the violation a check looks for.

A check that found nothing has only passed where a violation would have shown: a key that never
offered more than its limit in a window cannot prove over-admission, whatever the target does.
Each test here is a necessary condition for its check to fire, stated with the check's own
inequalities (``intervals.py``) over every request the target decided (admitted or not), each
as wide as an admitted answer of its case takes (an admission that did not happen would have
taken as long, and a proof must still place it inside one window): had the target been faulty,
these requests could have proved it. Where a case meant to exercise a check has no key with
power, the check is inconclusive and says why (what the keys offered, how long their admitted
answers took) and what to change.

Necessary, not sufficient: power is claimed only where the traffic was there, so a check is never
reported as passing on a case that could not have failed it (the sound side).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from harness.api.duration import format_duration
from harness.conformance.buckets import ADMITTED, OTHER, THROTTLED, Bucket
from harness.conformance.findings import Finding, Outcome
from harness.conformance.identify import Family, Identification
from harness.conformance.intervals import tight_windows
from harness.conformance.spec import Tolerance

__all__ = [
    "MIN_WINDOWS",
    "REMEDY_RATE",
    "CasePower",
    "Power",
    "admitted_span_ns",
    "busiest_window",
    "by_case",
    "case_power",
    "offered_over_limit",
    "rate_power",
    "shared_over_limit",
    "smallest_rate_power",
    "throttled",
    "with_power",
]

Ints = npt.NDArray[np.int64]
# About how many requests of a case's keys ``shared_over_limit`` merges at a time.
_STRETCH_REQUESTS = 1 << 20
REMEDY_RATE = (
    "give the case an open behaviour (kind = 'open'), raise its 'over' or 'max_in_flight', or "
    "run it longer; on a slow target, lengthen its window"
)


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


@dataclass(frozen=True, slots=True)
class Power:
    """Over the cases meant for a check: keys judged with power and without, and the cases where
    no key had any (the check is then inconclusive, naming the first)."""

    with_power: int
    without_power: int
    unpowered: tuple[CasePower, ...]

    @classmethod
    def of(cls, cases: Iterable[CasePower]) -> Power:
        listed = list(cases)
        return cls(
            sum(case.with_power for case in listed),
            sum(case.without_power for case in listed),
            tuple(case for case in listed if not case.powered),
        )

    def reason(self) -> str:
        """The first unpowered case's reason, and how many more there are."""
        more = len(self.unpowered) - 1
        return self.unpowered[0].reason + (f" ({more} more cases without power)" if more else "")


def with_power(finding: Finding, power: Power) -> Finding:
    """A check's finding, held to its power: a failure stands (proved whatever the power); a
    pass where a case meant for the check could not have failed it is inconclusive instead. An
    inconclusive finding keeps its own reason (keys without an answer): the missing power
    follows from it, and the counts of keys with power still say how much was judged."""
    if finding.outcome in (Outcome.FAIL, Outcome.INCONCLUSIVE) or not power.unpowered:
        return replace(finding, power=power)
    return Finding(Outcome.INCONCLUSIVE, power.reason(), power=power)


def by_case(buckets: Iterable[Bucket]) -> dict[str, list[Bucket]]:
    grouped: dict[str, list[Bucket]] = {}
    for bucket in buckets:
        grouped.setdefault(bucket.case.name, []).append(bucket)
    return grouped


def admitted_span_ns(buckets: Iterable[Bucket]) -> int:
    """How long an admitted answer of these keys took (p90), send to receive."""
    spans = [b.hi[b.code == ADMITTED] - b.lo[b.code == ADMITTED] for b in buckets]
    joined = np.concatenate(spans) if spans else np.empty(0, dtype=np.int64)
    return int(np.percentile(joined, 90)) if len(joined) else 0


def _widened(bucket: Bucket, span_ns: int) -> tuple[Ints, Ints]:
    """The decided requests' intervals, each at least ``span_ns`` wide."""
    decided = np.flatnonzero(bucket.code != OTHER)
    lo = bucket.lo[decided]
    return lo, np.maximum(bucket.hi[decided], lo + span_ns)


def _fits(lo: Ints, hi: Ints, size: int, bound: int) -> bool:
    return size <= len(lo) and bool(len(tight_windows(lo, hi, size, bound)))


def busiest_window(bucket: Bucket, tolerance: Tolerance, span_ns: int = 0) -> int:
    """The most requests of the key that surely lie within one window shorter than the
    target's duration (each request's instant somewhere in its widened interval)."""
    lo, hi = _widened(bucket, span_ns)
    short = tolerance.short(bucket.rate.duration_ns)
    # A run of ``size`` fits when one of ``size + 1`` does: bisect the largest that fits.
    fits, fails = 0, len(lo) + 1
    while fails - fits > 1:
        size = (fits + fails) // 2
        fits, fails = (size, fails) if _fits(lo, hi, size, short) else (fits, size)
    return fits


def offered_over_limit(bucket: Bucket, tolerance: Tolerance, span_ns: int = 0) -> bool:
    """More than ``limit`` requests of this key surely within one window: a target admitting
    them all could be proved over its limit (over-admission, a rotated key's vary-isolation)."""
    lo, hi = _widened(bucket, span_ns)
    rate = bucket.rate
    return _fits(lo, hi, rate.limit + 1, tolerance.short(rate.duration_ns))


def shared_over_limit(buckets: list[Bucket], tolerance: Tolerance, span_ns: int = 0) -> bool:
    """More than one key's ``limit`` requests of the case's keys together surely within one
    window: had the target counted them in one budget, some key would have been throttled with
    budget left (vary-isolation of distinct keys). Keys of several processes meet on the wall
    clock (each worker's offset error is already in its intervals, ``buckets``), widened by the
    boundary slack for the drift between the clocks.

    The keys' requests are merged a stretch of time at a time (``_joint_stretches``), stopping
    at the first that holds such a window: the same answer as merging them all at once, without
    sorting millions of requests together when the first seconds already show it."""
    if len(buckets) < 2:
        return False
    slack = tolerance.boundary_ns
    keys = []
    for bucket in buckets:
        low, high = _widened(bucket, span_ns)
        zero = bucket.wall_of_zero_ns
        keys.append((low + (zero - slack), high + (zero + slack)))
    rate = buckets[0].rate
    short = tolerance.short(rate.duration_ns)
    return any(_fits(lo, hi, rate.limit + 1, short) for lo, hi in _joint_stretches(keys, short))


def _joint_stretches(keys: list[tuple[Ints, Ints]], short: int) -> Iterator[tuple[Ints, Ints]]:
    """The keys' requests (each key's sorted by ``lo``) merged by ``lo``, ties in key order as
    one stable sort of them all would, in stretches of ``lo`` overlapping by ``short``.

    A run of requests whose hull is shorter than ``short`` has every ``lo`` within ``short`` of
    its first, so it lies wholly in the stretch where its first request starts; and a stretch is
    a contiguous range of the whole merge, so the run's requests are as consecutive in it as in
    the whole. Each stretch spans at least ``short`` and holds about ``_STRETCH_REQUESTS``.
    """
    filled = [(lo, hi) for lo, hi in keys if len(lo)]
    if not filled:
        return
    total = sum(len(lo) for lo, _ in filled)
    first = min(int(lo[0]) for lo, _ in filled)
    last = max(int(lo[-1]) for lo, _ in filled)
    step = max(short, 1, (last - first + 1) * _STRETCH_REQUESTS // total)
    for start in range(first, last + 1, step):
        ranges = [_between(lo, hi, start, start + step + max(short, 0)) for lo, hi in filled]
        lo = np.concatenate([low for low, _ in ranges])
        if len(lo):
            order = np.argsort(lo, kind="stable")
            yield lo[order], np.concatenate([high for _, high in ranges])[order]


def _between(lo: Ints, hi: Ints, start: int, end: int) -> tuple[Ints, Ints]:
    """The requests of one key (sorted by ``lo``) with ``lo`` in ``[start, end)``."""
    a, b = np.searchsorted(lo, [start, end], "left")
    return lo[a:b], hi[a:b]


def admitted_latency_s(buckets: Iterable[Bucket]) -> float | None:
    """The median time an admitted answer took in these keys (for the reason's words)."""
    spans = [b.hi[b.code == ADMITTED] - b.lo[b.code == ADMITTED] for b in buckets]
    joined = np.concatenate(spans) if spans else np.empty(0, dtype=np.int64)
    return float(np.median(joined)) / 1e9 if len(joined) else None


def case_power(
    case: str, buckets: list[Bucket], has_power: list[bool], why: str, remedy: str
) -> CasePower:
    """A case's power for one check from each key's; ``why`` says what the keys lacked."""
    count = sum(has_power)
    if count or not buckets:
        return CasePower(case, count, len(buckets) - count, "")
    latency = admitted_latency_s(buckets)
    took = f" (admitted answers took p50 {latency:.3g} s)" if latency is not None else ""
    return CasePower(case, 0, len(buckets), f"case {case!r} {why}{took}; {remedy}")


def rate_power(case: str, buckets: list[Bucket], tolerance: Tolerance) -> CasePower:
    """Over-admission's power in a case: some key offered more than its limit in a window."""
    span = admitted_span_ns(buckets)
    has = [offered_over_limit(bucket, tolerance, span) for bucket in buckets]
    if any(has) or not buckets:
        return case_power(case, buckets, has, "", "")
    rate = buckets[0].rate
    most = max(busiest_window(bucket, tolerance, span) for bucket in buckets)
    why = (
        f"never offered more than its limit ({rate.limit} per {rate.canonical_duration}) "
        f"within one window, at most {most}"
    )
    return case_power(case, buckets, has, why, REMEDY_RATE)


def smallest_rate_power(
    case: str, buckets: list[Bucket], tolerance: Tolerance, identification: Identification
) -> CasePower:
    """Over-admission's power in a case against the smallest violation, one admission too many
    per window: ``rate_power`` where the trace is held to one family, none while it is not.

    Undetermined, only the family-free rule applies, and it must allow what every family still
    possible admits: two windows' worth (2L) around a fixed or anchored window's boundary, or
    L + L·H/D in a hull H for a token bucket. Steady traffic puts L+1 admissions around some
    such boundary (or more than D/L apart) in every window, so one too many per window is always
    explained: only 2L+1 within one window could have shown (``limits.py``'s U1).
    """
    gross = rate_power(case, buckets, tolerance)
    if identification.family is not Family.UNDETERMINED or not gross.powered:
        return gross
    rate = buckets[0].rate
    possible = " or ".join(family.value for family in identification.possible)
    windows = format_duration(MIN_WINDOWS * rate.duration_ns)
    return CasePower(
        case,
        0,
        len(buckets),
        f"case {case!r} had no power against the smallest over-admission ({rate.limit + 1} "
        f"per {rate.canonical_duration}): the limiter family is undetermined (could be "
        f"{possible}), so one extra admission per window is explained by a window boundary; "
        f"{gross.with_power} keys could show only {2 * rate.limit + 1} or more within one "
        f"window; run at least {MIN_WINDOWS} windows (≥ {windows}) so that the waits tell "
        "the family",
    )


# Windows of throttles that tell a family from the others: in the first, every retry instant is
# the first boundary, which fixed and anchored windows share; the next two show whether the
# retry instants keep one lattice (aligned) or follow the admissions (anchored).
MIN_WINDOWS = 3


def throttled(bucket: Bucket) -> bool:
    """The key met its limit: what a throttle says could be judged."""
    return bool(np.any(bucket.code == THROTTLED))
