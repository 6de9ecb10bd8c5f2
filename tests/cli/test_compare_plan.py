"""The plan's ``compare p95`` column: whether two runs of a case give ``compare`` the answers to
resolve its default threshold, and how long a run would need; the built-in performance scenario
gives every case enough at the emulator's latency and at a language model's."""

from __future__ import annotations

import pytest

from harness.cli.rails import COMPARE_THRESHOLD, compare_power
from harness.load.estimate import CaseEstimate
from harness.load.reach import reach
from harness.load.samples import planned_power
from harness.load.scenario import default_scenario_path, load_scenario

NS = 1_000_000_000
SCENARIOS = default_scenario_path().parent


def estimate(name: str, keys: int, seconds: float, admitted: int) -> CaseEstimate:
    return CaseEstimate(name, "open", keys, int(seconds * NS), admitted, admitted, None)


@pytest.mark.parametrize("admitted_s", [0.02, 2.0])  # the emulator's answers, a model's
def test_every_perf_case_has_the_answers_compare_needs(admitted_s: float) -> None:
    scenario = load_scenario(SCENARIOS / "perf.toml")
    for case in scenario.cases:
        seconds = scenario.case_duration_ns(case) / NS
        most = 10**6  # a conformant target admits them all: the limits are far above the load
        power = compare_power(
            estimate(case.name, case.population.keys, seconds, most),
            case,
            reach(case, admitted_s),
        )
        # 5 a second on each of 4 keys; the polite case: 8 a second allowed on its one key.
        assert power.answers == (480 if case.name == "polite" else 1200), case.name
        assert power.enough(COMPARE_THRESHOLD), (case.name, power)
        assert not reach(case, admitted_s).warning  # in flight enough for the schedule


def test_a_case_with_too_few_answers_says_how_long_a_run_would_need() -> None:
    """The built-in scenario's device-open for 8 s: 4 keys sending 1.5 a second, 5 per 10 s
    admitted each: 16 answers, and 2 a second is the pace a run would go on at."""
    scenario = load_scenario(default_scenario_path())
    case = next(case for case in scenario.cases if case.name == "device-open")
    power = compare_power(estimate("device-open", 4, 8.0, 52), case, reach(case, 0.02))
    assert power.answers == 16
    assert not power.enough(COMPARE_THRESHOLD)
    assert power.needed == planned_power(10**4, 1.0, COMPARE_THRESHOLD).needed
    assert power.needed is not None
    assert power.seconds_needed == pytest.approx(power.needed / 2.0)
