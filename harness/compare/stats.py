"""The statistics of a comparison: percentiles, their block-bootstrap intervals, a rank test.

Latencies of one run are not independent draws: requests sent close together share the target's
queue, its garbage collector and the machine's other load. Both tests therefore work on *blocks*
of consecutive requests (in send order) rather than on single requests:

- **Intervals** are percentile bootstraps that resample whole blocks (a non-overlapping block
  bootstrap): each resample draws as many blocks as the sample has, with replacement, and takes
  the nearest-rank percentile of their union. A block is as long as the latencies' own
  autocorrelation asks: Politis and White's automatic block length for the circular block
  bootstrap (2004, with the correction of Patton, Politis and White, 2009), and at least
  ``⌈n^⅓⌉`` requests, the rate of the optimal length (Hall, Horowitz and Jing, 1995). A slow
  episode of the target or the machine then stays inside a few blocks instead of passing for
  many independent slow requests. ``RESAMPLES`` resamples from a fixed seed: the same two runs
  always give the same intervals.
- **The rank test** is scipy's Mann–Whitney U (two-sided) over the blocks' medians, so a run of
  thousands of correlated requests does not pass for thousands of independent ones.

Neither measures how much a *rerun* would vary (another day, another neighbour on the machine):
one pair of runs cannot. That is what the user's threshold is for; ``bench/compare_false_alarm.py``
measures how often same-settings runs cross it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import mannwhitneyu

__all__ = [
    "CONFIDENCE",
    "MIN_SAMPLES",
    "QUANTILES",
    "RESAMPLES",
    "SEED",
    "Bootstrap",
    "RankTest",
    "block_length",
    "bootstrap_quantiles",
    "interval",
    "min_block_length",
    "nearest_rank",
    "politis_white",
    "rank_test",
    "relative_shift",
]

Floats = npt.NDArray[np.float64]

QUANTILES = (0.50, 0.95, 0.99)
CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 20261202
MIN_SAMPLES = 30  # fewer admitted answers than this: no percentile worth comparing
# Above this many requests the bootstrap runs on every k-th one in send order (the estimate
# itself always uses all): the cost is RESAMPLES × samples, and 50 000 pin a p99 well enough.
MAX_BOOTSTRAP_SAMPLES = 50_000
_CELLS_PER_CHUNK = 1_000_000  # resamples × samples held in memory at once


def nearest_rank(sorted_values: Floats, q: float) -> float:
    """The smallest value that at least ``q`` of the sample does not exceed (the capacity
    search's percentile); ``sorted_values`` must be sorted and non-empty."""
    rank = max(math.ceil(q * sorted_values.size), 1)
    return float(sorted_values[rank - 1])


def min_block_length(samples: int) -> int:
    """The shortest block: ``⌈n^⅓⌉`` requests (at least 1)."""
    return max(1, math.ceil(math.pow(samples, 1 / 3) - 1e-9))


def politis_white(values: Floats) -> float:
    """Politis and White's block length for the circular block bootstrap of ``values`` (their
    mean; 2004, corrected by Patton, Politis and White, 2009): ``(2·G²/D)^⅓ · n^⅓`` from the
    autocovariances up to the lag where the autocorrelation falls inside its noise band, under a
    flat-top window; at most ``min(3·√n, n/3)``. 1 for a sample too short to say."""
    n = values.size
    if n < 8:
        return 1.0
    centred = values - values.mean()
    band_width = max(5, math.ceil(math.sqrt(math.log10(n))))
    most_lags = math.ceil(math.sqrt(n)) + band_width
    lags = min(most_lags + band_width, n - 1)
    autocovariance = np.array([centred[: n - k] @ centred[k:] / n for k in range(lags + 1)])
    if autocovariance[0] <= 0:
        return 1.0
    correlation = np.abs(autocovariance / autocovariance[0])
    noise = 2 * math.sqrt(math.log10(n) / n)
    last = next(
        (
            m
            for m in range(most_lags + 1)
            if np.all(correlation[m + 1 : m + 1 + band_width] < noise)
        ),
        most_lags,
    )
    window = min(2 * max(last, 1), most_lags, lags)
    k = np.arange(-window, window + 1)
    t = np.abs(k) / window
    flat_top = np.where(t <= 0.5, 1.0, np.where(t <= 1, 2 * (1 - t), 0.0))
    covariances = autocovariance[np.abs(k)]
    g = float(np.sum(flat_top * np.abs(k) * covariances))
    d = 4 / 3 * float(np.sum(flat_top * covariances)) ** 2
    if d <= 0:
        return 1.0
    length = (2 * g * g / d) ** (1 / 3) * n ** (1 / 3)
    return float(min(max(length, 1.0), 3 * math.sqrt(n), n / 3))


def block_length(in_send_order: Floats) -> int:
    """Requests per block of this sample: Politis–White's length, at least ``⌈n^⅓⌉``."""
    return max(min_block_length(in_send_order.size), math.ceil(politis_white(in_send_order)))


@dataclass(frozen=True)
class Bootstrap:
    """A sample's percentiles and their bootstrap distribution (``resamples × quantiles``)."""

    quantiles: tuple[float, ...]
    estimate: Floats
    resampled: Floats
    block: int


def bootstrap_quantiles(
    in_send_order: Floats,
    quantiles: tuple[float, ...] = QUANTILES,
    *,
    stream: int = 0,
    resamples: int = RESAMPLES,
) -> Bootstrap:
    """Nearest-rank ``quantiles`` of the sample and ``resamples`` block-bootstrap replicates.

    ``stream`` picks an independent random stream of the fixed seed (the two runs of a
    comparison use two). A resample's multiset is a union of blocks, so its percentile is a
    weighted percentile of the sorted sample, the weight of a value being how often its block
    was drawn: no copy of the data per resample.
    """
    values = np.asarray(in_send_order, dtype=np.float64)
    if values.size == 0:
        raise ValueError("an empty sample has no percentiles")
    estimate = np.array([nearest_rank(np.sort(values), q) for q in quantiles])
    stride = math.ceil(values.size / MAX_BOOTSTRAP_SAMPLES)
    thinned = values[::stride]
    size = thinned.size
    block = block_length(thinned)
    blocks = math.ceil(size / block)
    order = np.argsort(thinned, kind="stable")
    sorted_values = thinned[order]
    block_of_sorted = order // block
    rng = np.random.default_rng([SEED, stream])
    resampled = np.empty((resamples, len(quantiles)))
    chunk = max(1, _CELLS_PER_CHUNK // size)
    for start in range(0, resamples, chunk):
        rows = min(chunk, resamples - start)
        drawn = rng.integers(0, blocks, size=(rows, blocks)) + blocks * np.arange(rows)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=rows * blocks).reshape(rows, blocks)
        cumulative = np.cumsum(counts.astype(np.int32)[:, block_of_sorted], axis=1, dtype=np.int32)
        total = cumulative[:, -1]
        # Each row's running weights, lifted above the previous row's, make one sorted array:
        # one searchsorted finds, for every row and quantile, where the weight reaches its rank.
        lift = np.cumsum(total) - total
        flat = (cumulative + lift[:, None]).ravel()
        ranks = np.maximum(np.ceil(np.outer(total, quantiles) - 1e-9), 1) + lift[:, None]
        found = np.searchsorted(flat, ranks.ravel(), "left").reshape(rows, len(quantiles))
        position = found - (np.arange(rows) * size)[:, None]
        resampled[start : start + rows] = sorted_values[position]
    return Bootstrap(tuple(quantiles), estimate, resampled, block)


def interval(replicates: Floats, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates."""
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return float(low), float(high)


def relative_shift(base: Floats, candidate: Floats) -> Floats:
    """``candidate / base − 1`` element-wise (replicates of the two runs, drawn independently);
    a zero base gives ``inf`` (or 0 against a zero candidate)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = candidate / base - 1
    return np.where((base == 0) & (candidate == 0), 0.0, shift)


@dataclass(frozen=True)
class RankTest:
    """Mann–Whitney U over block medians: ``p_value`` (two-sided), ``p_slower``, the chance a
    candidate block's median exceeds a base block's (0.5: no shift), and the blocks used."""

    p_value: float
    p_slower: float
    block: int
    base_blocks: int
    candidate_blocks: int


def _block_medians(values: Floats, block: int) -> Floats:
    count = values.size // block  # a last, shorter block would weigh like a whole one
    if count == 0:
        return np.array([float(np.median(values))])
    return np.asarray(np.median(values[: count * block].reshape(count, block), axis=1))


def rank_test(base_in_order: Floats, candidate_in_order: Floats) -> RankTest:
    """The U test on both runs cut into blocks of one length (the longer of their own)."""
    base_values = np.asarray(base_in_order, dtype=np.float64)
    candidate_values = np.asarray(candidate_in_order, dtype=np.float64)
    block = max(block_length(base_values), block_length(candidate_values))
    base = _block_medians(base_values, block)
    candidate = _block_medians(candidate_values, block)
    result = mannwhitneyu(candidate, base, alternative="two-sided")
    return RankTest(
        p_value=float(result.pvalue),
        p_slower=float(result.statistic) / (base.size * candidate.size),
        block=block,
        base_blocks=int(base.size),
        candidate_blocks=int(candidate.size),
    )
