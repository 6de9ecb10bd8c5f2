"""Capacity and knee of two capacity searches, with intervals, and the capacity gate.

A step's throughput is its successful answers per second over its measured window
(``harness.capacity.steps``). Its interval is a block bootstrap too: the window is cut into
``SLICES`` equal slices, and each resample draws that many slices' counts with replacement.
A capacity is quoted only from a step whose answers can bracket its p95 (``fewest_samples``: 72
at 95 %): a step "within the SLO" on fewer proved nothing, and its capacity gate is inconclusive.
"""

from __future__ import annotations

import numpy as np

from harness.capacity.result import CapacityResult
from harness.capacity.steps import Requests, Window
from harness.compare.gates import shift_gate
from harness.compare.result import CapacityComparison, Estimate, Gate
from harness.compare.rundir import CapacityRun
from harness.compare.stats import RESAMPLES, SEED, Floats, interval, relative_shift
from harness.load.samples import fewest_samples

__all__ = ["SLICES", "capacity_gate", "compare_capacity", "step_rate"]

SLICES = 20


def step_rate(requests: Requests, window: Window, stream: int) -> tuple[float, Floats]:
    """A step's throughput (req/s) and its bootstrap replicates."""
    edges = np.linspace(window.start_ns, window.end_ns, SLICES + 1)
    counts, _ = np.histogram(requests.done_ns[requests.ok], bins=edges)
    seconds = (window.end_ns - window.start_ns) / 1e9
    rng = np.random.default_rng([SEED, 100 + stream])
    drawn = counts[rng.integers(0, SLICES, size=(RESAMPLES, SLICES))]
    return float(counts.sum()) / seconds, drawn.sum(axis=1) / seconds


def _at_step(run: CapacityRun, index: int | None, stream: int) -> tuple[Estimate, Floats] | None:
    window = next((w for w in run.windows if w.index == index), None)
    if window is None:
        return None
    value, replicates = step_rate(run.requests, window, stream)
    low, high = interval(replicates)
    return Estimate(value=value, low=low, high=high), replicates


def _step_answers(result: CapacityResult) -> int | None:
    step = next((s for s in result.steps if s.index == result.capacity_step), None)
    return None if step is None else step.requests - step.errors


def _knee(result: CapacityResult) -> str:
    step = next((s for s in result.steps if s.index == result.knee_step), None)
    return "none" if step is None else f"{step.offered:g} {step.offered_unit}"


def compare_capacity(base: CapacityRun, candidate: CapacityRun) -> CapacityComparison:
    left = _at_step(base, base.result.capacity_step, 0)
    right = _at_step(candidate, candidate.result.capacity_step, 1)
    shift = None
    if left is not None and right is not None:
        low, high = interval(relative_shift(left[1], right[1]))
        value = right[0].value / left[0].value - 1 if left[0].value else 0.0
        shift = Estimate(value=value, low=low, high=high)
    left_knee = _at_step(base, base.result.knee_step, 2)
    right_knee = _at_step(candidate, candidate.result.knee_step, 3)
    return CapacityComparison(
        base_rps=left[0] if left else None,
        candidate_rps=right[0] if right else None,
        shift=shift,
        base_knee=_knee(base.result),
        candidate_knee=_knee(candidate.result),
        base_knee_rps=left_knee[0] if left_knee else None,
        candidate_knee_rps=right_knee[0] if right_knee else None,
        base_step_answers=_step_answers(base.result),
        candidate_step_answers=_step_answers(candidate.result),
    )


def capacity_gate(capacity: CapacityComparison, max_drop: float) -> Gate:
    """Regression: capacity fell significantly *and* by more than allowed, or no step of the
    candidate met the SLO where one of the base did. Decisive (``Gate.decisive``): with the
    admitted p95s, what the comparison's verdict rests on. What it can detect: half its shift
    interval's width (a shift smaller than that, its interval cannot tell from none)."""
    shift = capacity.shift
    detectable = None if shift is None else (shift.high - shift.low) / 2
    return _capacity_gate(capacity, max_drop).model_copy(
        update={"decisive": True, "detectable": detectable}
    )


def _capacity_gate(capacity: CapacityComparison, max_drop: float) -> Gate:
    base, candidate, shift = capacity.base_rps, capacity.candidate_rps, capacity.shift
    if base is None and candidate is None:
        return Gate(
            subject="capacity",
            outcome="not compared",
            summary="no step of either search was within its SLO",
        )
    if candidate is None:
        assert base is not None
        return Gate(
            subject="capacity",
            outcome="regression",
            summary=f"no step of CANDIDATE "
            f"was within the SLO; BASE sustained {base.value:.1f} req/s",
        )
    if base is None:
        return Gate(
            subject="capacity",
            outcome="improvement",
            summary=f"no step of BASE was "
            f"within the SLO; CANDIDATE sustains {candidate.value:.1f} req/s",
        )
    assert shift is not None
    figures = f"capacity {base.value:.1f} → {candidate.value:.1f} req/s"
    fewest = fewest_samples(0.95)
    answers = (capacity.base_step_answers, capacity.candidate_step_answers)
    if any(count is not None and count < fewest for count in answers):
        return Gate(
            subject="capacity",
            outcome="inconclusive",
            summary=f"{figures}: quoted from steps of {answers[0]} and {answers[1]} answers, and "
            f"a step's p95 within the SLO needs {fewest} to be bracketed; lengthen the steps",
        )
    return shift_gate("capacity", figures, shift, max_drop, worse="down")
