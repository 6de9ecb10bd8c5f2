"""The words of a capacity result: the load model's caveat and the sentence for a release note."""

from __future__ import annotations

from harness.capacity.result import Slo, StepResult

__all__ = ["CLOSED_MODEL_NOTE", "format_rate", "format_seconds", "generator_note", "sentence"]

CLOSED_MODEL_NOTE = (
    "closed model: each user sends its next request as soon as its previous answer arrives, so "
    "when the target slows the offered load falls with it (coordinated omission); latencies past "
    "the knee understate what clients arriving at a fixed rate would see, while the throughput "
    "at saturation is measured as it is"
)


def format_seconds(value: float) -> str:
    return f"{value:.3g} s"


def format_rate(value: float) -> str:
    return f"{value:.0f} req/s" if value >= 10 else f"{value:.3g} req/s"


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _users(step: StepResult) -> str:
    count = f"{step.offered:g}"
    return f"{count} user" if count == "1" else f"{count} users"


def _slo(slo: Slo) -> str:
    return f"p95 ≤ {slo.p95_s:g} s, errors ≤ {slo.max_error_rate * 100:g}%"


def sentence(
    steps: list[StepResult],
    slo: Slo,
    best: StepResult | None,
    knee: StepResult | None,
    failing: StepResult | None,
) -> str:
    """One sentence: the capacity within the SLO, where latency turns up, where errors begin."""
    if not steps:
        return "No load step completed, so the capacity is unknown."
    last = steps[-1]
    if best is not None:
        p95 = format_seconds(best.p95_s) if best.p95_s is not None else "none"
        head = (
            f"The target sustains {format_rate(best.throughput_rps)} within the SLO "
            f"({_slo(slo)}), with p95 {p95} and {_percent(best.error_rate)} errors at "
            f"{_users(best)} (closed loop)"
        )
    else:
        first = steps[0]
        p95 = format_seconds(first.p95_s) if first.p95_s is not None else "no successful answer"
        head = (
            f"No load step met the SLO ({_slo(slo)}): at the lightest load, {_users(first)} "
            f"(closed loop), p95 was {p95} with {_percent(first.error_rate)} errors"
        )
    bend = (
        f"latency turns up at {_users(knee)} ({format_rate(knee.throughput_rps)})"
        if knee is not None
        else f"latency does not turn up up to {_users(last)}"
    )
    errors = (
        f"errors exceed {slo.max_error_rate * 100:g}% from {_users(failing)}"
        if failing is not None
        else f"errors stay within {slo.max_error_rate * 100:g}% up to {_users(last)}"
    )
    return f"{head}; {bend}, and {errors}."


def generator_note(steps: list[StepResult]) -> str:
    """What the sentence must add when the load generator, not the target, set a step's pace."""
    bound = [step for step in steps if step.generator_bound]
    if not bound:
        return ""
    worst = max(bound, key=lambda step: step.generator_cpu_percent or 0)
    names = ", ".join(step.label or str(step.index) for step in bound)
    behind = max((step.behind_share or 0 for step in bound), default=0)
    why = (
        [f"Locust process {worst.generator_process} at {worst.generator_cpu_percent:.0f}% CPU"]
        if worst.generator_cpu_percent is not None
        else []
    )
    if behind > 0:
        why.append(f"its schedule handed up to {behind * 100:.1f}% of arrivals over late")
    return (
        f" {len(bound)} step{'s were' if len(bound) > 1 else ' was'} generator-bound ({names}: "
        f"{'; '.join(why)}) and {'are' if len(bound) > 1 else 'is'} not counted as the target's: "
        f"the load generator, not the target, set the pace there."
    )
