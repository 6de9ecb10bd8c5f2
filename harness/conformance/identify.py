"""Which limiter family the target behaves like, read from the trace and its ``wait`` values.

The API only promises "at most ``limit`` messages per ``duration``"; sliding log, fixed window
(aligned or anchored) and token bucket all keep it, each in its own sense (research §1.2).
Each family's own checks are tighter than the family-free ones and sound only against it, so a
trace is held to a family only when sound evidence refutes every other one:
- no run of L+1 admissions inside one window: a sliding log (its own check is that very test);
- a wait longer than D/L refutes a token bucket;
- retry instants on no common lattice of period D refute aligned fixed windows;
- a retry instant that is one window after no request refutes anchored windows (and the log).
When more than one family is left the trace stays undetermined: family-free checks only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from harness.conformance.buckets import ADMITTED, THROTTLED, Bucket
from harness.conformance.intervals import Phase, estimate_phase, tight_windows, too_few_before
from harness.conformance.spec import Tolerance

__all__ = ["CORRECT_FAMILIES", "Family", "Identification", "identify", "retry_bounds"]


class Family(StrEnum):
    TOKEN_BUCKET = "token-bucket"
    SLIDING_LOG = "sliding-log"
    FIXED_WINDOW = "fixed-window"
    ANCHORED_WINDOW = "anchored-window"
    # Refuses below the limit of one window (the previous window's count weighted): no check is
    # held to it beyond the family-free ones, and under-admission names its approximation.
    SLIDING_WINDOW_COUNTER = "sliding-window-counter"
    # A token bucket on a clock of whole seconds: its refill comes late (the fraction dropped at
    # each admission) or early (a second boundary crossed), so only family-free checks apply.
    WHOLE_SECOND_TOKEN_BUCKET = "token-bucket-whole-seconds"
    UNDETERMINED = "undetermined"


CORRECT_FAMILIES = (
    Family.SLIDING_LOG,
    Family.TOKEN_BUCKET,
    Family.FIXED_WINDOW,
    Family.ANCHORED_WINDOW,
)


@dataclass(frozen=True)
class Identification:
    family: Family
    reason: str
    phases: dict[tuple[str, str], Phase] = field(default_factory=dict)
    parameters: dict[str, object] = field(default_factory=dict)
    # The correct families the trace leaves possible: the identified one alone, or (undetermined)
    # every one no evidence refuted. Checks that look for one request too many need it: a
    # boundary of one of them may explain an extra admission the others would not allow.
    candidates: tuple[Family, ...] = ()

    def describe(self) -> str:
        return f"{self.family.value}: {self.reason}"

    @property
    def possible(self) -> tuple[Family, ...]:
        """The families still possible: the identified one, or the candidates left."""
        if self.family is not Family.UNDETERMINED:
            return (self.family,)
        return self.candidates or CORRECT_FAMILIES


def retry_bounds(bucket: Bucket, tolerance: Tolerance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each throttle with a wait: its index, and the earliest and latest promised retry."""
    throttled = bucket.where(THROTTLED)
    throttled = throttled[~np.isnan(bucket.wait_ns[throttled])]
    wait = bucket.wait_ns[throttled]
    slack = tolerance.retry_slack(wait)
    return throttled, bucket.lo[throttled] + wait - slack, bucket.hi[throttled] + wait + slack


def _unanchored(
    bucket: Bucket, retry_lo: np.ndarray, retry_hi: np.ndarray, tolerance: Tolerance
) -> bool:
    """Whether some promised retry instant lies one window after no request at all.

    A sliding log and anchored windows both free their budget exactly D after an admission (the
    oldest in the log, the window's first hit), so every retry instant they promise is some
    consumer's instant plus D; aligned windows and token buckets promise other instants.
    """
    if not len(retry_lo):
        return False
    consumers = bucket.consumers()
    duration = bucket.rate.duration_ns
    c_lo, c_hi = np.sort(bucket.lo[consumers]), np.sort(bucket.hi[consumers])
    # Consumers c with [lo_c + D⁻, hi_c + D⁺] meeting [retry_lo, retry_hi].
    meeting = np.searchsorted(c_lo, retry_hi - tolerance.short(duration), "right") - (
        np.searchsorted(c_hi, retry_lo - tolerance.long(duration), "left")
    )
    return bool(np.any(meeting == 0))


