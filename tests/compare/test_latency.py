"""Per case: admitted and refused answers apart, the p95 gate, rates and shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from harness.compare.latency import compare_case, compare_latency, p95_gate
from harness.compare.rundir import read_run
from harness.compare.stats import MIN_SAMPLES


def case_of(run_dir: Path, name: str = "c"):  # type: ignore[no-untyped-def]
    chats = read_run(run_dir).chats
    return chats[chats["case"] == name]


def test_a_run_throttled_more_does_not_look_faster(
    tmp_path: Path, make_run: Callable[..., Path], latencies_ms: Callable[..., np.ndarray]
) -> None:
    """Refusals take a millisecond: pooled with answers they would pull the p95 down."""
    base = make_run(tmp_path / "b", {"c": latencies_ms(20.0, seed=1)})
    candidate = make_run(
        tmp_path / "k", {"c": latencies_ms(20.0, seed=2)}, refused={"c": [1.0] * 2000}
    )
    case = compare_case("c", case_of(base), case_of(candidate))
    admitted, refused = case.latency
    assert (admitted.group, refused.group) == ("admitted", "refused")
    assert admitted.base_samples == 2000 == admitted.candidate_samples
    assert p95_gate(case, 0.10).outcome == "no significant change"
    assert refused.percentiles == []  # the base refused nothing
    assert "fewer than 30 refused answers" in refused.reason
    assert case.outcome_shares["throttled"].candidate == 0.5
    assert case.error_rate.candidate == 0.0


def test_a_slower_model_is_a_p95_regression(
    tmp_path: Path, make_run: Callable[..., Path], latencies_ms: Callable[..., np.ndarray]
) -> None:
    base = make_run(tmp_path / "b", {"c": latencies_ms(20.0, seed=1)})
    candidate = make_run(tmp_path / "k", {"c": latencies_ms(30.0, seed=2)})
    case = compare_case("c", case_of(base), case_of(candidate))
    gate = p95_gate(case, 0.10)
    assert gate.outcome == "regression"
    p95 = case.latency[0].percentiles[1]
    assert p95.quantile == 0.95
    assert 0.45 < p95.shift.low <= p95.shift.value <= p95.shift.high < 0.55
    assert p95.base_s.low <= p95.base_s.value <= p95.base_s.high
    assert case.latency[0].rank_p_value is not None
    assert case.latency[0].rank_p_value < 1e-6
    assert gate.summary.startswith("p95 of admitted answers ")


def test_a_large_but_small_shift_is_no_regression(
    tmp_path: Path, make_run: Callable[..., Path], latencies_ms: Callable[..., np.ndarray]
) -> None:
    """Thousands of samples make +3 % significant; within 10 % it must not fire the gate."""
    base = make_run(tmp_path / "b", {"c": latencies_ms(20.0, size=20_000, seed=1)})
    candidate = make_run(tmp_path / "k", {"c": latencies_ms(20.6, size=20_000, seed=2)})
    case = compare_case("c", case_of(base), case_of(candidate))
    p95 = case.latency[0].percentiles[1]
    assert p95.significant
    assert p95_gate(case, 0.10).outcome == "no significant change"
    assert p95_gate(case, 0.01).outcome == "regression"


def test_too_few_answers_are_not_compared() -> None:
    few = np.full(MIN_SAMPLES - 1, 0.02)
    result = compare_latency("admitted", few, np.full(500, 0.02))
    assert result.percentiles == []
    assert result.rank_p_value is None
    assert result.reason == f"fewer than {MIN_SAMPLES} admitted answers in a run (29 and 500)"


def test_rates_are_per_second_of_the_case(tmp_path: Path, make_run: Callable[..., Path]) -> None:
    run = make_run(tmp_path / "b", {"c": [20.0] * 101})  # sent 10 ms apart
    case = compare_case("c", case_of(run), case_of(run))
    assert case.requests == (101, 101)
    span_s = (100 * 10 + 20) / 1e3
    assert abs(case.admitted_per_s.base - 101 / span_s) < 1e-9
