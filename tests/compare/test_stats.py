"""The statistics: nearest rank, the block bootstrap against its definition, the U test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.compare import stats
from harness.compare.stats import (
    QUANTILES,
    SEED,
    block_length,
    bootstrap_quantiles,
    interval,
    min_block_length,
    nearest_rank,
    politis_white,
    rank_test,
    relative_shift,
)


def brute_force_replicates(values: np.ndarray, resamples: int, stream: int) -> np.ndarray:
    """The definition: draw as many blocks as there are, with replacement, from the same random
    stream; sort their union; take each nearest-rank percentile."""
    block = block_length(values)
    blocks = math.ceil(values.size / block)
    rng = np.random.default_rng([SEED, stream])
    chunk = max(1, stats._CELLS_PER_CHUNK // values.size)
    rows = []
    for start in range(0, resamples, chunk):
        for drawn in rng.integers(0, blocks, size=(min(chunk, resamples - start), blocks)):
            union = np.sort(np.concatenate([values[i * block : (i + 1) * block] for i in drawn]))
            rows.append([nearest_rank(union, q) for q in QUANTILES])
    return np.array(rows)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.1, 1000.0), min_size=1, max_size=300),
    st.integers(0, 3),
)
def test_the_bootstrap_is_the_block_resampling_it_claims(values: list[float], stream: int) -> None:
    sample = np.array(values)
    result = bootstrap_quantiles(sample, stream=stream, resamples=50)
    assert np.array_equal(result.resampled, brute_force_replicates(sample, 50, stream))
    assert list(result.estimate) == [nearest_rank(np.sort(sample), q) for q in QUANTILES]


def test_nearest_rank_is_the_smallest_value_covering_the_share() -> None:
    values = np.arange(1.0, 101.0)
    assert nearest_rank(values, 0.95) == 95.0
    assert nearest_rank(values, 0.951) == 96.0
    assert nearest_rank(np.array([7.0]), 0.5) == 7.0


def test_blocks_hold_at_least_the_cube_root_of_the_sample() -> None:
    assert [min_block_length(n) for n in (1, 8, 9, 1000, 1001, 27_000)] == [1, 2, 3, 10, 11, 30]
    independent = np.random.default_rng(2).normal(size=27_000)
    assert politis_white(independent) < 3
    assert block_length(independent) == 30


def ar1(phi: float, size: int, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(size=size)
    series = np.empty(size)
    series[0] = noise[0]
    for i in range(1, size):
        series[i] = phi * series[i - 1] + noise[i]
    return series


@pytest.mark.parametrize("phi", [0.5, 0.8])
def test_correlated_latencies_get_the_block_length_theory_gives(phi: float) -> None:
    """For an AR(1) series the optimal circular-block length is known in closed form:
    (6φ² / ((1−φ)²(1+φ)²))^⅓ · n^⅓ (Politis and White, 2004, from G and D of the series)."""
    size = 20_000
    theory = (6 * phi**2 / ((1 - phi) ** 2 * (1 + phi) ** 2)) ** (1 / 3) * size ** (1 / 3)
    assert abs(politis_white(ar1(phi, size, seed=4)) / theory - 1) < 0.15


def test_a_comparison_is_reproducible_and_its_runs_use_two_streams() -> None:
    sample = np.random.default_rng(1).lognormal(3, 0.2, 500)
    first, again = bootstrap_quantiles(sample), bootstrap_quantiles(sample)
    assert np.array_equal(first.resampled, again.resampled)
    other = bootstrap_quantiles(sample, stream=1)
    assert not np.array_equal(first.resampled, other.resampled)


def test_the_interval_covers_the_true_p95_of_independent_draws_most_of_the_time() -> None:
    rng = np.random.default_rng(7)
    true_p95 = 20 + 1.6448536 * 1.0  # of N(20, 1)
    covered = 0
    for _ in range(60):
        low, high = interval(
            bootstrap_quantiles(rng.normal(20, 1, 800), resamples=400).resampled[:, 1]
        )
        covered += low <= true_p95 <= high
    assert covered >= 51  # 95 % nominal; 51 of 60 is below it by three standard errors


def test_blocks_widen_the_interval_of_correlated_latencies() -> None:
    """Requests that share the target's state come in runs: one block bootstrap interval must be
    wider than a bootstrap that takes them one by one would be (block length 1)."""
    rng = np.random.default_rng(3)
    level = np.repeat(rng.normal(0, 1, 100), 30)  # 100 bursts of 30 alike requests
    sample = 20 + level + rng.normal(0, 0.1, level.size)
    blocked = interval(bootstrap_quantiles(sample).resampled[:, 1])
    shuffled = interval(bootstrap_quantiles(rng.permutation(sample)).resampled[:, 1])
    assert blocked[1] - blocked[0] > 1.5 * (shuffled[1] - shuffled[0])


def test_relative_shift_of_replicates() -> None:
    shift = relative_shift(np.array([10.0, 20.0, 0.0]), np.array([11.0, 10.0, 0.0]))
    assert np.allclose(shift, [0.1, -0.5, 0.0])


def test_the_rank_test_sees_a_shift_and_not_its_absence() -> None:
    rng = np.random.default_rng(5)
    base = rng.lognormal(3.0, 0.1, 3000)
    same = rng.lognormal(3.0, 0.1, 3000)
    slower = rng.lognormal(3.05, 0.1, 3000)
    assert rank_test(base, same).p_value > 0.01
    assert 0.4 < rank_test(base, same).p_slower < 0.6
    moved = rank_test(base, slower)
    assert moved.p_value < 1e-6
    assert moved.p_slower > 0.8
    assert moved.block == 15
    assert moved.base_blocks == 200 == moved.candidate_blocks
