"""A trend across many runs (one per release): latency per case, capacity, verdicts, change points.

Each run becomes one ``RunPoint`` (the p50 and p95 of its admitted answers per case, each with a
block-bootstrap interval, its capacity, its verdict). The p95 is what ``compare`` gates; the p50
is tracked beside it because on a shared machine the tail carries the machine's other load, so a
step in the model's time shows in the median first. Runs are ordered by when they started or by
their label (natural order: v1.9 before v1.10); each metric's series is searched for change
points (``changepoints``). Pure: ``RunData`` in, ``History`` out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from harness.compare.changepoints import (
    MAX_PVALUE,
    MIN_MAGNITUDE,
    MIN_RUNS,
    ChangePoint,
    change_points,
    smallest_step,
)
from harness.compare.rundir import RunData
from harness.compare.stats import MIN_SAMPLES, bootstrap_quantiles, interval
from harness.errors import ConfigError

__all__ = [
    "CAPACITY_METRIC",
    "PERCENTILES",
    "History",
    "Metric",
    "RunPoint",
    "build_history",
    "family_changes",
    "natural_key",
    "power_lines",
    "run_point",
]

CAPACITY_METRIC = "capacity"
PERCENTILES = {"p50": 0.50, "p95": 0.95}
Order = Literal["time", "label"]
Estimate = tuple[float, float, float]  # value, low, high


@dataclass(frozen=True)
class RunPoint:
    run_dir: str
    run_id: str
    label: str | None
    created_at: str
    state: str  # the verdict's state, or "not judged"
    failed: tuple[str, ...]
    family: str
    # case → percentile ("p50", "p95") → (seconds, low, high); cases with ≥ MIN_SAMPLES answers
    latency_s: dict[str, dict[str, Estimate]]
    capacity_rps: float | None

    @property
    def name(self) -> str:
        return self.label or self.run_id


@dataclass(frozen=True)
class Metric:
    """One series: a value per run (None where the run has none) and its change points, whose
    ``index`` is a position in ``History.runs``. A latency series names its ``case`` and
    ``percentile`` (values in seconds); the capacity series has neither (req/s)."""

    values: tuple[float | None, ...]
    changes: tuple[ChangePoint, ...]
    case: str | None = None
    percentile: str | None = None
    # The smallest step a next run could show that the search would confirm (inf: too few runs).
    detectable: float = float("inf")

    @property
    def searched(self) -> bool:
        """Whether the series had the ``MIN_RUNS`` values a change-point search needs."""
        return sum(value is not None for value in self.values) >= MIN_RUNS

    @property
    def name(self) -> str:
        return f"{self.percentile} {self.case}" if self.case is not None else CAPACITY_METRIC


@dataclass(frozen=True)
class History:
    runs: tuple[RunPoint, ...]
    metrics: tuple[Metric, ...]
    order: Order
    max_pvalue: float
    min_magnitude: float


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """'v1.10.0' after 'v1.9.2': digit runs compare as numbers."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part
    )


def run_point(run: RunData) -> RunPoint:
    latency: dict[str, dict[str, Estimate]] = {}
    for case, frame in run.chats.groupby("case", sort=False):
        admitted = frame.loc[frame["outcome"] == "ok", "latency_ms"].to_numpy(np.float64) / 1e3
        if admitted.size < MIN_SAMPLES:
            continue
        bootstrap = bootstrap_quantiles(admitted, tuple(PERCENTILES.values()))
        latency[str(case)] = {
            name: (float(bootstrap.estimate[column]), *interval(bootstrap.resampled[:, column]))
            for column, name in enumerate(PERCENTILES)
        }
    verdict = run.verdict
    capacity = run.capacity.result.capacity_rps if run.capacity is not None else None
    return RunPoint(
        run_dir=str(run.run_dir),
        run_id=run.plan.run_id,
        label=run.plan.label,
        created_at=run.plan.created_at,
        state=verdict.state if verdict is not None else "not judged",
        failed=tuple(check.id for check in verdict.failed) if verdict is not None else (),
        family=verdict.algorithm if verdict is not None else "-",
        latency_s=latency,
        capacity_rps=capacity,
    )


def _ordered(points: list[RunPoint], order: Order) -> list[RunPoint]:
    if order == "time":
        return sorted(points, key=lambda point: point.created_at)
    unlabelled = [point.run_dir for point in points if point.label is None]
    if unlabelled:
        raise ConfigError(
            f"--order label: these runs have no label (run --label TEXT): {', '.join(unlabelled)}"
        )
    return sorted(points, key=lambda point: natural_key(point.label or ""))


def _metric(
    values: list[float | None],
    max_pvalue: float,
    min_magnitude: float,
    case: str | None = None,
    percentile: str | None = None,
) -> Metric:
    """Change points of the runs that have a value, mapped back to run positions."""
    present = [i for i, value in enumerate(values) if value is not None]
    series = np.array([values[i] for i in present], dtype=np.float64)
    found = change_points(series, max_pvalue, min_magnitude)
    mapped = tuple(
        ChangePoint(present[point.index], point.before, point.after, point.p_value)
        for point in found
    )
    detectable = smallest_step(series, max_pvalue)
    return Metric(tuple(values), mapped, case, percentile, max(detectable, min_magnitude))


def build_history(
    runs: Sequence[RunPoint],
    order: Order = "time",
    max_pvalue: float = MAX_PVALUE,
    min_magnitude: float = MIN_MAGNITUDE,
) -> History:
    """``runs``: one point per run (``run_point``: a run's records need not all stay loaded)."""
    if len(runs) < 2:
        raise ConfigError(f"history needs at least 2 runs, got {len(runs)}")
    points = _ordered(list(runs), order)
    cases = list(dict.fromkeys(case for point in points for case in point.latency_s))
    metrics = [
        _metric(
            [
                point.latency_s[case][name][0] if case in point.latency_s else None
                for point in points
            ],
            max_pvalue,
            min_magnitude,
            case,
            name,
        )
        for name in reversed(PERCENTILES)  # p95 first: the gated one
        for case in cases
    ]
    if any(point.capacity_rps is not None for point in points):
        capacity = [point.capacity_rps for point in points]
        metrics.append(_metric(capacity, max_pvalue, min_magnitude))
    return History(tuple(points), tuple(metrics), order, max_pvalue, min_magnitude)


def family_changes(history: History) -> list[tuple[int, str, str]]:
    """(position, before, after) wherever the identified limiter family differs from the last
    judged run's."""
    changes: list[tuple[int, str, str]] = []
    last: str | None = None
    for position, point in enumerate(history.runs):
        if point.family == "-":
            continue
        if last is not None and point.family != last:
            changes.append((position, last, point.family))
        last = point.family
    return changes


def power_lines(history: History) -> list[str]:
    """What the change-point search could not do: series with too few runs to search at all,
    and series whose runs are too few or too noisy to confirm a step of ``min_magnitude``."""
    lines = []
    allowed = f"{history.min_magnitude * 100:g} %"
    for metric in history.metrics:
        runs = sum(value is not None for value in metric.values)
        if not metric.searched:
            lines.append(
                f"{metric.name}: {runs} run(s) with a value; a change-point search needs "
                f"{MIN_RUNS}: not searched"
            )
        elif metric.detectable > history.min_magnitude:
            lines.append(
                f"{metric.name}: over {runs} runs a next run's step is confirmed only from "
                f"{metric.detectable * 100:.0f} %, not {allowed} (more runs, or steadier ones)"
            )
    return lines
