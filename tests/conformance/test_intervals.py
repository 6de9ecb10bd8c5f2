"""The interval tests of research §4.3-4.4, at their borders and against plain references.

Every reference below restates a definition as directly as possible (a loop over requests or
pairs); the implementations, vectorised with sorting and ``searchsorted``, must agree on small
random inputs. Borders are where soundness lives: strict ``<`` against D⁻, ``≤`` for "could
precede", and intervals that could be ordered either way.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.conformance.intervals import (
    Phase,
    anchored_windows,
    early_admissions,
    estimate_phase,
    first_retry_throttled,
    moving_retry_instants,
    surely_in_aligned_window,
    tight_windows,
    too_few_before,
    window_max,
)

ADMITTED, THROTTLED = 0, 1
Ints = npt.NDArray[np.int64]
Index = npt.NDArray[np.intp]


def ints(*values: int) -> Ints:
    return np.asarray(values, dtype=np.int64)


def index(*values: int) -> Index:
    return np.asarray(values, dtype=np.intp)


def floats(*values: float) -> npt.NDArray[np.float64]:
    return np.asarray(values, dtype=np.float64)


@st.composite
def requests(draw: st.DrawFn, max_size: int = 10) -> tuple[Ints, Ints, npt.NDArray[np.int8]]:
    """Small intervals sorted by ``lo`` (ties and overlaps common), with outcome codes."""
    n = draw(st.integers(0, max_size))
    lo = sorted(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)))
    width = draw(st.lists(st.integers(0, 15), min_size=n, max_size=n))
    code = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return (
        ints(*lo),
        ints(*(a + w for a, w in zip(lo, width, strict=True))),
        np.asarray(code, dtype=np.int8),
    )


# window_max ---------------------------------------------------------------------------------


@settings(max_examples=300)
@given(
    values=st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=40),
    size=st.integers(1, 40),
)
def test_window_max_is_the_maximum_of_every_run_of_size(values: list[int], size: int) -> None:
    if size > len(values):
        size = len(values)
    got = window_max(ints(*values), size)
    assert got.dtype == np.int64  # exact: no float64 rounding of nanosecond instants
    assert got.tolist() == [max(values[i : i + size]) for i in range(len(values) - size + 1)]


# tight_windows ------------------------------------------------------------------------------


def test_a_hull_of_exactly_the_bound_is_not_tight_and_one_nanosecond_less_is() -> None:
    limit, short = 3, 1_000
    lo = ints(0, 100, 200, 300)
    assert list(tight_windows(lo, ints(10, 110, 210, 1_000), limit + 1, short)) == []
    assert list(tight_windows(lo, ints(10, 110, 210, 999), limit + 1, short)) == [0]
    assert list(tight_windows(lo, ints(10, 110, 210, 1_000), limit + 1, short, inclusive=True)) == [
        0
    ]


def test_the_hull_is_set_by_the_latest_end_not_the_last_request() -> None:
    # The first request is slow: its end, not the last one's, decides the hull.
    lo, hi = ints(0, 1, 2), ints(50, 3, 4)
    assert list(tight_windows(lo, hi, 3, 50)) == []
    assert list(tight_windows(lo, hi, 3, 51)) == [0]


def test_too_few_requests_or_a_size_below_one_find_nothing() -> None:
    assert list(tight_windows(ints(0, 1), ints(0, 1), 3, 10)) == []
    assert list(tight_windows(ints(0, 1), ints(0, 1), 0, 10)) == []
    assert list(tight_windows(ints(), ints(), 1, 10)) == []


def tight_reference(lo: Ints, hi: Ints, size: int, bound: float, inclusive: bool) -> list[int]:
    found = []
    for i in range(len(lo) - size + 1):
        hull = max(int(h) for h in hi[i : i + size]) - int(lo[i])
        if hull <= bound if inclusive else hull < bound:
            found.append(i)
    return found


@settings(max_examples=300)
@given(
    data=requests(),
    size=st.integers(1, 5),
    bound=st.integers(0, 40),
    inclusive=st.booleans(),
)
def test_tight_windows_agrees_with_every_consecutive_run(
    data: tuple[Ints, Ints, npt.NDArray[np.int8]], size: int, bound: int, inclusive: bool
) -> None:
    lo, hi, _ = data
    got = list(tight_windows(lo, hi, size, bound, inclusive))
    assert got == tight_reference(lo, hi, size, bound, inclusive)


# anchored_windows ---------------------------------------------------------------------------


def test_a_run_with_no_possible_window_start_before_it_is_a_witness() -> None:
    limit, short, long = 2, 100, 110
    lo, hi = ints(500, 510, 520), ints(505, 515, 525)
    # Starters whose instants end at or before lo[0] - D⁺ cannot have opened a window that ends
    # inside the run.
    found = anchored_windows(lo, hi, limit, short, long, ints(300, 385), ints(310, 390))
    assert list(found) == [0]


def test_a_starter_one_window_earlier_may_end_a_window_inside_the_run() -> None:
    limit, short, long = 2, 100, 110
    lo, hi = ints(500, 510, 520), ints(505, 515, 525)
    # Latest possible boundary-making starter: max(hi) - D⁻ = 425; earliest: lo - D⁺ = 390.
    assert list(anchored_windows(lo, hi, limit, short, long, ints(425), ints(426))) == []
    assert list(anchored_windows(lo, hi, limit, short, long, ints(426), ints(426))) == [0]
    assert list(anchored_windows(lo, hi, limit, short, long, ints(380), ints(391))) == []
    assert list(anchored_windows(lo, hi, limit, short, long, ints(380), ints(390))) == [0]


def anchored_reference(
    lo: Ints, hi: Ints, limit: int, short: int, long: int, s_lo: Ints, s_hi: Ints
) -> list[int]:
    found = []
    for i in tight_reference(lo, hi, limit + 1, short, inclusive=False):
        latest = max(int(h) for h in hi[i : i + limit + 1]) - short  # max τ - D
        earliest = int(lo[i]) - long  # min τ - D
        starters = [
            k for k in range(len(s_lo)) if s_lo[k] <= latest and s_hi[k] > earliest
        ]  # a starter in (min τ - D, max τ - D] ends a window inside the run
        if not starters:
            found.append(i)
    return found


@settings(max_examples=300)
@given(
    data=requests(),
    starters=requests(),
    limit=st.integers(1, 3),
    short=st.integers(1, 30),
    extra=st.integers(0, 5),
)
def test_anchored_windows_agrees_with_its_definition(
    data: tuple[Ints, Ints, npt.NDArray[np.int8]],
    starters: tuple[Ints, Ints, npt.NDArray[np.int8]],
    limit: int,
    short: int,
    extra: int,
) -> None:
    lo, hi, _ = data
    s_lo, s_hi, _ = starters
    got = list(anchored_windows(lo, hi, limit, short, short + extra, s_lo, s_hi))
    assert got == anchored_reference(lo, hi, limit, short, short + extra, s_lo, s_hi)


# too_few_before -----------------------------------------------------------------------------


def test_a_throttle_after_exactly_limit_minus_one_possible_consumers_is_a_witness() -> None:
    limit = 3
    lo, hi = ints(0, 10, 20, 30), ints(1, 11, 21, 31)
    assert list(too_few_before(lo, hi, index(3), index(0, 1), limit, None)) == [3]
    assert list(too_few_before(lo, hi, index(3), index(0, 1, 2), limit, None)) == []


def test_a_consumer_that_may_have_come_just_before_the_throttle_counts() -> None:
    # Consumer 2 starts exactly when the throttle's interval ends: it may have come first.
    lo, hi = ints(0, 5, 9), ints(1, 9, 20)
    assert list(too_few_before(lo, hi, index(1), index(0, 2), 2, None)) == []
    later = ints(0, 5, 10)  # one nanosecond later it surely came after
    assert list(too_few_before(later, hi, index(1), index(0, 2), 2, None)) == [1]


def test_overlapping_requests_count_as_possibly_before_whatever_their_order() -> None:
    # Two consumers entirely inside the throttle's interval, and one overlapping its start.
    lo, hi = ints(0, 10, 20, 30), ints(100, 15, 25, 35)
    assert list(too_few_before(lo, hi, index(0), index(1, 2, 3), 3, None)) == []
    assert list(too_few_before(lo, hi, index(0), index(1, 2, 3), 4, None)) == [0]


def test_with_a_horizon_only_consumers_that_may_lie_within_one_window_count() -> None:
    horizon = 100
    lo, hi = ints(0, 150, 160), ints(60, 155, 200)
    # Consumer 0 ends at 60 = lo_j - D⁺: it surely came a whole window before the throttle.
    assert list(too_few_before(lo, hi, index(2), index(0, 1), 2, horizon)) == [2]
    assert list(too_few_before(lo, hi, index(2), index(0, 1), 2, None)) == []
    hi_later = ints(61, 155, 200)
    assert list(too_few_before(lo, hi_later, index(2), index(0, 1), 2, horizon)) == []


def test_no_consumer_at_all_leaves_every_throttle_a_witness() -> None:
    lo, hi = ints(0, 1), ints(1, 2)
    assert list(too_few_before(lo, hi, index(0, 1), index(), 1, None)) == [0, 1]


@settings(max_examples=300)
@given(data=requests(), limit=st.integers(1, 4), horizon=st.none() | st.integers(0, 40))
def test_too_few_before_agrees_with_its_definition(
    data: tuple[Ints, Ints, npt.NDArray[np.int8]], limit: int, horizon: int | None
) -> None:
    lo, hi, code = data
    throttled = np.flatnonzero(code == THROTTLED)
    consumers = np.flatnonzero(code != THROTTLED)
    expected = []
    for j in throttled:
        before = sum(
            1
            for c in consumers
            if c != j
            and lo[c] <= hi[j]
            and (horizon is None or hi[c] > lo[j] - horizon)  # may lie in j's window
        )
        if before <= limit - 1:
            expected.append(int(j))
    assert list(too_few_before(lo, hi, throttled, consumers, limit, horizon)) == expected


# early_admissions (W2) ----------------------------------------------------------------------


def test_an_admission_surely_between_a_throttle_and_its_promise_is_a_witness() -> None:
    lo, hi = ints(0, 20), ints(10, 40)
    wait, slack = floats(50, np.nan), ints(5, 5)
    # Earliest promised retry: lo_j + w - slack = 45; the admission ends at 40 < 45.
    j, a = early_admissions(lo, hi, index(1), index(0), wait, slack)
    assert (list(j), list(a)) == ([0], [1])


def test_an_admission_ending_exactly_at_the_earliest_promise_is_not() -> None:
    lo, hi, slack = ints(0, 20), ints(10, 45), ints(5, 5)
    j, _ = early_admissions(lo, hi, index(1), index(0), floats(50, np.nan), slack)
    assert list(j) == []


def test_an_admission_that_may_have_come_before_the_throttle_is_not() -> None:
    # The admission starts exactly when the throttle's interval ends: it may precede it.
    lo, hi, slack = ints(0, 10), ints(10, 12), ints(0, 0)
    j, _ = early_admissions(lo, hi, index(1), index(0), floats(50, np.nan), slack)
    assert list(j) == []


def test_the_witness_is_the_surely_later_admission_that_ends_first() -> None:
    lo, hi, slack = ints(0, 20, 21, 22), ints(10, 90, 30, 35), ints(0, 0, 0, 0)
    j, a = early_admissions(lo, hi, index(1, 2, 3), index(0), floats(50, 0, 0, 0), slack)
    assert (list(j), list(a)) == ([0], [2])


@settings(max_examples=300)
@given(
    data=requests(),
    waits=st.lists(st.integers(0, 60), min_size=10, max_size=10),
    slack=st.integers(0, 3),
)
def test_early_admissions_agrees_with_every_pair(
    data: tuple[Ints, Ints, npt.NDArray[np.int8]], waits: list[int], slack: int
) -> None:
    lo, hi, code = data
    wait = np.asarray(waits[: len(lo)], dtype=np.float64)
    slacks = np.full(len(lo), slack, dtype=np.int64)
    admitted, throttled = np.flatnonzero(code == ADMITTED), np.flatnonzero(code == THROTTLED)
    pairs = {
        (int(j), int(a))
        for j in throttled
        for a in admitted
        if lo[a] > hi[j] and hi[a] < lo[j] + wait[j] - slack  # surely after, surely before R_j
    }
    got_j, got_a = early_admissions(lo, hi, admitted, throttled, wait, slacks)
    assert set(got_j.tolist()) == {j for j, _ in pairs}
    assert set(zip(got_j.tolist(), got_a.tolist(), strict=True)) <= pairs


def possibly_between(lo: Ints, hi: Ints, consumers: Index, start: int, end: int) -> list[int]:
    """The reference of "may have used budget in [start, end]": every consumer whose interval
    meets it. Touching counts: decisions at one instant may come in either order."""
    return [int(c) for c in consumers if lo[c] <= end and hi[c] >= start]


# first_retry_throttled (W3) -----------------------------------------------------------------


def test_a_retry_surely_after_the_promise_that_is_throttled_again_is_a_witness() -> None:
    code = np.asarray([THROTTLED, THROTTLED], dtype=np.int8)
    lo, hi, wait, slack = ints(0, 61), ints(10, 70), floats(50, np.nan), ints(0, 0)
    # Latest possible promise: hi_j + w + slack = 60; the retry starts at 61.
    j, p = first_retry_throttled(lo, hi, code, index(0, 1), wait, slack, THROTTLED)
    assert (list(j), list(p)) == ([0], [1])
    lo_at_promise = ints(0, 60)
    j, _ = first_retry_throttled(lo_at_promise, hi, code, index(0, 1), wait, slack, THROTTLED)
    assert list(j) == []


def test_a_retry_after_a_possible_admission_in_between_is_not() -> None:
    code = np.asarray([THROTTLED, ADMITTED, THROTTLED], dtype=np.int8)
    lo, hi, wait, slack = (
        ints(0, 5, 61),
        ints(10, 12, 70),
        floats(50, np.nan, np.nan),
        ints(0, 0, 0),
    )
    j, _ = first_retry_throttled(lo, hi, code, index(0, 2), wait, slack, THROTTLED)
    assert list(j) == []
    # A consumer that surely ended before the throttle began changes nothing.
    code = np.asarray([ADMITTED, THROTTLED, THROTTLED], dtype=np.int8)
    lo, hi = ints(-20, 0, 61), ints(-1, 10, 70)
    wait = floats(np.nan, 50, np.nan)
    j, p = first_retry_throttled(lo, hi, code, index(1, 2), wait, slack, THROTTLED)
    assert (list(j), list(p)) == ([1], [2])
    # One that may have been decided at the throttle's own instant may have come after it.
    touching = ints(-20, 0, 61), ints(0, 10, 70)
    j, _ = first_retry_throttled(*touching, code, index(1, 2), wait, slack, THROTTLED)
    assert list(j) == []


@settings(max_examples=300)
@given(
    data=requests(),
    waits=st.lists(st.integers(0, 40), min_size=10, max_size=10),
    slack=st.integers(0, 3),
)
def test_first_retry_throttled_agrees_with_its_definition(
    data: tuple[Ints, Ints, npt.NDArray[np.int8]], waits: list[int], slack: int
) -> None:
    lo, hi, code = data
    wait = np.asarray(waits[: len(lo)], dtype=np.float64)
    slacks = np.full(len(lo), slack, dtype=np.int64)
    throttled = np.flatnonzero(code == THROTTLED)
    consumers = np.flatnonzero(code != THROTTLED)
    expected = []
    for j in throttled:
        due = hi[j] + wait[j] + slack
        later = [p for p in range(len(lo)) if lo[p] > due]
        if not later:
            continue
        p = min(later)  # the first request surely after the latest promise
        between = possibly_between(lo, hi, consumers, lo[j], hi[p])
        if code[p] == THROTTLED and not between:
            expected.append((int(j), p))
    got_j, got_p = first_retry_throttled(lo, hi, code, throttled, wait, slacks, THROTTLED)
    assert list(zip(got_j.tolist(), got_p.tolist(), strict=True)) == expected


# moving_retry_instants (W4) -----------------------------------------------------------------


def test_two_throttles_with_nothing_between_and_different_promises_are_a_witness() -> None:
    code = np.asarray([THROTTLED, THROTTLED], dtype=np.int8)
    lo, hi, slack = ints(0, 20), ints(10, 30), ints(1, 1)
    j1, j2 = moving_retry_instants(lo, hi, code, index(0, 1), floats(50, 50), slack, THROTTLED)
    assert (list(j1), list(j2)) == ([0], [1])  # promises [49, 61] and [69, 81]
    same = floats(50, 30)  # promises [49, 61] and [49, 61]
    j1, _ = moving_retry_instants(lo, hi, code, index(0, 1), same, slack, THROTTLED)
    assert list(j1) == []


def test_touching_promises_may_be_the_same_instant() -> None:
    code = np.asarray([THROTTLED, THROTTLED], dtype=np.int8)
    lo, hi, slack = ints(0, 20), ints(10, 30), ints(0, 0)
    # [50, 60] and [60, 70] share the instant 60.
    j1, _ = moving_retry_instants(lo, hi, code, index(0, 1), floats(50, 40), slack, THROTTLED)
    assert list(j1) == []


def test_an_admission_the_later_decided_throttle_may_follow_is_between_them() -> None:
    """Regression: the first throttle (by start) is slow and its interval holds the second one's.

    A sliding log, limit 1, window 100: admitted at 0; throttled at 85 (promise 100); admitted at
    125; throttled at 160 (promise 225). The client saw the 160 one in [70, 170], the 85 one in
    [80, 90] and the admission in [120, 130]: by start the slow throttle comes first, and an
    admission that starts after the *second* interval's end still lies between the two decisions.
    """
    code = np.asarray([ADMITTED, THROTTLED, THROTTLED, ADMITTED], dtype=np.int8)
    lo, hi = ints(0, 70, 80, 120), ints(0, 170, 90, 130)
    wait, slack = floats(np.nan, 65, 15, np.nan), ints(0, 0, 0, 0)
    j1, _ = moving_retry_instants(lo, hi, code, index(1, 2), wait, slack, THROTTLED)
    assert list(j1) == []


@settings(max_examples=300)
@given(
    data=requests(),
    waits=st.lists(st.integers(0, 40), min_size=10, max_size=10),
    slack=st.integers(0, 3),
)
def test_moving_retry_instants_agrees_with_its_definition(
    data: tuple[Ints, Ints, npt.NDArray[np.int8]], waits: list[int], slack: int
) -> None:
    lo, hi, code = data
    wait = np.asarray(waits[: len(lo)], dtype=np.float64)
    slacks = np.full(len(lo), slack, dtype=np.int64)
    throttled = np.flatnonzero(code == THROTTLED)
    consumers = np.flatnonzero(code != THROTTLED)
    expected = []
    for j1, j2 in itertools.pairwise(throttled):
        first = (lo[j1] + wait[j1] - slack, hi[j1] + wait[j1] + slack)
        second = (lo[j2] + wait[j2] - slack, hi[j2] + wait[j2] + slack)
        disjoint = first[1] < second[0] or second[1] < first[0]
        # Anything that may lie between the two decisions, whichever came first.
        start, end = min(lo[j1], lo[j2]), max(hi[j1], hi[j2])
        between = possibly_between(lo, hi, consumers, start, end)
        if disjoint and not between:
            expected.append((int(j1), int(j2)))
    got1, got2 = moving_retry_instants(lo, hi, code, throttled, wait, slacks, THROTTLED)
    assert list(zip(got1.tolist(), got2.tolist(), strict=True)) == expected


# estimate_phase and surely_in_aligned_window ------------------------------------------------


def test_retry_instants_on_one_lattice_give_its_phase() -> None:
    period = 1_000
    lo, hi = floats(240, 2_245, 5_238), floats(260, 2_255, 5_250)
    phase = estimate_phase(lo, hi, period)
    assert phase is not None
    assert phase.periods_seen == 3
    assert phase.offset - phase.error <= 250 <= phase.offset + phase.error
    assert phase.error <= 10


def test_retry_instants_off_any_common_lattice_falsify_it() -> None:
    assert estimate_phase(floats(240, 2_540), floats(260, 2_560), 1_000) is None


def test_one_blocked_period_or_wide_instants_give_weak_evidence() -> None:
    one = estimate_phase(floats(240, 245), floats(260, 255), 1_000)
    assert one is not None
    assert one.periods_seen == 1
    wide = estimate_phase(floats(0, 2_540), floats(500, 2_560), 1_000)
    assert wide == Phase(0.0, 500.0, 1_000, 0)
    assert estimate_phase(floats(), floats(), 1_000) == Phase(0.0, 500.0, 1_000, 0)


@settings(max_examples=300)
@given(
    period=st.integers(100, 10_000),
    phase=st.floats(0, 1),
    turns=st.lists(st.integers(-20, 20), min_size=1, max_size=8),
    # Real retry intervals are at least 2(g + β) wide, so keep the boundary off their very ends,
    # where the float rounding of this construction could push it out.
    halves=st.lists(
        st.tuples(st.floats(0.001, 0.249), st.floats(0.01, 0.99)), min_size=8, max_size=8
    ),
)
def test_the_estimated_phase_always_holds_the_true_one(
    period: int, phase: float, turns: list[int], halves: list[tuple[float, float]]
) -> None:
    """If every retry interval holds a true boundary, the estimate holds the true phase."""
    true = phase * period
    lo, hi = [], []
    for turn, (half, where) in zip(turns, halves, strict=False):
        width = 2 * half * period
        start = true + turn * period - where * width  # the boundary lies inside
        lo.append(start)
        hi.append(start + width)
    found = estimate_phase(floats(*lo), floats(*hi), period)
    assert found is not None
    offset = found.offset % period
    distance = min(abs(offset - true), period - abs(offset - true))
    assert distance <= found.error + 1e-6 * period


@settings(max_examples=300)
@given(
    offset=st.integers(0, 999),
    error=st.integers(0, 50),
    slack=st.integers(0, 20),
    lo=st.integers(-3_000, 3_000),
    width=st.integers(0, 300),
)
def test_surely_in_window_holds_for_every_phase_and_instant_allowed(
    offset: int, error: int, slack: int, lo: int, width: int
) -> None:
    period = 1_000
    phase = Phase(float(offset), float(error), period, 2)
    window = int(surely_in_aligned_window(ints(lo), ints(lo + width), phase, slack)[0])
    if window < 0:
        return
    for shift in (-error - slack, 0, error + slack):  # the extreme phases and the estimate
        for tau in (lo, lo + width):
            assert math.floor((tau - offset - shift) / period) == window


def test_a_request_near_a_possible_boundary_is_in_no_sure_window() -> None:
    phase = Phase(100.0, 5.0, 1_000, 2)
    lo, hi = ints(150, 1_090, 1_104), ints(900, 1_099, 1_110)
    assert list(surely_in_aligned_window(lo, hi, phase, 2)) == [0, -1, -1]
    assert list(surely_in_aligned_window(ints(1_108), ints(1_200), phase, 2)) == [1]
