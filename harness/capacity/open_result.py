"""An open-model sweep's ``capacity.json``: its rate steps, the capacity the bracket found, and
one sentence that says it with the SLO and how it was measured.

Pure. The synchronous and throughput runs are steps too (``label``, ``offered_unit`` "users"),
listed first; the capacity is only ever a rate step's (``sweep.bracket``), never a
generator-bound one's (``harness.capacity.generator``), and the sentence names those. The
knee is the first rate (in rate order) whose corrected p95 turned up from the synchronous
run's (``search.knee``'s rule).
"""

from __future__ import annotations

from harness.capacity.result import CapacityResult, Slo, StepResult
from harness.capacity.search import knee
from harness.capacity.statement import format_rate, format_seconds, generator_note
from harness.capacity.sweep import PRECISION, bracket

__all__ = ["OPEN_MODEL_NOTE", "open_result"]

OPEN_MODEL_NOTE = (
    "open model: arrivals on a schedule that does not wait for answers, as clients arrive; "
    "latencies are measured from the instant each request was meant to leave (coordinated "
    "omission corrected), and arrivals never sent because every sender was busy count as errors"
)


def _slo(slo: Slo) -> str:
    return (
        f"p95 ≤ {slo.p95_s:g} s from the intended send, errors and unserved arrivals "
        f"≤ {slo.max_error_rate * 100:g}%"
    )


def _figures(step: StepResult) -> str:
    p95 = format_seconds(step.p95_s) if step.p95_s is not None else "no answer"
    return f"p95 {p95}, {step.error_rate * 100:.1f}% errors and unserved"


def _interval(step: StepResult) -> str:
    """The goodput's and p95's 95 % intervals of a repeated step, for the sentence."""
    if not step.repeats or not step.intervals:
        return ""
    parts = []
    if "goodput_rps" in step.intervals:
        low, high = step.intervals["goodput_rps"]
        parts.append(f"goodput {low:.3g}–{high:.3g} req/s")
    if "p95_s" in step.intervals:
        low, high = step.intervals["p95_s"]
        parts.append(f"p95 {low:.3g}–{high:.3g} s")
    return f" (95% confidence over {step.repeats} runs: {', '.join(parts)})"


def _sentence(
    slo: Slo, arrivals: str, best: StepResult | None, failed: StepResult | None, narrow: bool
) -> str:
    if best is None and failed is None:
        return "No rate step completed, so the capacity is unknown."
    if best is None:
        assert failed is not None
        return (
            f"No rate met the SLO ({_slo(slo)}): the lowest tried, "
            f"{format_rate(failed.offered)} ({arrivals} arrivals), had {_figures(failed)}."
        )
    head = (
        f"The target sustains {format_rate(best.offered)} ({arrivals} arrivals) within the SLO "
        f"({_slo(slo)}), with {_figures(best)} and goodput {format_rate(best.goodput_rps or 0)}"
        f"{_interval(best)}"
    )
    if failed is None:
        return f"{head}; no rate tried exceeded it, so the capacity may be higher."
    bound = (
        f"within {PRECISION * 100:g}% of"
        if narrow
        else "the sweep stopped before it was within 5% of"
    )
    return f"{head}; {bound} {format_rate(failed.offered)}, which did not ({_figures(failed)})."


def open_result(
    target: str, slo: Slo, baselines: list[StepResult], rates: list[StepResult], arrivals: str
) -> CapacityResult:
    """The sweep's result: ``baselines`` (synchronous, throughput) and the ``rates`` tried."""
    by_rate = sorted((s for s in rates if not s.generator_bound), key=lambda s: s.offered)
    found = bracket([(step.offered, step.within_slo) for step in by_rate])
    best = next((s for s in by_rate if s.offered == found.within and s.within_slo), None)
    failed = next((s for s in by_rate if s.offered == found.outside and not s.within_slo), None)
    bend = knee([*baselines[:1], *by_rate])
    bend = bend if bend in by_rate else None
    failing = next((s for s in by_rate if s.error_rate > slo.max_error_rate), None)
    return CapacityResult(
        target=target,
        model="open",
        model_note=OPEN_MODEL_NOTE,
        slo=slo,
        steps=[*baselines, *rates],
        capacity_rps=best.offered if best else None,
        capacity_step=best.index if best else None,
        knee_rps=bend.offered if bend else None,
        knee_step=bend.index if bend else None,
        errors_begin_step=failing.index if failing else None,
        sentence=_sentence(slo, arrivals, best, failed, found.narrow)
        + generator_note([*baselines, *rates]),
    )
