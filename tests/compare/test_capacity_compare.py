"""Capacity and knee of two searches with intervals, and the capacity gate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.compare.capacity import capacity_gate, compare_capacity, step_rate
from harness.compare.rundir import read_run


def test_a_step_rate_is_its_throughput(
    tmp_path: Path, make_capacity_run: Callable[..., Path]
) -> None:
    run = read_run(make_capacity_run(tmp_path / "r", [50, 100, 100], 1)).capacity
    assert run is not None
    value, replicates = step_rate(run.requests, run.windows[1], 0)
    assert value == 100.0
    assert replicates.min() >= 90
    assert replicates.max() <= 110


def test_a_capacity_drop_beyond_the_allowed_is_a_regression(
    tmp_path: Path, make_capacity_run: Callable[..., Path]
) -> None:
    base = read_run(make_capacity_run(tmp_path / "b", [50, 100, 100], 1)).capacity
    candidate = read_run(make_capacity_run(tmp_path / "k", [40, 80, 80], 1)).capacity
    assert base is not None
    assert candidate is not None
    comparison = compare_capacity(base, candidate)
    assert comparison.base_rps is not None
    assert comparison.base_rps.value == 100.0
    assert comparison.shift is not None
    assert abs(comparison.shift.value + 0.2) < 1e-9
    gate = capacity_gate(comparison, 0.05)
    assert (gate.outcome, gate.decisive) == ("regression", True)
    assert gate.detectable == (comparison.shift.high - comparison.shift.low) / 2
    assert capacity_gate(comparison, 0.50).outcome == "no significant change"
    assert compare_capacity(candidate, base).shift.value > 0.2  # type: ignore[union-attr]
    assert capacity_gate(compare_capacity(candidate, base), 0.05).outcome == "improvement"


def test_a_search_with_no_step_within_the_slo(
    tmp_path: Path, make_capacity_run: Callable[..., Path]
) -> None:
    base = read_run(make_capacity_run(tmp_path / "b", [50, 100], 1)).capacity
    candidate = read_run(make_capacity_run(tmp_path / "k", [50, 100], None)).capacity
    assert base is not None
    assert candidate is not None
    lost = capacity_gate(compare_capacity(base, candidate), 0.05)
    assert lost.outcome == "regression"
    assert lost.summary.startswith("no step of CANDIDATE was within the SLO")
    assert capacity_gate(compare_capacity(candidate, base), 0.05).outcome == "improvement"
    neither = capacity_gate(compare_capacity(candidate, candidate), 0.05)
    assert neither.outcome == "not compared"


def test_a_capacity_from_a_step_of_too_few_answers_is_not_quoted(
    tmp_path: Path, make_capacity_run: Callable[..., Path]
) -> None:
    """Steps of 1 s at 50 answers/s: 50 answers cannot bracket a p95 (72 can), so whether the
    step was within its SLO is unproven, and so is the capacity drawn from it."""
    base = read_run(make_capacity_run(tmp_path / "b", [50, 60], 1, step_s=1.0)).capacity
    candidate = read_run(make_capacity_run(tmp_path / "k", [40, 45], 1, step_s=1.0)).capacity
    assert base is not None
    assert candidate is not None
    comparison = compare_capacity(base, candidate)
    assert (comparison.base_step_answers, comparison.candidate_step_answers) == (60, 45)
    gate = capacity_gate(comparison, 0.05)
    assert (gate.outcome, gate.decisive) == ("inconclusive", True)
    assert "quoted from steps of 60 and 45 answers" in gate.summary
    assert "needs 72 to be bracketed" in gate.summary
