"""What a scenario cannot give the checks, said before any load: the plan's power warnings.

The checks say ``pass`` only where the traffic could have revealed the smallest violation
(``harness/conformance/power.py``); a run too short for it ends inconclusive. These are the
conditions that decide it beforehand, read from the scenario alone:
- over-admission: one admission too many per window is told from a window boundary only once
  the limiter family is known, which takes throttles over 3 windows of a case sending all along
  (``MIN_WINDOWS``); before, only 2L+1 within one window shows;
- burst, concurrency: while the family may stay unknown, one extra in a burst is proved only by
  bursts at 2 different phases of the window (one window offset cannot split both);
- wait-honesty: a polite client retries only when a wait ends inside the run, and the first wait
  may last a whole window.
"""

from __future__ import annotations

from harness.api.duration import format_duration, parse_duration
from harness.load.scenario import Burst, Case, Scenario

__all__ = ["MIN_WINDOWS", "power_warnings"]

MIN_WINDOWS = 3  # the conformance side's ``power.MIN_WINDOWS``: the same rule, said before


def _window_ns(case: Case) -> int:
    assert case.rate_limit is not None
    return case.rate_limit.duration_ns


def _family_told(scenario: Scenario, steady: list[Case]) -> bool:
    """Some case sending all along runs at least ``MIN_WINDOWS`` of its windows."""
    return any(scenario.case_duration_ns(case) >= MIN_WINDOWS * _window_ns(case) for case in steady)


def _burst_phases(scenario: Scenario, case: Case, burst: Burst) -> set[int]:
    """The phases (mod the window) at which the case's bursts start within its time."""
    time_ns, window = scenario.case_duration_ns(case), _window_ns(case)
    interval = max(1, _interval_ns(burst))
    starts = [k * interval for k in range(burst.repeat) if k * interval < time_ns]
    return {start % window for start in starts}


def _interval_ns(burst: Burst) -> int:
    return parse_duration(burst.interval)


def _over_admission(scenario: Scenario, steady: list[Case]) -> list[str]:
    if not steady or _family_told(scenario, steady):
        return []
    case = min(steady, key=_window_ns)
    window = _window_ns(case)
    return [
        f"over-admission: one extra per {format_duration(window)} window needs ≥ {MIN_WINDOWS} "
        f"windows: use ≥ {format_duration(MIN_WINDOWS * window)}"
    ]


def _bursts(scenario: Scenario, bursts: list[Case]) -> list[str]:
    warnings = []
    for case in bursts:
        burst = case.behaviour
        assert isinstance(burst, Burst)
        phases = _burst_phases(scenario, case, burst)
        if len(phases) >= 2:
            continue
        check = "concurrency" if burst.concurrent else "burst"
        window = format_duration(_window_ns(case))
        warnings.append(
            f"{check}: one extra in a burst needs bursts at ≥ 2 phases of the {window} window "
            f"while the limiter family is unknown: case {case.name!r} sends its bursts at "
            f"{len(phases)}; raise its 'repeat', use an 'interval' that is no multiple of "
            f"{window}, or run longer"
        )
    return warnings


def _polite(scenario: Scenario, polite: list[Case]) -> list[str]:
    return [
        f"wait-honesty: case {case.name!r}'s first wait may last its whole "
        f"{format_duration(_window_ns(case))} window: use ≥ "
        f"{format_duration(2 * _window_ns(case))} so that its clients retry inside the run"
        for case in polite
        if scenario.case_duration_ns(case) < 2 * _window_ns(case)
    ]


def power_warnings(scenario: Scenario) -> list[str]:
    """One line per check the scenario cannot give power against the smallest violation."""
    limited = [case for case in scenario.cases if case.rate_limit is not None]
    steady = [case for case in limited if not isinstance(case.behaviour, Burst)]
    bursts = [case for case in limited if isinstance(case.behaviour, Burst)]
    polite = [case for case in limited if case.behaviour.kind == "polite"]
    warnings = _over_admission(scenario, steady)
    if not _family_told(scenario, steady):
        warnings += _bursts(scenario, bursts)
    return warnings + _polite(scenario, polite)
