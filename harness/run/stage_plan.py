"""A run's staged cases as the readers of its records need them: each stage's window and the
rate it ramps between (``harness.load.stages``), without the scenario's types."""

from __future__ import annotations

from dataclasses import dataclass

from harness.load.scenario import Open
from harness.load.stages import stage_bounds_ns, staged_instants
from harness.run.plan import RunPlan

__all__ = ["StagedCase", "staged_cases"]

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class StagedCase:
    """``stages[i]``: (start s, end s, rate at its start, rate at its end), rates for all keys;
    ``first_arrival_s``: when a key's first constant arrival is due (the records know no
    schedule's start, only its arrivals: a reader places the first one here)."""

    name: str
    keys: int
    stages: tuple[tuple[float, float, float, float], ...]
    first_arrival_s: float


def staged_cases(plan: RunPlan) -> list[StagedCase]:
    """Every open case of the run whose rate follows stages, in the scenario's order."""
    found = []
    for case_plan in plan.cases:
        case = case_plan.case
        behaviour = case.behaviour
        if not isinstance(behaviour, Open) or behaviour.stages is None:
            continue
        keys = case.population.keys
        rates = [behaviour.start_rate, *(stage.target for stage in behaviour.stages)]
        bounds = stage_bounds_ns(behaviour.stages)
        first = next(staged_instants(0, 2**62, behaviour.stages, behaviour.start_rate,
                                     "constant", 0), 0)  # fmt: skip
        found.append(StagedCase(case.name, keys, tuple(
            (start / NS, end / NS, rates[i] * keys, rates[i + 1] * keys)
            for i, (start, end) in enumerate(bounds)
        ), first / NS))  # fmt: skip
    return found