def _refill(buckets: list[Bucket]) -> dict[str, object]:
    """A token bucket's refill, read from the longest wait: one message every D/L."""
    longest: dict[str, float] = {}
    for bucket in buckets:
        waits = bucket.wait_ns[~np.isnan(bucket.wait_ns)]
        if len(waits):
            name = bucket.case.name
            longest[name] = max(longest.get(name, 0.0), float(waits.max()) / 1e9)
    configured = {b.case.name: b.rate.duration_ns / b.rate.limit / 1e9 for b in buckets}
    return {
        "longest_wait_s": longest,
        "refill_interval_s_configured": {name: configured[name] for name in longest},
    }


def _alignment(buckets: list[Bucket], phases: dict[tuple[str, str], Phase]) -> dict[str, object]:
    """Where aligned windows start, as Unix time modulo the duration (0: epoch-aligned)."""
    starts: dict[str, list[float]] = {}
    for bucket in buckets:
        phase = phases.get((bucket.case.name, bucket.key))
        if phase is None or phase.periods_seen < 1:
            continue
        start = (phase.offset + bucket.wall_of_zero_ns) % phase.period
        if start > phase.period / 2:
            start -= phase.period  # report -1 ms rather than D - 1 ms
        starts.setdefault(bucket.case.name, []).append(start / 1e6)
    return {
        "window_start_ms_after_epoch_multiple": {
            name: round(float(np.median(values)), 3) for name, values in starts.items()
        }
    }


@dataclass(frozen=True)
class _Traits:
    """What the trace shows that refutes families: throttles seen, a wait beyond D/L (not a token
    bucket), L+1 within D (not a sliding log), retry instants on no lattice (not aligned
    windows), one one window after no request (not anchored windows), and each key's phase."""

    throttles: int
    long_wait: bool
    over_limit: bool
    falsified: bool
    confirmed: bool
    unanchored: bool
    phases: dict[tuple[str, str], Phase]


def _traits(buckets: list[Bucket], tolerance: Tolerance) -> _Traits:
    throttles = 0
    long_wait = over_limit = falsified = confirmed = unanchored = False
    phases: dict[tuple[str, str], Phase] = {}
    for bucket in buckets:
        rate = bucket.rate
        throttled, retry_lo, retry_hi = retry_bounds(bucket, tolerance)
        throttles += len(throttled)
        resolution = tolerance.granularity_ns + tolerance.wait_resolution_ns
        bound = tolerance.long(rate.duration_ns) / rate.limit + resolution
        long_wait |= bool(len(throttled) and bucket.wait_ns[throttled].max() > bound)
        admitted = bucket.where(ADMITTED)
        short = tolerance.short(rate.duration_ns)
        runs = tight_windows(bucket.lo[admitted], bucket.hi[admitted], rate.limit + 1, short)
        over_limit |= bool(len(runs))
        unanchored |= _unanchored(bucket, retry_lo, retry_hi, tolerance)
        # Widened by the lattice's drift between any two turns the bucket's requests and retry
        # instants (up to D after the last request) span, each interval holds every boundary
        # of the bucket, unwrapped: so does the phase's error, and checks need add only β.
        span = float(bucket.hi.max() - bucket.lo.min()) if len(bucket) else 0.0
        drift = tolerance.rate_error * (span + rate.duration_ns)
        phase = estimate_phase(retry_lo - drift, retry_hi + drift, rate.duration_ns)
        if phase is None:
            falsified = True
        else:
            phases[(bucket.case.name, bucket.key)] = phase
            confirmed |= phase.periods_seen >= 2
    return _Traits(throttles, long_wait, over_limit, falsified, confirmed, unanchored, phases)


