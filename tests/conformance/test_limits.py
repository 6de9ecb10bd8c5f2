"""Admission counts against the limit: over- and under-admission, bursts, vary isolation.

Buckets are built by hand (times in ns, on one clock) so each border can be hit exactly; most
tests use a tolerance of zero so that D⁻ = D = D⁺.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.conformance import CheckContext, Finding, Outcome, power
from harness.conformance.buckets import ADMITTED, OTHER, THROTTLED, Bucket
from harness.conformance.bursts import burst_finding, concurrency_finding
from harness.conformance.identify import Family, Identification
from harness.conformance.intervals import Phase, tight_windows
from harness.conformance.limits import (
    over_admission_finding,
    over_admissions,
    under_admission_finding,
    under_admissions,
    vary_isolation_finding,
)
from harness.conformance.power import shared_over_limit
from harness.conformance.registry import Judge
from harness.conformance.spec import CaseSpec, CheckInput, Tolerance

D = 1_000
EXACT = Tolerance(granularity_ns=0, boundary_ns=0, rate_error=0.0)
A, T, X = ADMITTED, THROTTLED, OTHER

Interval = tuple[int, int, int]  # (lo, hi, code)


def make_bucket(case: CaseSpec, requests: Sequence[Interval], key: str = "k") -> Bucket:
    """A bucket of ``requests`` sorted by ``lo`` as ``buckets()`` sorts them; the request ids
    are ``r0``, ``r1``... in that order."""
    ordered = sorted(requests, key=lambda r: r[0])
    assert case.rate is not None
    return Bucket(
        case=case,
        rate=case.rate,
        key=key,
        lo=np.asarray([r[0] for r in ordered], dtype=np.int64),
        hi=np.asarray([r[1] for r in ordered], dtype=np.int64),
        code=np.asarray([r[2] for r in ordered], dtype=np.int8),
        wait_ns=np.full(len(ordered), np.nan),
        rows=np.arange(len(ordered), dtype=np.intp),
        source=pd.Series([f"r{i}" for i in range(len(ordered))]),
        retries=0,
        one_clock=True,
        wall_of_zero_ns=0,
    )


def held_to(family: Family, phases: dict[tuple[str, str], Phase] | None = None) -> Identification:
    return Identification(family, "given", phases or {})


ANY = held_to(Family.UNDETERMINED)
LOG = held_to(Family.SLIDING_LOG)


def judged(check: Judge, buckets: list[Bucket], identification: Identification = ANY) -> Finding:
    """What ``check`` finds in hand-made buckets, held to ``identification``, with no slack."""
    data = CheckInput(pd.DataFrame(), {}, ZoneInfo("UTC"), True, EXACT)
    return check(CheckContext(data, buckets, identification))


@pytest.fixture
def case(make_case: Callable[..., CaseSpec]) -> CaseSpec:
    return make_case("c", 2, D)


def spaced(count: int, start: int, hull: int, code: int = A) -> list[Interval]:
    """``count`` point intervals from ``start`` to ``start + hull``."""
    return [
        (start + hull * i // (count - 1), start + hull * i // (count - 1), code)
        for i in range(count)
    ]


# Over-admission -----------------------------------------------------------------------------


def test_two_limits_and_one_within_exactly_one_window_fail_every_family(case: CaseSpec) -> None:
    # 2L+1 = 5 admitted with a hull of exactly D: no family admits more than 2L in a closed D.
    found = over_admissions(make_bucket(case, spaced(5, 0, D)), ANY, EXACT)
    assert found is not None
    assert "5 admitted within 1 window(s)" in found.text
    assert found.evidence.request_ids == ("r0", "r1", "r2", "r3", "r4")
    assert over_admissions(make_bucket(case, spaced(5, 0, D + 1)), ANY, EXACT) is None


def test_three_limits_and_one_within_two_windows_fail_every_family(case: CaseSpec) -> None:
    assert over_admissions(make_bucket(case, spaced(7, 0, 2 * D)), ANY, EXACT) is not None
    assert over_admissions(make_bucket(case, spaced(7, 0, 2 * D + 1)), ANY, EXACT) is None


def test_only_certain_admissions_count_for_over_admission(case: CaseSpec) -> None:
    requests = [*spaced(4, 0, 10), (5, 5, X), (6, 6, T)]
    assert over_admissions(make_bucket(case, requests), ANY, EXACT) is None


def test_limit_and_one_inside_a_window_fail_a_sliding_log_only_strictly(case: CaseSpec) -> None:
    log = held_to(Family.SLIDING_LOG)
    assert over_admissions(make_bucket(case, spaced(3, 0, D - 1)), log, EXACT) is not None
    assert over_admissions(make_bucket(case, spaced(3, 0, D)), log, EXACT) is None
    # Undetermined, three in a window is what aligned windows or a token bucket may do.
    assert over_admissions(make_bucket(case, spaced(3, 0, D - 1)), ANY, EXACT) is None


def test_anchored_windows_need_a_possible_window_start_one_window_before(case: CaseSpec) -> None:
    anchored = held_to(Family.ANCHORED_WINDOW)
    run = spaced(3, 5_000, 100)
    found = over_admissions(make_bucket(case, run), anchored, EXACT)
    assert found is not None
    assert "anchored-window" in found.text
    # Anything that may have used budget (here an unknown outcome) may have opened a window
    # at 4 050, which ends at 5 050, inside the run.
    assert over_admissions(make_bucket(case, [(4_050, 4_050, X), *run]), anchored, EXACT) is None
    # A throttle opens no window.
    assert over_admissions(make_bucket(case, [(4_050, 4_050, T), *run]), anchored, EXACT)


def test_a_token_bucket_allows_one_more_per_refill_interval(case: CaseSpec) -> None:
    bucket = held_to(Family.TOKEN_BUCKET)
    # Limit 2 per 1000: the third admission needs D/L = 500 after the first.
    assert over_admissions(make_bucket(case, spaced(3, 0, 499)), bucket, EXACT) is not None
    assert over_admissions(make_bucket(case, spaced(3, 0, 500)), bucket, EXACT) is None
    assert over_admissions(make_bucket(case, spaced(4, 0, 999)), bucket, EXACT) is not None
    assert over_admissions(make_bucket(case, spaced(4, 0, 1_000)), bucket, EXACT) is None


def test_aligned_windows_count_only_admissions_surely_inside_one(case: CaseSpec) -> None:
    phases = {("c", "k"): Phase(0.0, 10.0, D, 2)}
    aligned = held_to(Family.FIXED_WINDOW, phases)
    inside = [(100, 110, A), (200, 210, A), (300, 310, A)]
    found = over_admissions(make_bucket(case, inside), aligned, EXACT)
    assert found is not None
    assert "3 admitted inside one aligned window" in found.text
    near_boundary = [(100, 110, A), (200, 210, A), (985, 991, A)]  # 991 + 10 reaches 1 000
    assert over_admissions(make_bucket(case, near_boundary), aligned, EXACT) is None
    weak = held_to(Family.FIXED_WINDOW, {("c", "k"): Phase(0.0, 10.0, D, 0)})
    assert over_admissions(make_bucket(case, inside), weak, EXACT) is None


def test_over_admission_leaves_rotated_keys_to_vary_isolation(
    make_case: Callable[..., CaseSpec],
) -> None:
    plain, rotated = make_case("c", 2, D), make_case("r", 2, D, rotate="ip")
    too_many = spaced(5, 0, 10)
    # The plain key offers 3 within one window (limit 2): it has power, and was throttled.
    offered = [*spaced(2, 0, 10), (20, 30, T)]
    finding = judged(
        over_admission_finding,
        [make_bucket(plain, offered), make_bucket(rotated, too_many)],
        LOG,
    )
    assert (finding.outcome, finding.summary) == (Outcome.PASS, "1 keys judged, none in violation")
    failed = judged(over_admission_finding, [make_bucket(plain, too_many)])
    assert failed.outcome is Outcome.FAIL
    assert failed.evidence == ("r0", "r1", "r2", "r3", "r4")
    skipped = judged(over_admission_finding, [make_bucket(rotated, too_many)])
    assert skipped.outcome is Outcome.SKIPPED


# Under-admission ----------------------------------------------------------------------------


def test_a_throttle_after_fewer_than_limit_requests_of_a_fresh_key_fails(case: CaseSpec) -> None:
    found = under_admissions(make_bucket(case, [(0, 10, A), (20, 30, T)]), EXACT)
    assert found is not None
    assert "fewer than 2 requests of this key came before it" in found.text
    assert found.evidence.request_ids == ("r1",)
    # An unknown outcome may have used the budget too.
    unknown = [(0, 10, A), (12, 14, X), (20, 30, T)]
    assert under_admissions(make_bucket(case, unknown), EXACT) is None
    # Throttles never use it.
    throttles = [(0, 10, A), (12, 14, T), (20, 30, T)]
    assert under_admissions(make_bucket(case, throttles), EXACT) is not None


def test_a_throttle_with_the_budget_surely_back_fails(case: CaseSpec) -> None:
    # Two admissions, then a throttle at least a window after the first one: an admission at
    # τ no longer counts at τ + D in any family (the log expires entries ``<= now - D``).
    requests = [(0, 10, A), (500, 510, A), (1_010, 1_020, T)]
    found = under_admissions(make_bucket(case, requests), EXACT)
    assert found is not None
    assert "within the 1µs before it" in found.text
    may_still_count = [(0, 10, A), (500, 510, A), (1_009, 1_020, T)]
    assert under_admissions(make_bucket(case, may_still_count), EXACT) is None


def test_under_admission_finding_judges_every_key(case: CaseSpec) -> None:
    good = make_bucket(case, [(0, 1, A), (2, 3, A), (4, 5, T)], key="a")
    bad = make_bucket(case, [(0, 1, A), (4, 5, T)], key="b")
    assert judged(under_admission_finding, [good]).outcome is Outcome.PASS
    finding = judged(under_admission_finding, [good, bad])
    assert finding.outcome is Outcome.FAIL
    assert "key 'b'" in finding.summary
    assert judged(under_admission_finding, []).outcome is Outcome.SKIPPED


def test_a_key_the_target_never_answered_is_no_evidence_either_way(case: CaseSpec) -> None:
    silent = make_bucket(case, [(0, 1, X), (2, 3, X), (4, 5, X)], key="dead")
    good = make_bucket(case, [(0, 1, A), (2, 3, A), (4, 5, T)], key="a")
    for finding in (
        judged(under_admission_finding, [silent]),
        judged(over_admission_finding, [silent]),
    ):
        assert finding.outcome is Outcome.INCONCLUSIVE
        assert finding.summary == "1 keys got no answer that admitted or refused a request"
    finding = judged(under_admission_finding, [good, silent])
    assert finding.outcome is Outcome.PASS
    assert finding.summary == (
        "1 keys judged, none in violation; 1 keys got no answer that admitted or refused a request"
    )


def test_undetermined_steady_keys_have_no_power_against_one_too_many_per_window(
    case: CaseSpec,
) -> None:
    # Offered 3 within one window (limit 2) and throttled: power against gross over-admission,
    # none against a third admission, which a boundary of fixed or anchored windows explains.
    offered = make_bucket(case, [*spaced(2, 0, 10), (20, 30, T)])
    possible = Identification(
        Family.UNDETERMINED,
        "could be fixed-window or anchored-window",
        candidates=(Family.FIXED_WINDOW, Family.ANCHORED_WINDOW),
    )
    finding = judged(over_admission_finding, [offered], possible)
    assert finding.outcome is Outcome.INCONCLUSIVE
    assert finding.summary.startswith(
        "case 'c' had no power against the smallest over-admission (3 per 1µs): the limiter "
        "family is undetermined (could be fixed-window or anchored-window)"
    )
    assert "1 keys could show only 5 or more within one window" in finding.summary
    assert "run at least 3 windows (≥ 3µs)" in finding.summary
    assert finding.power is not None
    assert finding.power.with_power == 0
    # Held to a family, the same key has that power.
    assert judged(over_admission_finding, [offered], LOG).outcome is Outcome.PASS
    # A gross violation still fails, undetermined or not.
    gross = make_bucket(case, spaced(5, 0, 10))
    assert judged(over_admission_finding, [gross], possible).outcome is Outcome.FAIL


# Bursts -------------------------------------------------------------------------------------


@pytest.fixture
def burst(make_case: Callable[..., CaseSpec]) -> CaseSpec:
    return make_case("b", 2, D, behaviour="burst")


@pytest.fixture
def concurrent(make_case: Callable[..., CaseSpec]) -> CaseSpec:
    return make_case("cb", 2, D, behaviour="burst", concurrent=True)


def test_a_burst_admitting_more_than_the_family_allows_fails(burst: CaseSpec) -> None:
    three = make_bucket(burst, [*spaced(3, 0, 100), (101, 102, T)])
    finding = judged(burst_finding, [three], held_to(Family.SLIDING_LOG))
    assert finding.outcome is Outcome.FAIL
    assert "at most 2 allowed (sliding-log)" in finding.summary
    # Undetermined: a boundary may split the burst, so 2L = 4 may be admitted; and for the
    # same reason one burst had no power against one too many.
    alone = judged(burst_finding, [three])
    assert alone.outcome is Outcome.INCONCLUSIVE
    assert "fixed-window would explain 3 in each of its 1 bursts" in alone.summary
    five = make_bucket(burst, spaced(5, 0, 100))
    assert judged(burst_finding, [five]).outcome is Outcome.FAIL


def test_undetermined_bursts_at_different_phases_prove_one_too_many(burst: CaseSpec) -> None:
    # Limit 2: each burst admitted 3. Alone, a fixed window's boundary explains it; at phases 0
    # and 500 of the window no one lattice splits both, and every other family allows only 2.
    first = make_bucket(burst, [*spaced(3, 0, 20), (21, 22, T)], key="b1")
    apart = make_bucket(burst, [*spaced(3, 1_500, 20), (1_521, 1_522, T)], key="b2")
    finding = judged(burst_finding, [first, apart])
    assert finding.outcome is Outcome.FAIL
    assert "fixed-window would need a window boundary inside each of 2 bursts" in finding.summary
    assert finding.proofs[0].expected.startswith("at most 2 admitted (the case's bursts together")
    # One window apart they sit at one phase: explained, and no power against one too many.
    same = make_bucket(burst, [*spaced(3, 1_000, 20), (1_021, 1_022, T)], key="b2")
    assert judged(burst_finding, [first, same]).outcome is Outcome.INCONCLUSIVE
    # Bursts at two phases admitting exactly the limit: power, and a pass.
    exact = [
        make_bucket(burst, [*spaced(2, start, 20), (start + 21, start + 22, T)], key=f"k{start}")
        for start in (0, 1_500)
    ]
    passed = judged(burst_finding, exact)
    assert passed.outcome is Outcome.PASS
    assert passed.power is not None
    assert passed.power.with_power == 2


def test_a_token_bucket_burst_may_admit_one_more_per_refill(burst: CaseSpec) -> None:
    bucket = held_to(Family.TOKEN_BUCKET)
    assert judged(burst_finding, [make_bucket(burst, spaced(3, 0, 500))], bucket).outcome is (
        Outcome.PASS
    )
    assert judged(burst_finding, [make_bucket(burst, spaced(3, 0, 499))], bucket).outcome is (
        Outcome.FAIL
    )


def test_a_burst_with_an_aligned_boundary_inside_may_admit_twice(burst: CaseSpec) -> None:
    requests = [*spaced(4, 900, 200), (1_101, 1_102, T)]
    phases = {("b", "k"): Phase(0.0, 10.0, D, 2)}
    assert (
        judged(
            burst_finding, [make_bucket(burst, requests)], held_to(Family.FIXED_WINDOW, phases)
        ).outcome
        is Outcome.PASS
    )
    away = {("b", "k"): Phase(500.0, 10.0, D, 2)}  # boundaries at 500, 1 500: none inside
    finding = judged(
        burst_finding, [make_bucket(burst, requests)], held_to(Family.FIXED_WINDOW, away)
    )
    assert finding.outcome is Outcome.FAIL


def test_a_burst_throttled_before_the_limit_fails(burst: CaseSpec) -> None:
    short = make_bucket(burst, [(0, 1, A), (2, 3, T), (4, 5, T)])
    finding = judged(burst_finding, [short])
    assert finding.outcome is Outcome.FAIL
    assert "only 1 admitted before throttling" in finding.summary
    # The unknown answer may have used the budget: no failure. With only two decided answers
    # for a limit of 2 the burst could not have shown over-admission either: no pass.
    unknown = make_bucket(burst, [(0, 1, A), (1, 2, X), (2, 3, T)])
    assert judged(burst_finding, [unknown]).outcome is Outcome.INCONCLUSIVE
    decided = make_bucket(burst, [(0, 1, A), (1, 2, X), (2, 3, A), (3, 4, T)])
    assert judged(burst_finding, [decided], LOG).outcome is Outcome.PASS


def test_a_burst_that_got_no_answer_is_inconclusive(burst: CaseSpec) -> None:
    silent = make_bucket(burst, [(0, 1, X), (0, 1, X), (0, 1, X)])
    finding = judged(burst_finding, [silent])
    assert (finding.outcome, finding.summary) == (
        Outcome.INCONCLUSIVE,
        "1 bursts got no answer that admitted or refused a request",
    )


def test_sequential_and_concurrent_bursts_are_judged_by_their_own_check(
    burst: CaseSpec, concurrent: CaseSpec, case: CaseSpec
) -> None:
    exact = make_bucket(burst, [*spaced(2, 0, 10), (11, 12, T)])
    crowd = make_bucket(concurrent, spaced(5, 0, 10))
    hammer = make_bucket(case, spaced(5, 0, 10))
    assert judged(burst_finding, [exact, crowd, hammer], LOG).outcome is Outcome.PASS
    assert "1 admitted exactly the limit" in judged(burst_finding, [exact], LOG).summary
    assert judged(concurrency_finding, [exact, crowd, hammer], LOG).outcome is Outcome.FAIL
    assert judged(concurrency_finding, [hammer]).outcome is Outcome.SKIPPED


# Vary isolation -----------------------------------------------------------------------------


def test_a_rotated_key_split_into_several_budgets_fails_vary_isolation(
    make_case: Callable[..., CaseSpec],
) -> None:
    rotated = make_case("r", 2, D, rotate="forwarded_for")
    finding = judged(vary_isolation_finding, [make_bucket(rotated, spaced(5, 0, 10))])
    assert finding.outcome is Outcome.FAIL
    assert "rotating forwarded_for split one key" in finding.summary
    fine = judged(vary_isolation_finding, [make_bucket(rotated, spaced(4, 0, 10))])
    assert fine.outcome is Outcome.PASS


def test_a_key_throttled_by_another_keys_traffic_fails_vary_isolation(
    make_case: Callable[..., CaseSpec],
) -> None:
    two = make_case("two", 2, D, keys=2)
    first = make_bucket(two, [(0, 1, A), (2, 3, A), (4, 5, T)], key="a")
    second = make_bucket(two, [(6, 7, T)], key="b")
    finding = judged(vary_isolation_finding, [first, second])
    assert finding.outcome is Outcome.FAIL
    assert "another key's traffic used this key's budget" in finding.summary
    # A chatbot-wide limit (no vary) shares one budget by design: not judged here.
    shared = make_case("shared", 2, D, keys=2, vary_by="")
    alone = [make_bucket(shared, [(6, 7, T)], key=k) for k in ("a", "b")]
    assert judged(vary_isolation_finding, alone).outcome is Outcome.SKIPPED


def test_distinct_keys_have_isolation_power_only_over_one_keys_limit_together(
    make_case: Callable[..., CaseSpec],
) -> None:
    two = make_case("two", 2, D, keys=2)

    def together(*keys: list[Interval]) -> bool:
        named = [make_bucket(two, requests, key=f"k{i}") for i, requests in enumerate(keys)]
        return shared_over_limit(named, EXACT)

    # Two each (the limit), four within one window together: a shared budget would show.
    assert together([(0, 10, A), (20, 30, A)], [(40, 50, A), (60, 70, A)])
    # The same traffic a window apart: no window holds more than one key's limit.
    assert not together([(0, 10, A), (20, 30, A)], [(5_000, 5_010, A), (5_020, 5_030, A)])


def _merged_at_once(buckets: list[Bucket], tolerance: Tolerance) -> bool:
    """The reference: every key's decided requests sorted together in one stable sort."""
    decided = [np.flatnonzero(b.code != OTHER) for b in buckets]
    lo = np.concatenate(
        [b.lo[d] - tolerance.boundary_ns for b, d in zip(buckets, decided, strict=True)]
    )
    hi = np.concatenate(
        [b.hi[d] + tolerance.boundary_ns for b, d in zip(buckets, decided, strict=True)]
    )
    order = np.argsort(lo, kind="stable")
    rate = buckets[0].rate
    size, short = rate.limit + 1, tolerance.short(rate.duration_ns)
    return size <= len(lo) and len(tight_windows(lo[order], hi[order], size, short)) > 0


