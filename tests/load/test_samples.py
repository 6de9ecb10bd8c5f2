"""Order-statistic intervals of a percentile, and the answers a comparison needs: against scipy's
binomial and against their definitions."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from harness.load.samples import (
    binomial_cdf,
    fewest_samples,
    log_half_width,
    order_ranks,
    reference_quantiles,
    resolution,
    sample_quantiles,
    samples_needed,
)

levels = st.sampled_from([0.5, 0.9, 0.95, 0.99])


@given(n=st.integers(1, 400_000), q=st.floats(0.01, 0.99))
@settings(max_examples=60, deadline=None)
def test_the_binomial_cdf_is_scipys(n: int, q: float) -> None:
    start, cdf = binomial_cdf(n, q)
    counts = np.arange(start, start + cdf.size)
    assert np.allclose(cdf, binom.cdf(counts, n, q), atol=1e-9)
    assert start == 0 or binom.cdf(start - 1, n, q) < 1e-20


@given(n=st.integers(1, 50_000), q=levels, confidence=st.sampled_from([0.9, 0.95, 0.99]))
@settings(max_examples=80, deadline=None)
def test_the_ranks_cover_the_quantile_and_are_the_tightest(
    n: int, q: float, confidence: float
) -> None:
    """P(X_(l) ≤ ξ ≤ X_(u)) = P(l ≤ B ≤ u − 1) ≥ confidence, each tail at most its half, and
    one rank closer on either side would break its tail."""
    ranks = order_ranks(n, q, confidence)
    tail = (1 - confidence) / 2
    if ranks is None:
        # No pair exists: even the extremes leave a tail heavier than its half.
        assert binom.cdf(0, n, q) >= tail - 1e-12 or binom.sf(n - 1, n, q) >= tail - 1e-12
        return
    low, high = ranks
    assert 1 <= low < high <= n
    below, above = binom.cdf(low - 1, n, q), binom.sf(high - 1, n, q)
    assert below <= tail + 1e-12
    assert above <= tail + 1e-12
    assert binom.cdf(low, n, q) >= tail - 1e-12  # l + 1 would leave more than the tail below
    assert binom.sf(high - 2, n, q) >= tail - 1e-12  # u − 1 would leave more above


def test_the_fewest_answers_for_each_percentile() -> None:
    assert [fewest_samples(q) for q in (0.5, 0.95, 0.99)] == [6, 72, 368]
    assert order_ranks(71, 0.95) is None
    assert order_ranks(72, 0.95) == (64, 72)


@given(spread=st.floats(0.02, 1.0), n=st.integers(72, 100_000))
@settings(max_examples=40, deadline=None)
def test_more_answers_or_a_tighter_shape_never_resolve_worse(spread: float, n: int) -> None:
    wide, tight = reference_quantiles(spread), reference_quantiles(spread / 2)
    assert log_half_width(wide, 4 * n, 0.95) <= log_half_width(wide, n, 0.95) + 1e-12
    assert log_half_width(tight, n, 0.95) <= log_half_width(wide, n, 0.95)


def test_a_sample_reads_its_own_order_statistics_back() -> None:
    values = np.arange(1.0, 101.0)  # 1 … 100
    low, high = order_ranks(100, 0.95) or (0, 0)
    width = log_half_width(sample_quantiles(values), 100, 0.95)
    assert width == math.log(high / low) / 2  # the l-th and u-th smallest are l and u
    assert log_half_width(sample_quantiles(values), 50, 0.95) == math.inf  # under 72


def test_resolution_combines_the_runs_as_independent_errors() -> None:
    assert resolution([0.03, 0.04]) == math.expm1(0.05)
    assert resolution([0.03, math.inf]) == math.inf


@given(threshold=st.floats(0.03, 0.5), spread=st.floats(0.05, 0.8))
@settings(max_examples=30, deadline=None)
def test_the_answers_needed_are_the_fewest_that_resolve_the_threshold(
    threshold: float, spread: float
) -> None:
    runs = [reference_quantiles(spread)] * 2
    needed = samples_needed(runs, 0.95, threshold)
    assert needed is not None

    def resolves(n: int) -> bool:
        return resolution([log_half_width(run, n, 0.95) for run in runs]) <= threshold

    assert resolves(needed)
    assert needed == fewest_samples(0.95) or not resolves(needed - 1)


def test_past_the_most_the_answer_is_none() -> None:
    assert samples_needed([reference_quantiles(0.3)] * 2, 0.95, 0.001, most=10_000) is None
    # The default plan: a p95 of a model's spread needs a few hundred answers per run for 10 %.
    assert 300 < (samples_needed([reference_quantiles()] * 2, 0.95, 0.10) or 0) < 500
