"""From step figures to what a capacity search reports: capacity, knee, first errors, a sentence.

Definitions (the README's "Capacity" section states the same):

- **capacity**: the highest throughput among the steps within the SLO (p95 at most the SLO's,
  error rate at most its maximum), and that step; none when no step is within.
- **knee**: the first step whose p95 exceeds ``KNEE_FACTOR`` times the baseline p95 *and* the
  baseline by at least ``KNEE_MIN_RISE_S`` (so a fast target's sub-millisecond jitter is not a
  knee), the baseline being the p95 of the lightest step with a successful answer. In a closed
  model that is where requests begin to queue: throughput there is the target's saturation rate.
- **errors begin** at the first step whose error rate exceeds the SLO's maximum.
"""

from __future__ import annotations

import pandas as pd

from harness.capacity.generator import mark_generator
from harness.capacity.result import CapacityResult, Slo, StepResult
from harness.capacity.statement import CLOSED_MODEL_NOTE, generator_note, sentence
from harness.capacity.steps import Requests, measure, windows_of
from harness.run.generator_cpu import GeneratorCpu
from harness.run.step_log import StepLog

__all__ = ["KNEE_FACTOR", "KNEE_MIN_RISE_S", "analyse", "capacity_step", "errors_begin", "knee"]

KNEE_FACTOR = 1.5
KNEE_MIN_RISE_S = 0.005


def capacity_step(steps: list[StepResult]) -> StepResult | None:
    """The step of highest throughput within the SLO (the lighter one on a tie), never a
    generator-bound one (``harness.capacity.generator``)."""
    within = [step for step in steps if step.within_slo and not step.generator_bound]
    return max(within, key=lambda step: step.throughput_rps) if within else None


def knee(
    steps: list[StepResult],
    factor: float = KNEE_FACTOR,
    min_rise_s: float = KNEE_MIN_RISE_S,
) -> StepResult | None:
    """The first step where latency has turned up from the baseline (see the module's text)."""
    measured = [step for step in steps if step.p95_s is not None]
    if not measured:
        return None
    baseline = measured[0].p95_s
    assert baseline is not None
    for step in measured[1:]:
        assert step.p95_s is not None
        if step.p95_s > factor * baseline and step.p95_s - baseline >= min_rise_s:
            return step
    return None


def errors_begin(steps: list[StepResult], slo: Slo) -> StepResult | None:
    return next((step for step in steps if step.error_rate > slo.max_error_rate), None)


def analyse(
    records: pd.DataFrame, log: StepLog, slo: Slo, target: str, cpu: GeneratorCpu | None = None
) -> CapacityResult:
    """The whole search's result from a run's records, its step log and (where sampled) its
    Locust processes' CPU."""
    steps = [mark_generator(s, cpu) for s in measure(Requests.of(records), windows_of(log), slo)]
    best, bend, failing = capacity_step(steps), knee(steps), errors_begin(steps, slo)
    return CapacityResult(
        target=target,
        model="closed",
        model_note=CLOSED_MODEL_NOTE,
        slo=slo,
        steps=steps,
        capacity_rps=best.throughput_rps if best else None,
        capacity_step=best.index if best else None,
        knee_rps=bend.throughput_rps if bend else None,
        knee_step=bend.index if bend else None,
        errors_begin_step=failing.index if failing else None,
        sentence=sentence(steps, slo, best, bend, failing) + generator_note(steps),
    )