KEY_REQUESTS = st.lists(
    st.tuples(st.integers(0, 3_000), st.integers(0, 300), st.sampled_from([A, A, T, X])),
    max_size=16,
)


@settings(max_examples=500, deadline=None)
@given(
    keys=st.lists(KEY_REQUESTS, min_size=2, max_size=4),
    limit=st.integers(1, 4),
    slack=st.sampled_from([0, 30]),
    stretch=st.sampled_from([1, 3, 8, 1 << 20]),
)
# The only three requests within one window straddle two stretches (a stretch spans D here).
@example(
    keys=[[(0, 10, A), (900, 10, A), (1_100, 10, A)], [(1_000, 10, A)]], limit=2, slack=0, stretch=1
)
def test_the_keys_merged_a_stretch_at_a_time_answer_as_one_merge_of_them_all(
    make_case: Callable[..., CaseSpec],
    keys: list[list[tuple[int, int, int]]],
    limit: int,
    slack: int,
    stretch: int,
) -> None:
    case = make_case("joint", limit, D, keys=len(keys))
    buckets = [
        make_bucket(case, [(lo, lo + width, code) for lo, width, code in requests], key=f"k{i}")
        for i, requests in enumerate(keys)
    ]
    tolerance = Tolerance(granularity_ns=0, boundary_ns=slack, rate_error=0.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(power, "_STRETCH_REQUESTS", stretch)
        assert shared_over_limit(buckets, tolerance) == _merged_at_once(buckets, tolerance)


def test_a_counters_refusal_is_under_admission_named_as_the_counter_never_isolation(
    make_case: Callable[..., CaseSpec],
) -> None:
    # Limit 2 per D: two admissions in the previous window, one in this one, then a throttle
    # with only one of the key's requests within D before it. A sliding-window counter weights
    # the previous window's two and refuses: below the limit, but the key's own traffic explains
    # it, so it is under-admission (naming the counter), and never vary-isolation, however busy
    # the other key was.
    two = make_case("two", 2, D, keys=2)
    own = [(0, 1, A), (400, 401, A), (1_300, 1_301, A), (1_450, 1_451, T)]
    other = [(i * 100, i * 100 + 1, A) for i in range(15)]
    buckets = [make_bucket(two, own, key="a"), make_bucket(two, other, key="b")]
    found = under_admissions(buckets[0], EXACT)
    assert found is not None
    assert "a sliding-window counter's approximation does" in found.text
    assert judged(vary_isolation_finding, buckets).outcome is Outcome.PASS
    # With fewer than the limit within two windows, no family explains it: said so.
    lonely = [(0, 1, A), (2_300, 2_301, A), (2_450, 2_451, T)]
    found = under_admissions(make_bucket(two, lonely), EXACT)
    assert found is not None
    assert "not even a sliding-window counter does" in found.text


def test_a_fresh_keys_throttle_is_isolation_only_if_the_keys_together_explain_it(
    make_case: Callable[..., CaseSpec],
) -> None:
    two = make_case("two", 2, D, keys=2)
    throttled_fresh = make_bucket(two, [(6, 7, A), (8, 9, T)], key="b")
    # The other key sent one request before: together two, the limit: isolation fails.
    one_more = make_bucket(two, [(0, 1, A)], key="a")
    finding = judged(vary_isolation_finding, [one_more, throttled_fresh])
    assert finding.outcome is Outcome.FAIL
    assert "the case's keys together may have sent 2" in finding.summary
    # The other key's only request came after the throttle: nobody's traffic explains it, so
    # it is under-admission's finding, not a budget shared.
    after = make_bucket(two, [(20, 21, A)], key="a")
    assert judged(vary_isolation_finding, [after, throttled_fresh]).outcome is Outcome.PASS
    assert judged(under_admission_finding, [after, throttled_fresh]).outcome is Outcome.FAIL
