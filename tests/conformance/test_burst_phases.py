"""Bursts held together to every family still possible: one lattice cannot split bursts at
different phases, and a correct aligned window is never refuted whatever its phase."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from harness.conformance.burst_phases import Shot, allowance, common_boundary, refutation
from harness.conformance.identify import Family
from harness.conformance.spec import RateSpec, Tolerance

D = 1_000
EXACT = Tolerance(granularity_ns=0, boundary_ns=0, rate_error=0.0)
RATE = RateSpec(5, D, "slow down", "device")


def brute_common_boundary(arcs: list[Shot], period: int, slack: int) -> bool:
    """Some integer phase lies in every widened arc (the definition, tried phase by phase)."""
    return any(
        all(
            any(
                shot.start_ns - slack <= phase + m * period <= shot.end_ns + slack
                for m in range(-5, 10)
            )
            for shot in arcs
        )
        for phase in range(period)
    )


arcs = st.lists(
    st.builds(
        lambda start, hull: Shot(1, start, start + hull),
        st.integers(0, 4 * D),
        st.integers(0, D + 50),
    ),
    min_size=0,
    max_size=5,
)


@given(arcs, st.integers(0, 20))
def test_a_common_boundary_is_found_exactly_when_one_phase_lies_in_every_arc(
    shots: list[Shot], slack: int
) -> None:
    assert common_boundary(shots, D, slack) == brute_common_boundary(shots, D, slack)


def test_bursts_at_different_phases_cannot_all_straddle_one_aligned_boundary() -> None:
    # Six admitted (L + 1) in two short bursts: a boundary at phase 100 splits the first, and
    # none of its lattice (…, 1 100, 2 100, …) falls inside the second at 1 500.
    apart = [Shot(6, 90, 110), Shot(6, 1_490, 1_510)]
    reason = refutation(Family.FIXED_WINDOW, RATE, apart, EXACT)
    assert reason is not None
    assert "different phases of the 1µs window" in reason
    # One window apart, they sit at one phase: one lattice explains both.
    together = [Shot(6, 90, 110), Shot(6, 1_090, 1_110)]
    assert refutation(Family.FIXED_WINDOW, RATE, together, EXACT) is None


def test_a_fresh_key_burst_of_limit_and_one_refutes_every_family_but_fixed_windows() -> None:
    one = [Shot(6, 0, 50)]
    assert refutation(Family.SLIDING_LOG, RATE, one, EXACT) is not None
    assert refutation(Family.ANCHORED_WINDOW, RATE, one, EXACT) is not None
    # A bucket refills one message per D/L = 200: L+1 within 200 is its own violation.
    assert refutation(Family.TOKEN_BUCKET, RATE, one, EXACT) is not None
    assert refutation(Family.TOKEN_BUCKET, RATE, [Shot(6, 0, 200)], EXACT) is None
    assert refutation(Family.FIXED_WINDOW, RATE, one, EXACT) is None
    # More than 2L is beyond a boundary too.
    assert refutation(Family.FIXED_WINDOW, RATE, [Shot(11, 0, 50)], EXACT) is not None


def test_a_burst_as_long_as_the_window_is_held_to_what_any_family_allows() -> None:
    assert allowance(Family.SLIDING_LOG, 5, D, D) == 5 * (math.ceil(D / D) + 1)
    assert allowance(Family.FIXED_WINDOW, 5, D - 1, D) == 10
    assert allowance(Family.ANCHORED_WINDOW, 5, D - 1, D) == 5


@given(
    st.integers(0, D - 1),
    st.lists(st.tuples(st.integers(0, 10 * D), st.integers(0, D // 3)), min_size=1, max_size=6),
)
def test_a_correct_aligned_window_at_any_phase_is_never_refuted(
    phase: int, bursts: list[tuple[int, int]]
) -> None:
    """Soundness: each burst admits what aligned windows at ``phase`` let through (2L when a
    boundary falls inside it, L otherwise); held together, they are always explained."""
    shots = []
    for start, hull in bursts:
        end = start + hull
        boundary_inside = math.floor((end - phase) / D) > math.floor((start - phase) / D)
        shots.append(Shot(2 * RATE.limit if boundary_inside else RATE.limit, start, end))
    assert refutation(Family.FIXED_WINDOW, RATE, shots, EXACT) is None
