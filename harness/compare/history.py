"""A trend across many runs (one per release): p95 per case, capacity, verdicts, change points.

Each run becomes one ``RunPoint`` (its p95 of admitted answers per case with a block-bootstrap
interval, its capacity, its verdict); runs are ordered by when they started or by their label
(natural order: v1.9 before v1.10); each metric's series is searched for change points
(``changepoints``). Pure: ``RunData`` in, ``History`` out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from harness.compare.changepoints import MAX_PVALUE, MIN_MAGNITUDE, ChangePoint, change_points
from harness.compare.rundir import RunData
from harness.compare.stats import MIN_SAMPLES, bootstrap_quantiles, interval
from harness.errors import ConfigError

__all__ = [
    "CAPACITY_METRIC",
    "History",
    "Metric",
    "RunPoint",
    "build_history",
    "family_changes",
    "natural_key",
    "run_point",
]

CAPACITY_METRIC = "capacity req/s"
Order = Literal["time", "label"]


@dataclass(frozen=True)
class RunPoint:
    run_dir: str
    run_id: str
    label: str | None
    created_at: str
    state: str  # the verdict's state, or "not judged"
    failed: tuple[str, ...]
    family: str
    p95_s: dict[str, tuple[float, float, float]]  # case → (p95, low, high), ≥ MIN_SAMPLES only
    capacity_rps: float | None

    @property
    def name(self) -> str:
        return self.label or self.run_id


@dataclass(frozen=True)
class Metric:
    """One series: a value per run (None where the run has none) and its change points, whose
    ``index`` is a position in ``History.runs``."""

    name: str
    values: tuple[float | None, ...]
    changes: tuple[ChangePoint, ...]


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
    p95: dict[str, tuple[float, float, float]] = {}
    for case, frame in run.chats.groupby("case", sort=False):
        admitted = frame.loc[frame["outcome"] == "ok", "latency_ms"].to_numpy(np.float64) / 1e3
        if admitted.size >= MIN_SAMPLES:
            bootstrap = bootstrap_quantiles(admitted, (0.95,))
            low, high = interval(bootstrap.resampled[:, 0])
            p95[str(case)] = (float(bootstrap.estimate[0]), low, high)
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
        p95_s=p95,
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
    name: str, values: list[float | None], max_pvalue: float, min_magnitude: float
) -> Metric:
    """Change points of the runs that have a value, mapped back to run positions."""
    present = [i for i, value in enumerate(values) if value is not None]
    series = np.array([values[i] for i in present], dtype=np.float64)
    found = change_points(series, max_pvalue, min_magnitude)
    mapped = tuple(
        ChangePoint(present[point.index], point.before, point.after, point.p_value)
        for point in found
    )
    return Metric(name, tuple(values), mapped)


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
    cases = list(dict.fromkeys(case for point in points for case in point.p95_s))
    metrics = [
        _metric(
            f"p95 {case}",
            [point.p95_s[case][0] if case in point.p95_s else None for point in points],
            max_pvalue,
            min_magnitude,
        )
        for case in cases
    ]
    if any(point.capacity_rps is not None for point in points):
        capacity = [point.capacity_rps for point in points]
        metrics.append(_metric(CAPACITY_METRIC, capacity, max_pvalue, min_magnitude))
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
