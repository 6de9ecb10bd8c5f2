"""The open sweep's rate search: spread, bracket and bisection to within 5 %."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.capacity.sweep import MAX_BISECTIONS, OVERSHOOT, PRECISION, bracket, next_rate, spread


def test_the_spread_runs_from_above_the_synchronous_rate_past_the_throughput() -> None:
    rates = spread(25.0, 100.0, 5)
    assert len(rates) == 5
    assert rates[0] > 25
    assert rates[-1] == pytest.approx(100 * OVERSHOOT)
    assert rates == sorted(rates)
    with pytest.raises(ValueError, match="count"):
        spread(1, 2, 0)


def test_the_bracket_never_lies_above_a_rate_that_failed() -> None:
    # 80 passed above a failure at 70 (noise): the capacity is not quoted above 70.
    found = bracket([(50, True), (70, False), (80, True), (90, False)])
    assert (found.within, found.outside) == (50, 70)
    assert not found.narrow
    assert bracket([(95, True), (99, False)]).narrow
    assert bracket([]).within is None


def search(capacity: float, rates: list[float]) -> list[tuple[float, bool]]:
    """A target within the SLO up to ``capacity``: the rates the sweep tries, and how they did."""
    tried = [(rate, rate <= capacity) for rate in rates]
    bisections = 0
    while (rate := next_rate(tried, bisections)) is not None:
        bisections += 1
        tried.append((rate, rate <= capacity))
    return tried


@given(
    capacity=st.floats(min_value=1, max_value=10_000),
    synchronous=st.floats(min_value=0.5, max_value=50),
)
def test_bisection_ends_within_five_percent_below_the_capacity(
    capacity: float, synchronous: float
) -> None:
    throughput = capacity * 1.02  # the closed throughput run sees about the capacity
    tried = search(capacity, spread(min(synchronous, capacity / 2), throughput, 5))
    found = bracket(tried)
    assert found.within is not None
    assert found.outside is not None
    assert found.within <= capacity < found.outside
    assert found.narrow  # within PRECISION
    assert capacity - found.within <= capacity * PRECISION
    assert len(tried) <= 5 + MAX_BISECTIONS


def test_a_target_that_holds_every_rate_needs_no_bisection() -> None:
    assert next_rate([(10, True), (20, True)], 0) is None


def test_a_target_that_fails_every_rate_is_bisected_towards_zero() -> None:
    assert next_rate([(10, False), (20, False)], 0) == 5
    assert next_rate([(10, False)], MAX_BISECTIONS) is None
