"""Identification: a trace is held to a family only when the evidence refutes every other one.

Each trace is played by the emulator's own limiter state (or the test-local anchored window), so
the waits and admissions are exactly what that family answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from harness.conformance import Outcome, evaluate
from harness.conformance.buckets import ADMITTED, THROTTLED, Bucket, buckets
from harness.conformance.identify import Family, Identification, identify, whole_second_waits
from harness.conformance.limits import under_admissions
from harness.conformance.spec import CaseSpec, CheckInput, Tolerance
from harness.emulator.policy import Policy

D = 1_000_000_000
MS = 1_000_000
BASE = 1_000_000 * D  # a boundary of aligned windows
LATENCY = MS  # each request seen in [τ - 1 ms, τ + 1 ms]


@pytest.fixture
def judge(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> Callable[..., tuple[Identification, dict[str, Outcome]]]:
    """Play ``offsets`` (fractions of D after ``start``) on a family; identify, and run every
    check, returning the identification and each check's outcome."""

    def run(
        family: str, limit: int, offsets: list[float], start: int = BASE
    ) -> tuple[Identification, dict[str, Outcome]]:
        sent = [(start + round(x * D), LATENCY, LATENCY) for x in offsets]
        records = simulator(family, limit, D).records(sent)
        data = make_input(records, [make_case("case", limit, D)])
        identification = identify(list(buckets(data)), data.tolerance)
        verdict = evaluate(data, "simulated")
        return identification, {check.id: check.outcome for check in verdict.checks}

    return run


def test_no_throttle_leaves_the_family_undetermined(judge: Callable[..., Any]) -> None:
    identification, outcomes = judge("fixed-window", 2, [0.1, 0.2])
    assert identification.family is Family.UNDETERMINED
    assert Outcome.FAIL not in outcomes.values()


@pytest.mark.parametrize("family", ["sliding-log", "fixed-window", "token-bucket"])
def test_never_more_than_limit_within_a_window_is_read_as_a_sliding_log(
    judge: Callable[..., Any], family: str
) -> None:
    # Two per window, a second apart: every family admits the same and throttles the third.
    identification, outcomes = judge(family, 2, [0.1, 0.2, 0.3, 1.2, 1.3, 1.35])
    assert identification.family is Family.SLIDING_LOG
    assert Outcome.FAIL not in outcomes.values()


def test_aligned_windows_are_recognised_by_their_lattice_and_their_fresh_start(
    judge: Callable[..., Any],
) -> None:
    # The key starts at 0.3 D: its first promise is the boundary at D, not 0.3 D + D.
    offsets = [0.30, 0.31, 0.32, 1.01, 1.02, 1.03, 2.01, 2.02, 2.03]
    identification, outcomes = judge("fixed-window", 2, offsets)
    assert identification.family is Family.FIXED_WINDOW
    phase = identification.phases[("case", "dev-1")]
    assert phase.periods_seen == 3
    # The bucket's frame starts at the first request's widened send instant; the true
    # boundaries (multiples of D after BASE) must lie within the estimate's error.
    first_lo = BASE + round(0.30 * D) - LATENCY - 1_000
    rest = (phase.offset + first_lo - BASE) % D
    assert min(rest, D - rest) <= phase.error + 1
    assert Outcome.FAIL not in outcomes.values()


