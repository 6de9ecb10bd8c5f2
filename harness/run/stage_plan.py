"""A run's staged cases as the readers of its records need them: each stage's window and the
rate (open cases) or the clients at work (staged users) it ramps between
(``harness.load.stages``), without the scenario's types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.load.scenario import Hammer, Open
from harness.load.stages import Stage, stage_bounds_ns, staged_instants
from harness.run.plan import RunPlan

__all__ = ["StagedCase", "staged_cases"]

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class StagedCase:
    """``stages[i]``: (start s, end s, level at its start, level at its end), for all keys: a
    rate (``model`` "rate") or clients at work ("users"); ``first_arrival_s``: when a key's first
    request is due (the records know no schedule's start, only its requests: a reader places the
    first one here). A rate's requests are placed by their intended instant, users' by their
    send."""

    name: str
    keys: int
    stages: tuple[tuple[float, float, float, float], ...]
    first_arrival_s: float
    model: Literal["rate", "users"] = "rate"


def staged_cases(plan: RunPlan) -> list[StagedCase]:
    """Every open case of the run whose rate follows stages, in the scenario's order."""
    found = []
    for case_plan in plan.cases:
        case = case_plan.case
        behaviour = case.behaviour
        if not isinstance(behaviour, Open | Hammer) or behaviour.stages is None:
            continue
        start_level = behaviour.start_rate if isinstance(behaviour, Open) else 0.0
        keys = case.population.keys
        levels = [start_level, *(stage.target for stage in behaviour.stages)]
        bounds = stage_bounds_ns(behaviour.stages)
        if isinstance(behaviour, Open):
            first = next(staged_instants(0, 2**62, behaviour.stages, start_level, "constant", 0), 0)
        else:
            first = _first_client_ns(behaviour.stages)
        found.append(
            StagedCase(
                case.name,
                keys,
                tuple(
                    (start / NS, end / NS, levels[i] * keys, levels[i + 1] * keys)
                    for i, (start, end) in enumerate(bounds)
                ),
                first / NS,
                "rate" if isinstance(behaviour, Open) else "users",
            )
        )
    return found


def _first_client_ns(stages: list[Stage]) -> int:
    """When the first client of a key is wanted: where the level reaches one half (rounded)."""
    offset, low = 0, 0.0
    for stage in stages:
        if stage.target >= 0.5 > low:
            return offset + round((0.5 - low) / (stage.target - low) * stage.duration_ns)
        if low >= 0.5:
            return offset
        offset, low = offset + stage.duration_ns, stage.target
    return offset
