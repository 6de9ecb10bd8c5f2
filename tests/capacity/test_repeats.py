"""--repeat N: a rate's runs combined into means with Student's t intervals."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from harness.capacity import Slo, StepResult
from harness.capacity.open_result import open_result
from harness.capacity.repeats import combine, interval

SLO = Slo(p95_s=2.0, max_error_rate=0.01)


def run(index: int, throughput: float, p95: float, error_rate: float = 0.0,
        bound: bool | None = False) -> StepResult:  # fmt: skip
    return StepResult(
        index=index, offered=100, offered_unit="req/s", start_ns=index * 10,
        end_ns=index * 10 + 5, requests=300, errors=round(error_rate * 300),
        throughput_rps=throughput, error_rate=error_rate, p50_s=p95 / 2, p95_s=p95,
        p99_s=p95 * 1.1, within_slo=p95 <= 2 and error_rate <= 0.01, label="100rps",
        sent_rps=100, goodput_rps=throughput, p50_sent_s=0.04, p95_sent_s=0.05,
        p99_sent_s=0.06, late=1, unserved=0, throttled=0, out_of_quota=0, in_flight=4,
        littles_in_flight=4, steady=True, generator_bound=bound,
        generator_cpu_percent=None if bound is None else (95.0 if bound else 30.0),
    )  # fmt: skip


def test_the_interval_is_students_t_around_the_mean() -> None:
    low, high = interval([1.0, 2.0, 3.0])
    half = stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3)
    assert (low, high) == pytest.approx((2 - half, 2 + half))
    assert interval([5.0]) == (5.0, 5.0)


def test_runs_of_a_rate_are_one_step_of_means_counts_and_intervals() -> None:
    step = combine([run(2, 96, 0.08), run(3, 98, 0.1), run(4, 100, 0.12)], 0.01, 2.0)
    assert (step.index, step.label, step.repeats) == (2, "100rps", 3)
    assert step.throughput_rps == pytest.approx(98)
    assert step.p95_s == pytest.approx(0.1)
    assert (step.requests, step.late) == (900, 3)
    assert step.intervals is not None
    low, high = step.intervals["throughput_rps"]
    assert low < 98 < high
    assert (step.start_ns, step.end_ns) == (20, 45)
    assert step.within_slo


def test_the_mean_decides_the_slo_and_one_bound_run_marks_the_step() -> None:
    step = combine([run(2, 90, 0.1, 0.0), run(3, 90, 0.1, 0.05, bound=True)], 0.01, 2.0)
    assert step.error_rate == pytest.approx(0.025)
    assert not step.within_slo
    assert step.generator_bound
    assert step.generator_cpu_percent == 95.0


def test_the_sentence_quotes_the_interval() -> None:
    step = combine([run(2, 96, 0.08), run(3, 98, 0.1)], 0.01, 2.0)
    result = open_result("t", SLO, [], [step], "constant")
    assert "(95% confidence over 2 runs: goodput " in result.sentence
    assert result.capacity_rps == 100


def test_one_run_is_that_run() -> None:
    only = run(2, 96, 0.08)
    assert combine([only], 0.01, 2.0) is only
