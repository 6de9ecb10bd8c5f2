"""How many answers a percentile needs before a comparison can see a shift of it.

The decision (``docs/guides/compare.md``): a run's q-quantile is bracketed by two of its own
answers, distribution-free. Of ``n`` independent answers sorted, the ``l``-th and ``u``-th
smallest hold the true quantile between them with probability ``P(l ≤ B < u)``, ``B`` the
binomial count of answers below it (``B ~ Bin(n, q)``); equal tails of ``(1 − confidence) / 2``
pick ``l`` and ``u``. Below ``fewest_samples(q)`` answers no such pair exists (72 for a p95 at
95 %): the percentile cannot be pinned, however tight the latencies.

On the log scale the interval's half-width ``w`` is the run's relative uncertainty; two runs'
combine as independent errors (``√(w₁² + w₂²)``) and ``exp(·) − 1`` is the **resolution**: the
smallest relative shift whose interval excludes no change. A gate whose resolution exceeds its
threshold could not have told a shift of that size from none: it is inconclusive, never a pass.

Before a run there are no answers; the plan assumes a latency shape (lognormal, log-deviation
``PLANNING_SPREAD``) and reads the order statistics off its quantile function at ``k / (n + 1)``,
as it reads a sample's own after a run. Pure: no I/O, no clock; numpy and the standard library
only (``run`` imports this before its load).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = [
    "CONFIDENCE",
    "MOST_SAMPLES",
    "PLANNING_SPREAD",
    "PlannedPower",
    "QuantileFunction",
    "binomial_cdf",
    "fewest_samples",
    "log_half_width",
    "order_ranks",
    "planned_power",
    "reference_quantiles",
    "resolution",
    "sample_quantiles",
    "samples_needed",
]

CONFIDENCE = 0.95
# The plan's assumed latency shape: p95/p50 = e^(1.645·0.3) ≈ 1.6, a model's answers with a
# tail; the emulator's own answers are far tighter, a language model's often wider.
PLANNING_SPREAD = 0.3
MOST_SAMPLES = 10_000_000  # past this, "needs more than" is the answer
_TAIL_SDS = 12.0  # past 12 standard deviations of a binomial of over WHOLE counts: no mass to see
_WHOLE = 100_000  # up to this many answers the cdf is summed over every count

QuantileFunction = Callable[[np.ndarray], np.ndarray]  # levels in (0, 1) -> latencies


def binomial_cdf(n: int, q: float) -> tuple[int, np.ndarray]:
    """``(start, cdf)``: ``cdf[i] = P(Bin(n, q) ≤ start + i)`` over the counts where the
    distribution has mass (the rest lies within 1e-30 of 0 or 1)."""
    sd = math.sqrt(n * q * (1 - q))
    start, stop = 0, n
    if n > _WHOLE:
        start = max(0, math.floor(n * q - _TAIL_SDS * sd) - 2)
        stop = min(n, math.ceil(n * q + _TAIL_SDS * sd) + 2)
    k = np.arange(start, stop + 1, dtype=np.float64)
    first = (
        math.lgamma(n + 1)
        - math.lgamma(start + 1)
        - math.lgamma(n - start + 1)
        + start * math.log(q)
        + (n - start) * math.log1p(-q)
    )
    # log pmf(k + 1) − log pmf(k) = log((n − k) / (k + 1)) + log(q / (1 − q))
    steps = np.log((n - k[:-1]) / (k[:-1] + 1)) + math.log(q) - math.log1p(-q)
    log_pmf = first + np.concatenate(([0.0], np.cumsum(steps)))
    pmf = np.exp(log_pmf - log_pmf.max())
    mass = math.exp(log_pmf.max()) if start > 0 or stop < n else 1 / pmf.sum()
    return start, np.minimum(np.cumsum(pmf * mass), 1.0)


def order_ranks(n: int, q: float, confidence: float = CONFIDENCE) -> tuple[int, int] | None:
    """1-based ranks ``(l, u)`` of the equal-tailed distribution-free interval of the
    q-quantile of ``n`` answers, or None when ``n`` answers are too few to have one."""
    if n < 1:
        return None
    tail = (1 - confidence) / 2
    start, cdf = binomial_cdf(n, q)
    # l: the least count whose cdf reaches the tail (P(B ≥ l) > 1 − tail);
    # u − 1: the least count whose cdf reaches 1 − tail (P(B ≤ u − 1) ≥ 1 − tail).
    low = start + int(np.searchsorted(cdf, tail, "left"))
    high = start + int(np.searchsorted(cdf, 1 - tail, "left")) + 1
    if low < 1 or high > n:
        return None
    return low, high


def fewest_samples(q: float, confidence: float = CONFIDENCE) -> int:
    """The fewest answers whose order statistics bracket the q-quantile at ``confidence``."""
    n = 1
    while order_ranks(n, q, confidence) is None:
        n = n * 2
    low, high = n // 2, n  # order_ranks(low) is None (or low = 0), order_ranks(high) is not
    while high - low > 1:
        middle = (low + high) // 2
        if order_ranks(middle, q, confidence) is None:
            low = middle
        else:
            high = middle
    return high


def log_half_width(
    quantiles: QuantileFunction, n: int, q: float, confidence: float = CONFIDENCE
) -> float:
    """Half the log-width of the q-quantile's interval from ``n`` answers distributed as
    ``quantiles`` says (the ``k``-th smallest read at level ``k / (n + 1)``); ``inf`` when
    ``n`` answers have no interval, or its low end is not above 0."""
    ranks = order_ranks(n, q, confidence)
    if ranks is None:
        return math.inf
    low, high = (float(v) for v in quantiles(np.array(ranks, dtype=np.float64) / (n + 1)))
    if low <= 0:
        return math.inf
    return math.log(high / low) / 2


def resolution(half_widths: Sequence[float]) -> float:
    """The smallest relative shift two (or more) runs' intervals can tell from none."""
    combined = math.sqrt(sum(w * w for w in half_widths))
    return math.expm1(combined) if math.isfinite(combined) else math.inf


