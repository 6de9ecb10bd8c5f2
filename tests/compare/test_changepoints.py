"""Change points: a step is found where it begins; noise, small steps and short series are not."""

from __future__ import annotations

import numpy as np
import pytest

from harness.compare.changepoints import change_points


def test_a_step_at_the_fourth_of_five_runs() -> None:
    found = change_points(np.array([20.1, 19.8, 20.3, 30.2, 29.9]))
    assert [point.index for point in found] == [3]
    assert found[0].p_value < 0.01
    assert abs(found[0].change - (30.05 / 20.0667 - 1)) < 1e-3


def test_a_step_at_the_last_run_is_found_at_once() -> None:
    assert [p.index for p in change_points(np.array([20.1, 19.8, 20.3, 20.0, 30.2]))] == [4]


@pytest.mark.parametrize(
    "series",
    [
        [20.1, 19.8, 20.3, 20.0, 20.2],  # noise
        [20.0, 20.2, 19.9, 21.0, 21.2, 20.9],  # +5 %: below the 10 % minimum
        [20.0, 30.0],  # too short to test
        [27.5, 30.5, 28.0, 29.0, 31.0],  # noisy, no level
    ],
)
def test_no_change_without_one(series: list[float]) -> None:
    assert change_points(np.array(series)) == []


def test_the_false_alarm_rate_on_pure_noise_is_small() -> None:
    rng = np.random.default_rng(11)
    alarms = sum(bool(change_points(rng.normal(28, 1.5, 5))) for _ in range(300))
    assert alarms <= 0.06 * 300


def test_two_steps() -> None:
    series = np.array([20, 20.3, 19.9, 30.1, 29.8, 30.2, 45.0, 44.6, 45.3])
    assert [p.index for p in change_points(series)] == [3, 6]


def test_the_smallest_step_is_what_the_confirmation_test_accepts() -> None:
    """Over runs of 1.5 % noise a next run's step is confirmed from the returned size on, not
    below it; two runs can confirm little, and more runs confirm smaller steps."""
    from scipy.stats import ttest_ind_from_stats

    from harness.compare.changepoints import MAX_PVALUE, _noise, smallest_step

    values = np.array([20.0, 20.3, 19.9, 20.2, 20.1, 19.8, 20.4, 20.0])
    step = smallest_step(values)
    noise = _noise(np.log(values))
    p_at = ttest_ind_from_stats(1.0, noise, values.size, 1.0 + step, 0.0, 1).pvalue
    p_below = ttest_ind_from_stats(1.0, noise, values.size, 1.0 + step * 0.99, 0.0, 1).pvalue
    assert p_at < MAX_PVALUE <= p_below
    assert smallest_step(values[:2]) > smallest_step(values[:4]) > step
    assert smallest_step(values[:1]) == float("inf")
