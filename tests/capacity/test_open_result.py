"""The open sweep's capacity.json: capacity from the bracket, the knee, the sentence."""

from __future__ import annotations

from harness.capacity import Slo, StepResult
from harness.capacity.open_result import OPEN_MODEL_NOTE, open_result

SLO = Slo(p95_s=2.0, max_error_rate=0.01)


def step(
    index: int, offered: float, p95: float, error_rate: float, unit: str = "req/s"
) -> StepResult:
    within = p95 <= SLO.p95_s and error_rate <= SLO.max_error_rate
    return StepResult(
        index=index, offered=offered, offered_unit=unit, start_ns=index, end_ns=index + 1,  # type: ignore[arg-type]
        requests=100, errors=round(error_rate * 100), throughput_rps=min(offered, 98.0),
        error_rate=error_rate, p50_s=p95 / 2, p95_s=p95, p99_s=p95, within_slo=within,
        label=f"s{index}", goodput_rps=min(offered, 98.0),
    )  # fmt: skip


BASELINES = [step(0, 1, 0.04, 0.0, "users"), step(1, 16, 0.12, 0.4, "users")]


def test_the_capacity_is_the_highest_rate_within_below_the_lowest_outside() -> None:
    rates = [step(2, 60, 0.045, 0), step(3, 120, 0.12, 0.18), step(4, 90, 0.05, 0),
             step(5, 105, 0.12, 0.05), step(6, 97, 0.09, 0.0)]  # fmt: skip
    result = open_result("http://target", SLO, BASELINES, rates, "constant")
    assert result.model == "open"
    assert result.model_note == OPEN_MODEL_NOTE
    assert (result.capacity_rps, result.capacity_step) == (97, 6)
    assert [s.index for s in result.steps] == [0, 1, 2, 3, 4, 5, 6]
    assert result.errors_begin_step == 5  # the lowest rate beyond 1 % errors
    assert result.knee_step == 6  # the first rate (by rate) whose p95 turned up from 40 ms
    assert "sustains 97 req/s (constant arrivals)" in result.sentence
    assert "within 5% of 105 req/s, which did not" in result.sentence


def test_no_rate_within_the_slo_says_how_the_lowest_did() -> None:
    rates = [step(2, 60, 3.0, 0), step(3, 30, 2.5, 0)]
    result = open_result("t", SLO, BASELINES, rates, "poisson")
    assert result.capacity_rps is None
    assert result.sentence.startswith("No rate met the SLO")
    assert "30 req/s (poisson arrivals)" in result.sentence


def test_every_rate_within_says_the_capacity_may_be_higher() -> None:
    result = open_result("t", SLO, BASELINES, [step(2, 60, 0.05, 0)], "constant")
    assert result.capacity_rps == 60
    assert "may be higher" in result.sentence


def test_a_sweep_stopped_before_its_bracket_was_narrow_says_so() -> None:
    rates = [step(2, 60, 0.05, 0), step(3, 120, 3.0, 0.2)]
    result = open_result("t", SLO, BASELINES, rates, "constant")
    assert "stopped before it was within 5% of 120 req/s" in result.sentence
