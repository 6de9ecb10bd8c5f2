"""The plan's power warnings: what a scenario cannot give the checks, said before any load."""

from __future__ import annotations

from typing import Any

from harness.load.power_plan import power_warnings
from harness.load.scenario import Scenario, default_scenario_path, load_scenario, parse_scenario
from harness.load.settings import with_overrides


def scenario(duration: str, *cases: dict[str, Any]) -> Scenario:
    return parse_scenario({"name": "s", "duration": duration, "cases": list(cases)})


def limited(name: str, behaviour: dict[str, Any], window: str = "10s") -> dict[str, Any]:
    return {
        "name": name,
        "behaviour": behaviour,
        "rate_limit": {"limit": 5, "duration": window, "vary_by": "device"},
    }


OPEN = {"kind": "open", "over": 3}


def test_the_built_in_scenario_gives_every_check_its_power() -> None:
    assert power_warnings(load_scenario(default_scenario_path())) == []


def test_ten_seconds_of_the_built_in_scenario_warn_per_check() -> None:
    short = with_overrides(load_scenario(default_scenario_path()), "10s", None)
    warnings = power_warnings(short)
    assert warnings[0] == "over-admission: one extra per 10s window needs ≥ 3 windows: use ≥ 30s"
    # The concurrent bursts (every 8 s) start at two phases of 10 s within 10 s: no warning;
    # the back-to-back ones (every 12 s) only once.
    assert [w.split(":")[0] for w in warnings] == ["over-admission", "burst", "wait-honesty"]
    assert "case 'back-to-back-burst' sends its bursts at 1" in warnings[1]
    assert warnings[2] == (
        "wait-honesty: case 'device-polite''s first wait may last its whole 10s window: use "
        "≥ 20s so that its clients retry inside the run"
    )


def test_three_windows_of_a_steady_case_tell_the_family_and_silence_the_burst_warning() -> None:
    burst = limited("b", {"kind": "burst", "size": 8, "repeat": 3, "interval": "10s"})
    # Bursts a window apart share one phase: while the family may stay unknown, a warning.
    assert [
        w.split(":")[0] for w in power_warnings(scenario("29s", limited("o", OPEN), burst))
    ] == [
        "over-admission",
        "concurrency",
    ]
    assert power_warnings(scenario("30s", limited("o", OPEN), burst)) == []


def test_a_scenario_without_rate_limits_has_nothing_to_warn_of() -> None:
    assert power_warnings(scenario("5s", {"name": "a", "behaviour": {"kind": "hammer"}})) == []