@pytest.mark.parametrize("skew", [2e-4, -2e-4])
def test_the_phase_error_covers_every_boundary_of_a_drifting_lattice(
    skew: float,
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    """The server's clock runs ρ fast or slow: over 100 windows its boundaries drift 20 ms on
    ours. Every one of them must stay within the estimated phase's error (checks then add only
    β), however far it is from the retry instants the phase was read from."""
    server = [0.98, 0.985, 0.995, 0.997, 1.002, 1.004, 1.03, 100.1, 100.11, 100.12]
    anchor = BASE + round(server[0] * D)

    def client(at: int) -> int:
        return anchor + round((at - anchor) / (1 + skew))

    sent = [(client(BASE + round(x * D)), MS // 2, MS // 2) for x in server]
    records = simulator("fixed-window", 2, D, skew=skew).records(sent)
    data = make_input(records, [make_case("case", 2, D)])
    (bucket,) = buckets(data)
    identification = identify([bucket], data.tolerance)
    assert identification.family is Family.FIXED_WINDOW
    phase = identification.phases[("case", "dev-1")]
    base = min(tau - before for tau, before, _ in sent) - data.tolerance.granularity_ns
    for k in range(103):
        rest = (client(BASE + k * D) - base - phase.offset) % D
        assert min(rest, D - rest) <= phase.error, k


def test_a_token_bucket_is_recognised_once_windows_are_refuted(judge: Callable[..., Any]) -> None:
    # Promises at 0.5 D and 1.0 D (one token each D/2): on no lattice of period D, and 0.5 D
    # is one window after nothing.
    identification, outcomes = judge("token-bucket", 2, [0.0, 0.01, 0.02, 0.6, 0.61])
    assert identification.family is Family.TOKEN_BUCKET
    assert Outcome.FAIL not in outcomes.values()


def test_anchored_windows_are_recognised_when_the_rest_is_refuted(
    judge: Callable[..., Any],
) -> None:
    # Windows open at 0 and at 1.05 D: promises at D and 2.05 D, each one window after an
    # admission and on no common lattice; a wait of 0.98 D is no token bucket's.
    offsets = [0.0, 0.9, 0.95, 1.05, 1.06, 1.07]
    identification, outcomes = judge("anchored-window", 2, offsets, start=BASE + 123 * MS)
    assert identification.family is Family.ANCHORED_WINDOW
    assert Outcome.FAIL not in outcomes.values()


def test_a_token_bucket_seen_for_one_blocked_period_is_not_held_to_anchored_windows(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    """Regression (found by test_soundness): limit 2 per 20 ms, three at once, then two more.

    The bucket admits 0, 0 and 12.96 ms and promises 10 ms twice. Three admissions within 20 ms
    and one retry instant used to read as anchored windows, whose check then failed a correct
    token bucket ("3 admitted within less than 20ms").
    """
    duration = 20 * MS
    sent = [(BASE, 0, 0)] * 3 + [(BASE + 9_998_870, 0, 0), (BASE + 12_958_150, 0, 0)]
    records = simulator("token-bucket", 2, duration).records(sent)
    data = make_input(records, [make_case("case", 2, duration)])
    identification = identify(list(buckets(data)), data.tolerance)
    assert identification.family is Family.UNDETERMINED
    assert "token-bucket" in identification.reason
    assert "fixed-window" in identification.reason
    verdict = evaluate(data, "simulated")
    assert [c.id for c in verdict.checks if c.outcome is Outcome.FAIL] == []


def test_aligned_windows_of_limit_one_are_not_taken_for_a_token_bucket(
    judge: Callable[..., Any],
) -> None:
    """Regression: with limit 1 every wait is at most duration/limit, so ten throttles used to
    read as a token bucket, whose check then failed two admissions 0.52 D apart (one each side
    of an aligned boundary)."""
    offsets = [0.5, 0.6, 1.02, *(1.1 + 0.08 * k for k in range(10))]
    identification, outcomes = judge("fixed-window", 1, offsets)
    assert identification.family is Family.UNDETERMINED
    # Never failed; undetermined, it had no power against one admission too many per window.
    assert outcomes["over-admission"] is Outcome.INCONCLUSIVE
    assert Outcome.FAIL not in outcomes.values()


def test_a_target_no_family_explains_is_undetermined(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # A sliding log that admits 3 where 2 are configured and reports 80% of each wait: a long
    # wait, promises on no lattice, and none one window after an admission.
    target = simulator("sliding-log", 2, D, real_limit=3, policy=Policy(wait_factor=0.8))
    offsets = [0.0, 0.1, 0.2, 0.3, 1.05, 1.06]
    records = target.records([(BASE + round(x * D), LATENCY, LATENCY) for x in offsets])
    data = make_input(records, [make_case("case", 2, D)])
    identification = identify(list(buckets(data)), data.tolerance)
    assert identification.family is Family.UNDETERMINED
    assert "no correct family" in identification.reason


# Families of real limiters --------------------------------------------------------------------

Row = tuple[float, str, float | None]  # (instant in windows, "A" or "T", wait in seconds)


def hand_bucket(case: CaseSpec, rows: list[Row], key: str = "k") -> Bucket:
    """A key's requests seen exactly (lo = hi) at ``rows``' instants (fractions of D, 1 s)."""
    assert case.rate is not None
    code = {"A": ADMITTED, "T": THROTTLED}
    return Bucket(
        case=case,
        rate=case.rate,
        key=key,
        lo=np.asarray([round(at * D) for at, _, _ in rows], dtype=np.int64),
        hi=np.asarray([round(at * D) for at, _, _ in rows], dtype=np.int64),
        code=np.asarray([code[c] for _, c, _ in rows], dtype=np.int8),
        wait_ns=np.asarray([np.nan if w is None else w * D for _, _, w in rows]),
        rows=np.arange(len(rows), dtype=np.intp),
        source=pd.Series([f"r{i}" for i in range(len(rows))]),
        retries=0,
        one_clock=True,
        wall_of_zero_ns=0,
    )


EXACT = Tolerance(granularity_ns=0, boundary_ns=0, rate_error=0.0)


def test_throttles_below_one_windows_limit_but_not_two_name_a_sliding_window_counter(
    make_case: Callable[..., CaseSpec],
) -> None:
    case = make_case("c", 3, 2 * D)  # 3 per 2 s
    # Three admitted in the window [0, 2), one at 2.5: at 2.6 a counter weights the previous
    # window's 3 by 0.7 (floor 2), adds the current 1 and refuses, with one request in the 2 s
    # before it and four within two windows.
    rows: list[Row] = [(0.0, "A", None), (0.1, "A", None), (0.2, "A", None)]
    rows += [(2.5, "A", None), (2.6, "T", 0.3), (2.7, "T", 0.2)]
    found = identify([hand_bucket(case, rows)], EXACT)
    assert found.family is Family.SLIDING_WINDOW_COUNTER
    assert "previous window's count weighted" in found.reason
    # Fewer than the limit within two windows too: no family explains it, not even a counter.
    lonely: list[Row] = [(0.0, "A", None), (5.0, "A", None), (5.1, "T", 0.5)]
    assert identify([hand_bucket(case, lonely)], EXACT).family is Family.UNDETERMINED


def test_waits_all_in_whole_seconds_are_read_as_a_granularity(
    make_case: Callable[..., CaseSpec],
) -> None:
    case = make_case("c", 2, 10 * D)  # 2 per 10 s: D and D/L are 10 s and 5 s
    rows: list[Row] = [(0.0, "A", None), (0.5, "A", None)]
    rows += [(0.5 + i, "T", float(10 - i)) for i in (1, 2, 3, 4, 6, 7)]  # 9, 8, 7, 6, 4, 3 s
    bucket = hand_bucket(case, rows)
    assert whole_second_waits([bucket]) == 6
    found = identify([bucket], EXACT)
    assert found.parameters["wait_granularity_s"] == 1
    assert "waits whole seconds" in found.reason
    # One wait off the second, or waits only of D and D/L, say nothing of a granularity.
    off = hand_bucket(case, [*rows[:-1], (7.5, "T", 3.25)])
    assert whole_second_waits([off]) == 0
    plain: list[Row] = [(0.0, "A", None), (0.1, "A", None)]
    plain += [(0.1 + i / 100, "T", 10.0 if i % 2 else 5.0) for i in range(1, 9)]
    assert whole_second_waits([hand_bucket(case, plain)]) == 0


def test_a_token_bucket_losing_its_refill_on_a_clock_of_seconds_is_not_taken_for_a_counter(
    make_case: Callable[..., CaseSpec],
) -> None:
    # 5 per 4 s (a token every 0.8 s): a bucket on whole seconds that restarts its clock at
    # every admission refills nothing for requests 0.9 s apart, and says "retry after 1 s".
    case = make_case("c", 5, 4 * D)
    rows: list[Row] = [(0.1 * i, "A", None) for i in range(5)]
    rows += [(0.5 + 0.9 * i, "T", 1.0) for i in range(1, 6)]
    found = identify([hand_bucket(case, rows)], EXACT)
    assert found.family is Family.WHOLE_SECOND_TOKEN_BUCKET
    assert "fractional refill lost" in found.reason
    assert found.parameters["wait_granularity_s"] == 1
    # Its under-admission names the bucket's lost refill, not a counter.
    problem = under_admissions(hand_bucket(case, rows), EXACT, found.family)
    assert problem is not None
    assert "a token bucket that loses its fractional refill does" in problem.text