def sample_quantiles(values: np.ndarray) -> QuantileFunction:
    """A sample's own quantile function: its order statistics, interpolated (for the
    ``k``-th smallest of ``n``, ``k / (n + 1)`` reads the sample's own ranks back)."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    positions = (np.arange(ordered.size) + 1) / (ordered.size + 1)

    def read(levels: np.ndarray) -> np.ndarray:
        return np.asarray(np.interp(levels, positions, ordered), dtype=np.float64)

    return read


def reference_quantiles(spread: float = PLANNING_SPREAD) -> QuantileFunction:
    """The plan's assumed shape: lognormal of log-deviation ``spread`` (its scale does not
    matter: only ratios are)."""
    normal = NormalDist()

    def read(levels: np.ndarray) -> np.ndarray:
        return np.exp(spread * np.array([normal.inv_cdf(float(p)) for p in levels]))

    return read


def samples_needed(
    runs: Sequence[QuantileFunction],
    q: float,
    threshold: float,
    confidence: float = CONFIDENCE,
    most: int = MOST_SAMPLES,
) -> int | None:
    """The fewest answers per run (the same in each) at which runs shaped as ``runs`` resolve
    a shift of ``threshold`` in the q-quantile; None past ``most``."""

    def enough(n: int) -> bool:
        return resolution([log_half_width(run, n, q, confidence) for run in runs]) <= threshold

    low = fewest_samples(q, confidence)
    if enough(low):
        return low
    high = low
    while not enough(high):
        if high >= most:
            return None
        low, high = high, min(high * 2, most)
    while high - low > 1:  # enough(high), not enough(low)
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True, slots=True)
class PlannedPower:
    """What two runs of ``answers`` admitted answers each (per case) would resolve of a
    percentile, shaped as the plan assumes; the answers that would resolve the threshold, and
    the seconds of load they take at the run's pace (None: none planned, or past ``most``)."""

    answers: int
    resolution: float  # inf: too few answers for any interval
    needed: int | None
    seconds_needed: float | None

    def enough(self, threshold: float) -> bool:
        return self.resolution <= threshold


def planned_power(
    answers: int,
    seconds: float,
    threshold: float,
    q: float = 0.95,
    spread: float = PLANNING_SPREAD,
    pace: float | None = None,
) -> PlannedPower:
    """``answers`` admitted answers in ``seconds`` of a case's load (``pace`` a second once
    under way; by default ``answers / seconds``): what ``compare`` can tell."""
    shape = reference_quantiles(spread)
    resolved = resolution([log_half_width(shape, answers, q)] * 2)
    needed = samples_needed([shape, shape], q, threshold)
    if pace is None:
        pace = answers / seconds if seconds > 0 else 0.0
    wanted = None if needed is None or pace <= 0 else needed / pace
    return PlannedPower(answers, resolved, needed, wanted)
