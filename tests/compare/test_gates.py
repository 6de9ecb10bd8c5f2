"""A shift counts as far as its interval proves it: each outcome, in both directions."""

from __future__ import annotations

import pytest

from harness.compare.gates import shift_gate
from harness.compare.result import Estimate


@pytest.mark.parametrize(
    ("low", "high", "worse", "expected"),
    [
        (0.15, 0.30, "up", "regression"),  # wholly beyond +10 %
        (0.05, 0.30, "up", "inconclusive"),  # significant, but may be within
        (-0.30, -0.15, "up", "improvement"),
        (-0.08, 0.09, "up", "no significant change"),
        (0.02, 0.08, "up", "no significant change"),  # significant, yet within the threshold
        (-0.20, 0.20, "up", "inconclusive"),  # too wide to tell
        (-0.30, -0.15, "down", "regression"),  # capacity fell beyond the drop allowed
        (0.15, 0.30, "down", "improvement"),
        (-0.12, -0.02, "down", "inconclusive"),
    ],
)
def test_the_outcome_follows_the_interval(
    low: float, high: float, worse: str, expected: str
) -> None:
    shift = Estimate(value=(low + high) / 2, low=low, high=high)
    gate = shift_gate("p95 x", "p95 20 → 25 ms", shift, 0.10, worse)  # type: ignore[arg-type]
    assert gate.outcome == expected
    assert gate.summary.startswith("p95 20 → 25 ms (")


def test_the_inconclusive_gate_names_its_remedy() -> None:
    gate = shift_gate("p95 x", "f", Estimate(value=0.1, low=0.0, high=0.2), 0.1, "up")
    assert "more requests" in gate.summary
