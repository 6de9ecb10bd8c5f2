"""``--repeat N``: one rate run N times, its figures as means with 95 % confidence intervals.

Pure. AIPerf and GuideLLM report a figure of a single run; a run-to-run spread of a few percent
(this machine's is ±5–15 %) makes "98 vs 102 req/s" a coin toss. With N runs of a step, every
figure is the mean over the runs and ``intervals`` holds its 95 % interval by Student's t
(``mean ± t(0.975, N−1) · s / √N``); a step is within the SLO when its *mean* p95 and error rate
are (the interval says how sure). A figure some run lacks (no successful answer) has no mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats

from harness.capacity.result import StepResult

__all__ = ["FIGURES", "combine", "interval"]

# The figures averaged over the runs of a step (and given an interval).
FIGURES = (
    "throughput_rps",
    "goodput_rps",
    "sent_rps",
    "error_rate",
    "p50_s",
    "p95_s",
    "p99_s",
    "p50_sent_s",
    "p95_sent_s",
    "p99_sent_s",
    "in_flight",
    "littles_in_flight",
)
COUNTS = ("requests", "errors", "late", "unserved", "throttled", "out_of_quota")


def interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """The mean's ``confidence`` interval (Student's t); one value is its own interval."""
    count = len(values)
    mean = sum(values) / count
    if count < 2:
        return mean, mean
    spread = math.sqrt(sum((value - mean) ** 2 for value in values) / (count - 1))
    half = float(stats.t.ppf((1 + confidence) / 2, count - 1)) * spread / math.sqrt(count)
    return mean - half, mean + half


def combine(runs: Sequence[StepResult], max_error_rate: float, p95_bound_s: float) -> StepResult:
    """One step from ``runs`` of the same rate (the first's index, label and window)."""
    if len(runs) == 1:
        return runs[0]
    update: dict[str, object] = {"repeats": len(runs)}
    intervals: dict[str, list[float]] = {}
    for figure in FIGURES:
        values = [getattr(run, figure) for run in runs]
        if any(value is None for value in values):
            update[figure] = None
            continue
        low, high = interval(values)
        update[figure] = sum(values) / len(values)
        # Rounded outwards, so the interval still holds its mean when the runs agree exactly.
        intervals[figure] = [math.floor(low * 1e6) / 1e6, math.ceil(high * 1e6) / 1e6]
    for count in COUNTS:
        values = [getattr(run, count) for run in runs]
        update[count] = None if any(v is None for v in values) else sum(values)
    update["intervals"] = intervals
    update["end_ns"] = runs[-1].end_ns
    p95, error_rate = update["p95_s"], update["error_rate"]
    assert isinstance(error_rate, float)
    update["within_slo"] = (
        isinstance(p95, float) and p95 <= p95_bound_s and error_rate <= max_error_rate
    )
    update["steady"] = all(run.steady is not False for run in runs)
    bound = [run.generator_bound for run in runs]
    update["generator_bound"] = any(bound) if any(b is not None for b in bound) else None
    update["generator_cpu_percent"] = max(
        (run.generator_cpu_percent for run in runs if run.generator_cpu_percent is not None),
        default=None,
    )
    return runs[0].model_copy(update=update)
