"""How far promised waits were off (``wait_accuracy.py``) and the declared granularity that
wait-honesty then tolerates: traces played by the emulator's limiter states."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.conformance import CheckContext, Finding, Outcome
from harness.conformance.buckets import buckets
from harness.conformance.spec import CaseSpec, CheckInput, Tolerance
from harness.conformance.wait_accuracy import (
    ErrorStats,
    infer_granularity,
    promise_errors,
    wait_accuracy,
)
from harness.conformance.waits import WaitProblem, wait_honesty_finding
from harness.emulator.policy import Policy
from harness.run.records import Record

D = 1_000_000_000
MS = 1_000_000
BASE = 1_000_000 * D


def sent(*offsets: float) -> list[tuple[int, int, int]]:
    return [(BASE + round(x * D), MS, MS) for x in offsets]


def retried(records: Sequence[Record], *positions: int) -> list[Record]:
    return [r.replace(phase="polite-retry") if n in positions else r for n, r in enumerate(records)]


def judged(
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
    records: Sequence[Record],
    limit: int,
    duration: int,
    granularity: int = 0,
) -> tuple[Finding, CheckInput]:
    case = replace(make_case("case", limit, duration), wait_granularity_ns=granularity)
    data = make_input(records, [case])
    return wait_honesty_finding(CheckContext.of(data)), data


@pytest.mark.parametrize(
    ("waits_s", "expected"),
    [
        ([1.0, 2.0, 5.0], D),
        ([0.5, 1.2, 3.0], 100 * MS),
        ([0.25, 1.0, 0.01], 10 * MS),
        ([0.001, 0.123, 1.0], MS),
        ([0.000_001, 0.5, 1.0], 1_000),
        ([0.000_000_5, 0.5, 1.0], 0),
        ([1.0, 2.0], 0),  # too few to tell
    ],
)
def test_the_resolution_is_the_coarsest_every_wait_is_a_multiple_of(
    waits_s: list[float], expected: int
) -> None:
    waits = np.array([round(w * 1e9) for w in waits_s], dtype=np.float64)
    assert infer_granularity(waits) == expected


def test_a_correct_log_shows_no_error_whatever_the_retries(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # Throttles at 0.2, 0.5 and 0.9 D promising the instant D; admitted at 1.01 D; 1.3 D throttled.
    records = simulator("sliding-log", 1, D).records(sent(0.0, 0.2, 0.5, 0.9, 1.01, 1.3))
    finding, data = judged(make_case, make_input, retried(records, 4), 1, D)
    assert finding.outcome is Outcome.PASS
    (bucket,) = buckets(data)
    late, early = promise_errors(bucket, Tolerance())
    assert len(late) == 4
    assert not late.any()
    assert not early.any()
    assert finding.measures is not None
    assert (finding.measures["late_count"], finding.measures["early_count"]) == (0, 0)
    assert "none surely late, none surely early" in finding.summary


def test_halved_waits_are_measured_early_by_at_least_what_the_trace_proves(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # 1 per 2 D; the throttle at 0.2 D promises 0.2 + 0.9 = 1.1 D; a throttle at 1.6 D proves
    # the budget was not free yet: early by at least 1.6 - 1.1 D less the client's 2 ms.
    target = simulator("sliding-log", 1, 2 * D, policy=Policy(wait_factor=0.5))
    records = target.records(sent(0.0, 0.2, 1.6, 2.05))
    (bucket,) = buckets(make_input(records, [make_case("case", 1, 2 * D)]))
    late, early = promise_errors(bucket, Tolerance())
    assert not late.any()
    slack = float(Tolerance().retry_slack(np.array([0.9 * D]))[0])
    assert early[0] == pytest.approx(0.5 * D - 2 * MS - slack, abs=2_000)
    # The throttle at 1.6 D promises 1.8 D, and the admission at 2.05 D cannot prove that early.
    stats = ErrorStats.of(early)
    assert stats.count == 1
    assert stats.max_s == pytest.approx(0.498 - slack / 1e9, abs=1e-5)


def test_doubled_waits_are_measured_late(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # 1 per D; the throttle at 0.2 D promises 0.2 + 1.6 = 1.8 D; admitted at 1.05 D.
    target = simulator("sliding-log", 1, D, policy=Policy(wait_factor=2.0))
    records = target.records(sent(0.0, 0.2, 1.05))
    keys = list(buckets(make_input(records, [make_case("case", 1, D)])))
    accuracy = wait_accuracy(keys, Tolerance())
    slack = float(Tolerance().retry_slack(np.array([1.6 * D]))[0])
    assert accuracy.late.count == 1
    assert accuracy.late.max_s == pytest.approx(0.75 - 0.002 - slack / 1e9, abs=1e-5)
    assert accuracy.early.count == 0


def test_whole_second_waits_pass_once_declared_and_a_two_second_lie_still_fails(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # 1 per 3 D, waits floored to whole seconds: the throttle at 0.2 D promises 2 s (2.2 D), the
    # budget frees at 3 D; the polite retry at 2.25 D is throttled: 0.8 s early, a rounding.
    floored = simulator("sliding-log", 1, 3 * D, policy=Policy(wait_whole_seconds=True))
    rounding = retried(floored.records(sent(0.0, 0.2, 2.25, 3.1)), 2, 3)
    exact, _ = judged(make_case, make_input, rounding, 1, 3 * D)
    assert exact.outcome is Outcome.FAIL
    assert exact.proofs[0].kind == WaitProblem.TOO_SHORT
    declared, _ = judged(make_case, make_input, rounding, 1, 3 * D, granularity=D)
    assert declared.outcome is Outcome.PASS, declared.summary
    assert "declared 1s" in declared.summary
    # 1 per 5 D, waits halved: the throttle at 0.2 D promises 2.4 s (2.6 D) where 4.8 s is true;
    # the retry at 3.7 D, past the promise and the granularity, is throttled: a lie beyond 1 s.
    halved = simulator("sliding-log", 1, 5 * D, policy=Policy(wait_factor=0.5))
    lie = retried(halved.records(sent(0.0, 0.2, 3.7, 5.1)), 2, 3)
    still, _ = judged(make_case, make_input, lie, 1, 5 * D, granularity=D)
    assert still.outcome is Outcome.FAIL
    assert still.proofs[0].kind == WaitProblem.TOO_SHORT


FAMILIES = ("sliding-log", "fixed-window", "token-bucket", "anchored-window")


@st.composite
def correct_traces(draw: st.DrawFn) -> dict[str, Any]:
    """One key of a correct limiter: random gaps (bursts to pauses), latencies up to a tenth of
    the window, a server clock within the tolerance's rate error."""
    limit = draw(st.integers(1, 4))
    duration = draw(st.integers(50, 2000)) * MS
    gaps = st.integers(0, 2 * duration // limit)
    latency = st.integers(0, duration // 10)
    steps = draw(st.lists(st.tuples(gaps, latency, latency), min_size=2, max_size=40))
    tau, trace = BASE + draw(st.integers(0, duration)), []
    for gap, before, after in steps:
        tau += gap
        trace.append((tau, before, after))
    return {
        "family": draw(st.sampled_from(FAMILIES)),
        "limit": limit,
        "duration": duration,
        "trace": trace,
        "skew": draw(st.floats(-2e-4, 2e-4)),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=correct_traces())
def test_a_correct_limiter_never_shows_a_promise_surely_off(
    run: dict[str, Any],
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    """The bounds are sound: whatever the timing, an honest wait is never measured off."""
    target = simulator(run["family"], run["limit"], run["duration"], skew=run["skew"])
    data = make_input(
        target.records(run["trace"]), [make_case("case", run["limit"], run["duration"])]
    )
    for bucket in buckets(data):
        late, early = promise_errors(bucket, data.tolerance)
        assert not late.any(), late
        assert not early.any(), early