def _declared(buckets: list[Bucket], traits: _Traits, declared: Family) -> Identification | None:
    """The declared family, where the trace does not refute it (None where it does): the
    declaration is the policy, so the family's own, tighter checks are the policy's."""
    refuted = {
        Family.TOKEN_BUCKET: traits.long_wait,
        Family.SLIDING_LOG: traits.over_limit,
        Family.FIXED_WINDOW: traits.falsified,
        Family.ANCHORED_WINDOW: traits.unanchored,
    }.get(declared, False)  # a sliding-window counter: no trait of the others refutes it
    if refuted:
        return None
    if declared is Family.FIXED_WINDOW and not traits.phases:
        # No key's window phase could be read (no waits): the aligned window's own tighter
        # bound can never fire, so holding the run to it would claim power it does not have.
        return None
    why = "declared by the scenario; nothing in the trace refutes it"
    if declared is Family.TOKEN_BUCKET:
        return Identification(declared, why, parameters=_refill(buckets))
    if declared is Family.FIXED_WINDOW:
        return Identification(declared, why, traits.phases, _alignment(buckets, traits.phases))
    return Identification(declared, why)


def _below_window(buckets: list[Bucket], tolerance: Tolerance) -> tuple[int, int]:
    """Throttles with fewer than ``limit`` of the key's requests within the window before them
    (which no sliding log, fixed window or token bucket makes), and how many of those had fewer
    than ``limit`` within two windows too (which a sliding-window counter does not make either)."""
    below = unexplained = 0
    for bucket in buckets:
        rate, throttled, consumers = bucket.rate, bucket.where(THROTTLED), bucket.consumers()
        window = tolerance.long(rate.duration_ns)
        early = too_few_before(bucket.lo, bucket.hi, throttled, consumers, rate.limit, window)
        below += len(early)
        lone = too_few_before(bucket.lo, bucket.hi, early, consumers, rate.limit, 2 * window)
        unexplained += len(lone)
    return below, unexplained


# Waits within this of a whole number of seconds read as whole seconds (a Redis TTL, a clock
# of seconds), once there are enough telling ones that chance cannot make them so: a wait close
# to the window D or to D/L is not telling (any family gives those right after a burst, and D
# and D/L are often whole seconds).
_WHOLE_SECOND_SLACK_NS = 20_000_000
_UNTELLING_NS = 50_000_000
_WHOLE_SECOND_EVIDENCE = 5
SECOND_NS = 1_000_000_000


def whole_second_waits(buckets: list[Bucket]) -> int:
    """How many waits there are if every one is a whole number of seconds (within 20 ms, at
    least five of them telling), else 0: the target's waits have a granularity of a second."""
    telling = 0
    waits = 0
    for bucket in buckets:
        wait = bucket.wait_ns[~np.isnan(bucket.wait_ns)]
        waits += len(wait)
        off = np.abs(wait - np.round(wait / SECOND_NS) * SECOND_NS)
        if bool(np.any(off > _WHOLE_SECOND_SLACK_NS)):
            return 0
        rate = bucket.rate
        plain = (np.abs(wait - rate.duration_ns) <= _UNTELLING_NS) | (
            np.abs(wait - rate.duration_ns / rate.limit) <= _UNTELLING_NS
        )
        telling += int(np.count_nonzero(~plain))
    return waits if telling >= _WHOLE_SECOND_EVIDENCE else 0


def _refill_waits(buckets: list[Bucket]) -> bool:
    """Every wait at most D/L rounded up to a whole second: a bucket's next token, not the end
    of a (weighted) window."""
    for bucket in buckets:
        waits = bucket.wait_ns[~np.isnan(bucket.wait_ns)]
        interval = bucket.rate.duration_ns / bucket.rate.limit
        bound = np.ceil(interval / SECOND_NS) * SECOND_NS + _WHOLE_SECOND_SLACK_NS
        if len(waits) and float(waits.max()) > bound:
            return False
    return True


