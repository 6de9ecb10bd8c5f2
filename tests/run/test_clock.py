"""NTP-style clock offsets: the least-delayed sample wins, and the error bound holds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.run.clock import ClockOffset, estimate_offset


def sample(send: int, forward: int, back: int, true_offset: int) -> tuple[int, int, int]:
    """The remote clock read ``forward`` ns after ``send``; the answer took ``back`` ns more."""
    return send, send + forward + true_offset, send + forward + back


def test_a_symmetric_sample_gives_the_exact_offset() -> None:
    assert estimate_offset([sample(1_000, 50, 50, 7_000)]) == ClockOffset(7_000, 50)


def test_the_least_delayed_sample_wins() -> None:
    samples = [
        sample(0, 400, 100, 5_000),  # delay 500, asymmetric: a poor estimate
        sample(10_000, 10, 10, 5_000),  # delay 20
        sample(20_000, 30, 900, 5_000),  # delay 930
    ]
    assert estimate_offset(samples) == ClockOffset(5_000, 10)


def test_a_negative_offset_is_estimated() -> None:
    assert estimate_offset([sample(10**18, 20, 20, -(10**12))]) == ClockOffset(-(10**12), 20)


def test_an_odd_round_trip_rounds_the_error_up() -> None:
    offset = estimate_offset([(0, 100, 3)])
    assert offset.clock_offset_err_ns == 2
    assert offset.clock_offset_ns == 99


@given(
    true_offset=st.integers(-(10**15), 10**15),
    legs=st.lists(
        st.tuples(st.integers(0, 10**18), st.integers(0, 10**9), st.integers(0, 10**9)),
        min_size=1,
        max_size=8,
    ),
)
def test_the_true_offset_lies_within_the_error_bound(
    true_offset: int, legs: list[tuple[int, int, int]]
) -> None:
    samples = [sample(send, forward, back, true_offset) for send, forward, back in legs]
    estimate = estimate_offset(samples)
    least_delay = min(forward + back for _, forward, back in legs)
    assert estimate.clock_offset_ns - estimate.clock_offset_err_ns <= true_offset
    assert true_offset <= estimate.clock_offset_ns + estimate.clock_offset_err_ns
    assert (
        estimate.clock_offset_err_ns == (least_delay + 1) // 2
    )  # half the least round trip, rounded up
