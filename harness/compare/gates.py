"""How a measured shift becomes a gate's outcome: the same rule for p95 and for capacity.

A shift counts only as far as its 95 % interval proves it, as a check fails only when the records
prove a violation: a **regression** when the whole interval lies beyond the threshold on the
worse side, an **improvement** when it lies beyond it on the better side, **no significant
change** when it lies within ±threshold, and **inconclusive** when it reaches past the threshold
without lying wholly beyond it (the runs were too short or too noisy to tell; the remedy is more
requests). So a regression is both significant (the interval excludes 0) and larger than the
threshold, and thousands of samples cannot make a 1 % shift fire the gate.
"""

from __future__ import annotations

from typing import Literal

from harness.compare.result import Estimate, Gate

__all__ = ["percent", "shift_gate"]


def percent(fraction: float) -> str:
    return f"{fraction * 100:+.1f} %"


def shift_gate(
    subject: str,
    figures: str,
    shift: Estimate,
    threshold: float,
    worse: Literal["up", "down"],
) -> Gate:
    """``figures``: what was measured, in words; ``worse``: which way is a regression."""
    sign = 1 if worse == "up" else -1
    low, high = sorted((sign * shift.low, sign * shift.high))  # in "worse is positive" terms
    allowed = f"{threshold * 100:g} %"
    text = (
        f"{figures} ({percent(shift.value)}, 95 % interval {percent(shift.low)} … "
        f"{percent(shift.high)})"
    )
    if low > threshold:
        return Gate(
            subject=subject, outcome="regression", summary=f"{text}: beyond the {allowed} allowed"
        )
    if high < -threshold:
        return Gate(subject=subject, outcome="improvement", summary=f"{text}: beyond {allowed}")
    if -threshold <= low and high <= threshold:
        return Gate(
            subject=subject, outcome="no significant change", summary=f"{text}: within ±{allowed}"
        )
    remedy = "more requests (a longer run, more clients) would tell"
    return Gate(
        subject=subject,
        outcome="inconclusive",
        summary=f"{text}: the interval reaches past ±{allowed}; {remedy}",
    )