def identify(
    buckets: list[Bucket], tolerance: Tolerance, declared: Family | None = None
) -> Identification:
    """The family the trace is held to: one whose own checks cannot fail a correct target of any
    family (module docstring), or undetermined; or the ``declared`` family (an http profile's
    policy) where the trace does not refute it.

    Two traits of real limiters come first. Waits all in whole seconds (a TTL, a clock of
    seconds) move every retry instant by up to a second: the families are then told apart with
    a granularity of a second, and the parameters say so. Throttles below one window's limit
    but not below two windows' are a sliding-window counter's (and no other exact family's), or,
    with whole-second waits no longer than D/L rounded up, a token bucket's that loses its
    fractional refill on a clock of whole seconds."""
    held = _declared(buckets, _traits(buckets, tolerance), declared) if declared else None
    if held is not None:
        return held
    whole = whole_second_waits(buckets)
    if whole:
        coarse = replace(tolerance, granularity_ns=max(tolerance.granularity_ns, SECOND_NS))
        found = _identify(buckets, coarse)
        if found.family is Family.SLIDING_WINDOW_COUNTER and _refill_waits(buckets):
            found = Identification(
                Family.WHOLE_SECOND_TOKEN_BUCKET,
                f"{found.parameters['throttles_below_one_window']} throttles below one "
                "window's limit, every wait at most duration/limit rounded up to a second: a "
                "token bucket on a clock of whole seconds, its fractional refill lost",
                parameters={**found.parameters, **_refill(buckets), "refill_lossy": True},
            )
        note = f"; all {whole} waits whole seconds (granularity 1 s)"
        return replace(
            found,
            reason=found.reason + note,
            parameters={**found.parameters, "wait_granularity_s": 1},
        )
    return _identify(buckets, tolerance)


def _identify(buckets: list[Bucket], tolerance: Tolerance) -> Identification:
    traits = _traits(buckets, tolerance)
    throttles, phases, confirmed = traits.throttles, traits.phases, traits.confirmed
    if not throttles:
        return Identification(Family.UNDETERMINED, "no throttle was seen")
    below, unexplained = _below_window(buckets, tolerance)
    if below and not unexplained:
        return Identification(
            Family.SLIDING_WINDOW_COUNTER,
            f"{below} of {throttles} throttles came with fewer than limit requests of the key "
            "within the window before them, each with limit or more within two windows: the "
            "previous window's count weighted",
            parameters={"throttles_below_one_window": below},
        )
    if below:
        return Identification(
            Family.UNDETERMINED,
            f"{unexplained} throttles with fewer than limit requests of the key within two "
            "windows before them: no family explains them",
        )
    if not traits.over_limit:
        # The sliding log's own check is this very test, so holding the trace to it is safe.
        return Identification(
            Family.SLIDING_LOG, "never more than limit admitted within a duration"
        )
    candidates = {
        Family.TOKEN_BUCKET: not traits.long_wait,
        Family.FIXED_WINDOW: not traits.falsified,
        Family.ANCHORED_WINDOW: not traits.unanchored,
    }
    left = [family for family, possible in candidates.items() if possible]
    if left == [Family.TOKEN_BUCKET]:
        return Identification(
            Family.TOKEN_BUCKET,
            f"all {throttles} waits at most duration/limit; retry instants on no aligned "
            "lattice, some one window after no admission",
            parameters=_refill(buckets),
        )
    if left == [Family.FIXED_WINDOW]:
        seen = "over several periods" if confirmed else "in one period"
        return Identification(
            Family.FIXED_WINDOW,
            f"more than limit within a duration; waits beyond duration/limit; retry instants on "
            f"one aligned lattice ({seen}), some one window after no admission",
            phases,
            _alignment(buckets, phases),
        )
    if left == [Family.ANCHORED_WINDOW]:
        return Identification(
            Family.ANCHORED_WINDOW,
            "more than limit within a duration; waits beyond duration/limit; retry instants on "
            "no common lattice, each possibly one window after an admission",
        )
    if not left:
        return Identification(
            Family.UNDETERMINED,
            "no correct family explains the waits and admissions",
            candidates=tuple(candidates),
        )
    return Identification(
        Family.UNDETERMINED,
        "more than limit within a duration; could be " + " or ".join(f.value for f in left),
        candidates=tuple(left),
    )
