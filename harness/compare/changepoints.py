"""Change points in a metric's history across runs: where a release moved it for good.

Located by ruptures (PELT, the exact minimiser of a penalised least-squares segmentation) on the
logarithm of the values, so a step is relative: +50 % of 20 ms weighs as +50 % of 2 s. The
penalty is the Schwarz criterion ``2·σ²·ln n``, σ the series' noise estimated robustly from its
successive differences (a step is one outlier among them), floored at ``MIN_NOISE``. Each change
is then confirmed, as Apache Otava's merge step does (Fleming et al., 2023): a two-sample t-test
between the segments on either side must give ``p < max_pvalue`` and the means must differ by at
least ``min_magnitude``; the weakest failing change is dropped and its neighbours re-tested until
every change left passes both.

One value per run: what varies between runs (the machine, the day) is in the test's noise,
unlike the intervals of ``compare``, which only know one run's requests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import ruptures
from scipy.stats import ttest_ind_from_stats

from harness.compare.stats import Floats

__all__ = [
    "MAX_PVALUE",
    "MIN_MAGNITUDE",
    "MIN_NOISE",
    "MIN_RUNS",
    "ChangePoint",
    "change_points",
    "smallest_step",
]

MIN_RUNS = 3  # fewer values: no search at all
MAX_PVALUE = 0.01
MIN_MAGNITUDE = 0.10
MIN_NOISE = 0.01  # of the log: runs rarely repeat closer than 1 %, and σ = 0 would flag anything


@dataclass(frozen=True)
class ChangePoint:
    """The series changed from position ``index`` on (0-based): ``before`` → ``after`` means."""

    index: int
    before: float
    after: float
    p_value: float

    @property
    def change(self) -> float:
        return self.after / self.before - 1 if self.before else math.inf


def _noise(logs: Floats) -> float:
    if logs.size < 3:
        return MIN_NOISE
    steps = np.diff(logs)
    spread = 1.4826 * float(np.median(np.abs(steps - np.median(steps)))) / math.sqrt(2)
    return max(spread, MIN_NOISE)


def _test(values: Floats, start: int, index: int, stop: int) -> ChangePoint:
    before, after = values[start:index], values[index:stop]
    if before.size + after.size <= 2:
        p_value = 1.0
    else:
        # Population deviations (ddof 0) as Otava does: a one-run segment still has one.
        _, p = ttest_ind_from_stats(
            before.mean(), before.std(), before.size, after.mean(), after.std(), after.size
        )
        p_value = 1.0 if math.isnan(p) else float(p)
    return ChangePoint(index, float(before.mean()), float(after.mean()), p_value)


def _confirmed(
    values: Floats, indices: list[int], max_pvalue: float, min_magnitude: float
) -> list[ChangePoint]:
    while indices:
        bounds = [0, *indices, values.size]
        tested = [
            _test(values, bounds[i], bounds[i + 1], bounds[i + 2]) for i in range(len(indices))
        ]
        failing = [
            point
            for point in tested
            if point.p_value >= max_pvalue or abs(point.change) < min_magnitude
        ]
        if not failing:
            return tested
        weakest = max(failing, key=lambda point: (point.p_value, -abs(point.change)))
        indices = [index for index in indices if index != weakest.index]
    return []


def change_points(
    values: Floats, max_pvalue: float = MAX_PVALUE, min_magnitude: float = MIN_MAGNITUDE
) -> list[ChangePoint]:
    """The confirmed change points of a series of positive values (one per run, in order)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 3 or np.any(values <= 0) or not np.all(np.isfinite(values)):
        return []
    logs = np.log(values)
    penalty = 2 * _noise(logs) ** 2 * math.log(values.size)
    ends = ruptures.Pelt(model="l2", min_size=1, jump=1).fit(logs).predict(pen=penalty)
    return _confirmed(values, [int(end) for end in ends[:-1]], max_pvalue, min_magnitude)


def smallest_step(values: Floats, max_pvalue: float = MAX_PVALUE) -> float:
    """The smallest relative step a new run could make that the confirmation t-test would
    accept after these runs (their noise as ``_noise`` reads it, at least ``MIN_NOISE``):
    the search's power over this series. ``inf`` with fewer than ``MIN_RUNS - 1`` runs."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < MIN_RUNS - 1 or np.any(values <= 0):
        return math.inf
    noise = _noise(np.log(values))
    before = values.size

    def accepted(step: float) -> bool:
        # As ``_test`` weighs it: the runs so far (spread ``noise``), and one new run.
        _, p = ttest_ind_from_stats(1.0, noise, before, 1.0 + step, 0.0, 1)
        return not math.isnan(p) and float(p) < max_pvalue

    low, high = 0.0, 1.0
    while not accepted(high):
        if high > 1e6:
            return math.inf
        low, high = high, high * 2
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (low, middle) if accepted(middle) else (middle, high)
    return high
