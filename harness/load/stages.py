"""A staged arrival rate: ramp, hold, spike, ramp down (k6's ``ramping-arrival-rate``).

An open case may give ``stages = [{duration = "10s", target = 30}, ...]`` instead of one rate:
the rate (per key, per second) moves linearly from ``start_rate`` to the first stage's target
over its duration, then from each target to the next; a hold is a stage whose target is the
previous one, a spike a short stage to a high one. After the last stage no arrival is due.

Pure. The schedule inverts the cumulative rate Λ(t) (arrivals expected by ``t``): constant
arrivals leave where Λ reaches 1, 2, 3…; Poisson arrivals where it reaches a sum of unit
exponential draws (the time-rescaling theorem), so their rate follows the stages too.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.api.duration import parse_duration
from harness.load.go_duration import GoDuration

__all__ = [
    "Stage",
    "Think",
    "stage_bounds_ns",
    "staged_arrivals",
    "staged_count",
    "staged_instants",
    "staged_level",
    "think_draws",
]

NS = 1_000_000_000


class Stage(BaseModel):
    """Over ``duration``, the rate moves linearly to ``target`` arrivals per second (per key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duration: GoDuration
    target: float = Field(ge=0, le=100_000)

    @property
    def duration_ns(self) -> int:
        return parse_duration(self.duration)


def stage_bounds_ns(stages: Sequence[Stage]) -> list[tuple[int, int]]:
    """Each stage's ``[start, end)`` in ns from the schedule's start."""
    bounds, start = [], 0
    for stage in stages:
        bounds.append((start, start + stage.duration_ns))
        start += stage.duration_ns
    return bounds


def _segments(stages: Sequence[Stage], start_rate: float) -> Iterator[tuple[int, float, float]]:
    """(duration ns, rate at its start, rate at its end) of every stage."""
    rate = start_rate
    for stage in stages:
        yield stage.duration_ns, rate, stage.target
        rate = stage.target


def staged_count(stages: Sequence[Stage], start_rate: float, until_ns: int) -> float:
    """Λ(until): the arrivals expected from the schedule's start to ``until_ns`` after it."""
    total, elapsed = 0.0, 0
    for duration, low, high in _segments(stages, start_rate):
        span = min(duration, max(until_ns - elapsed, 0))
        slope = (high - low) / duration if duration else 0.0
        total += (low * span + slope * span * span / 2) / NS
        elapsed += duration
    return total


def _inverse(count: float, duration: int, low: float, high: float) -> float:
    """The ns into a segment where it has delivered ``count`` arrivals (count within it)."""
    if abs(high - low) < 1e-12:
        return count / low * NS
    slope = (high - low) / duration  # the rate's change per ns (rates per second)
    # low·t + slope·t²/2 = count·NS (t in ns, rates per second): the stable root.
    return 2 * count * NS / (low + math.sqrt(max(low * low + 2 * slope * count * NS, 0.0)))


def staged_instants(
    start_ns: int,
    end_ns: int,
    stages: Sequence[Stage],
    start_rate: float,
    arrivals: Literal["constant", "poisson"],
    seed: int,
) -> Iterator[int]:
    """The intended send instants in ``[start_ns, end_ns)`` of the staged schedule."""
    draw = random.Random(seed)
    reached = 0.0  # Λ at the current segment's start
    offset = 0  # ns at the current segment's start
    goal = draw.expovariate(1.0) if arrivals == "poisson" else 1.0
    for duration, low, high in _segments(stages, start_rate):
        delivered = (low + high) / 2 * duration / NS
        while goal <= reached + delivered:
            instant = start_ns + offset + round(_inverse(goal - reached, duration, low, high))
            if instant >= end_ns:
                return
            yield instant
            goal += draw.expovariate(1.0) if arrivals == "poisson" else 1.0
        reached += delivered
        offset += duration


def staged_arrivals(stages: Sequence[Stage], start_rate: float) -> float:
    """The mean rate over the stages (their arrivals over their length): what the budget and
    the plan count with."""
    total_ns = sum(stage.duration_ns for stage in stages)
    return staged_count(stages, start_rate, total_ns) * NS / total_ns if total_ns else 0.0


def staged_level(stages: Sequence[Stage], start: float, elapsed_ns: int) -> float | None:
    """The stages' level ``elapsed_ns`` after their start (staged users: how many clients are
    at work); None once the last stage is over."""
    offset = 0
    for duration, low, high in _segments(stages, start):
        if elapsed_ns < offset + duration:
            return low + (high - low) * (elapsed_ns - offset) / duration
        offset += duration
    return None


class Think(BaseModel):
    """A client's pause between an answer and its next request: ``constant`` (always ``mean``),
    ``exponential`` (mean ``mean``) or ``uniform`` (from 0 to twice ``mean``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    distribution: Literal["constant", "exponential", "uniform"] = "constant"
    mean: GoDuration | Literal["0s"]


def think_draws(think: Think, seed: int) -> Iterator[float]:
    """A client's think times in seconds, reproducible from ``seed``."""
    draw = random.Random(seed)
    mean_s = parse_duration(think.mean) / NS
    while True:
        if think.distribution == "exponential":
            yield draw.expovariate(1 / mean_s) if mean_s > 0 else 0.0
        elif think.distribution == "uniform":
            yield draw.uniform(0, 2 * mean_s)
        else:
            yield mean_s
