"""Per case: admitted and refused answers apart, the p95 gate, rates and shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from harness.compare.latency import case_gates, compare_case, compare_latency, latency_gate
from harness.compare.result import CaseComparison, Thresholds
from harness.compare.rundir import read_run
from harness.compare.stats import MIN_SAMPLES


def case_of(run_dir: Path, name: str = "c"):  # type: ignore[no-untyped-def]
    chats = read_run(run_dir).chats
    return chats[chats["case"] == name]


def p95_gate(case: CaseComparison, threshold: float):  # type: ignore[no-untyped-def]
    return latency_gate(case, "admitted", 0.95, threshold)


def test_a_run_throttled_more_does_not_look_faster(
    tmp_path: Path, make_run: Callable[..., Path], latencies_ms: Callable[..., np.ndarray]
) -> None:
    """Refusals take a millisecond: pooled with answers they would pull the p95 down."""
    base = make_run(tmp_path / "b", {"c": latencies_ms(20.0, seed=1)})
    candidate = make_run(
        tmp_path / "k", {"c": latencies_ms(20.0, seed=2)}, refused={"c": [1.0] * 2000}
    )
    case = compare_case("c", case_of(base), case_of(candidate))
    admitted, refused, out_of_quota = case.latency
    assert (admitted.group, refused.group, out_of_quota.group) == (
        "admitted",
        "throttled",
        "out_of_quota",
    )
    assert admitted.base_samples == 2000 == admitted.candidate_samples
    assert p95_gate(case, 0.10).outcome == "no significant change"
    assert refused.percentiles == []  # the base refused nothing
    assert "fewer than 30 throttled answers" in refused.reason
    gates = {gate.subject: gate for gate in case_gates(case, Thresholds())}
    assert list(gates) == ["p95 c", "p50 throttled c", "p95 throttled c"]  # no out-of-quota
    assert gates["p50 throttled c"].outcome == "inconclusive"  # none in the base: no interval
    assert not gates["p50 throttled c"].decisive
    assert gates["p50 throttled c"].summary.startswith(
        "p50 of throttles: 0 and 2000 in the runs, and an interval needs 6 in each; at least 6 per"
    )

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


def test_too_few_admitted_answers_are_inconclusive_with_the_answers_needed(
    tmp_path: Path, make_run: Callable[..., Path], latencies_ms: Callable[..., np.ndarray]
) -> None:
    """20 answers a run cannot bracket a p95 (72 can): inconclusive and decisive, never a pass,
    with the count that would resolve 10 % read off the runs' own spread."""
    base = make_run(tmp_path / "b", {"c": latencies_ms(20.0, size=20, seed=1, spread=0.3)})
    candidate = make_run(tmp_path / "k", {"c": latencies_ms(20.0, size=20, seed=2, spread=0.3)})
    gate = p95_gate(compare_case("c", case_of(base), case_of(candidate)), 0.10)
    assert (gate.outcome, gate.decisive, gate.detectable) == ("inconclusive", True, None)
    assert gate.needed is not None
    assert 72 < gate.needed < 2000  # at least the fewest; 20 answers see only part of the tail
    assert gate.summary == (
        "p95 of admitted answers: 20 and 20 in the runs, and an interval needs 72 in each; "
        f"at least {gate.needed} per run would resolve ±10 %"
    )


def test_a_wide_spread_resolves_less_than_its_threshold(
    tmp_path: Path, make_run: Callable[..., Path], latencies_ms: Callable[..., np.ndarray]
) -> None:
    """300 answers of a wide spread bracket the p95 too loosely for ±10 %: inconclusive, even
    where the bootstrap's interval would have called it no change."""
    base = make_run(tmp_path / "b", {"c": latencies_ms(20.0, size=300, seed=1, spread=0.6)})
    candidate = make_run(tmp_path / "k", {"c": latencies_ms(20.0, size=300, seed=2, spread=0.6)})
    case = compare_case("c", case_of(base), case_of(candidate))
    gate = p95_gate(case, 0.10)
    assert gate.outcome == "inconclusive"
    assert gate.detectable is not None
    assert gate.detectable > 0.10
    assert " in the runs resolve ±" in gate.summary
    assert gate.needed is not None
    assert gate.needed > 300
    wide = p95_gate(case, 2.0)  # a threshold the runs do resolve: the bootstrap decides
    assert wide.outcome == "no significant change"


def test_refusals_that_slow_down_are_a_regression_of_their_own(
    tmp_path: Path, make_run: Callable[..., Path], latencies_ms: Callable[..., np.ndarray]
) -> None:
    base = make_run(
        tmp_path / "b", {"c": latencies_ms(20.0, seed=1)}, refused={"c": latencies_ms(2.0, seed=3)}
    )
    candidate = make_run(
        tmp_path / "k", {"c": latencies_ms(20.0, seed=2)}, refused={"c": latencies_ms(3.0, seed=4)}
    )
    case = compare_case("c", case_of(base), case_of(candidate))
    gates = {gate.subject: gate for gate in case_gates(case, Thresholds())}
    assert gates["p95 c"].outcome == "no significant change"
    assert gates["p50 throttled c"].outcome == "regression"
    assert gates["p95 throttled c"].outcome == "regression"
    assert gates["p50 throttled c"].summary.startswith("p50 of throttles 2.0 → 3.0 ms (+49.")
    assert gates["p50 throttled c"].detectable is not None
    assert gates["p50 throttled c"].detectable < 0.02
