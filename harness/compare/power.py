"""Detection power of a comparison's latency gates: what two runs' answers can resolve.

A gate that could not have failed must not pass. Each run's percentile is bracketed by its own
order statistics (``harness.load.samples``: distribution-free, binomial ranks); the two runs'
intervals give the smallest relative shift they can tell from none (the **resolution**). A gate
decided by its bootstrap interval (``gates.shift_gate``) keeps a regression or an improvement,
which its interval proves whatever the power; a "no significant change" stands only where the
resolution is within the threshold too. Otherwise the gate is inconclusive, and says how many
answers per run would resolve the threshold, read off the runs' own latency shapes.
"""

from __future__ import annotations

import math

import numpy as np

from harness.compare.result import Gate, QuantilePower
from harness.compare.stats import MIN_SAMPLES, Floats
from harness.load.samples import (
    MOST_SAMPLES,
    QuantileFunction,
    fewest_samples,
    log_half_width,
    resolution,
    sample_quantiles,
    samples_needed,
)

__all__ = ["needed_words", "power_gate", "quantile_power", "resolution_words"]


def _shapes(base: Floats, candidate: Floats) -> list[QuantileFunction] | None:
    """Each run's own latency shape, or both runs' together for a run with too few answers to
    have one; None when the two hold fewer than two answers."""
    pooled = np.concatenate([base, candidate])
    if pooled.size < 2:
        return None
    return [
        sample_quantiles(values if values.size >= 2 else pooled) for values in (base, candidate)
    ]


def quantile_power(q: float, base: Floats, candidate: Floats, threshold: float) -> QuantilePower:
    """What ``base`` and ``candidate`` (latencies, any unit) can resolve of their q-quantile,
    and the answers per run that would resolve ``threshold``."""
    widths = [
        log_half_width(sample_quantiles(values), values.size, q) if values.size else math.inf
        for values in (base, candidate)
    ]
    resolved = resolution(widths)
    shapes = _shapes(base, candidate)
    needed = None if shapes is None else samples_needed(shapes, q, threshold)
    return QuantilePower(
        quantile=q,
        resolution=resolved if math.isfinite(resolved) else None,
        fewest=fewest_samples(q),
        needed=needed,
    )


def needed_words(power: QuantilePower, threshold: float, least: bool = False) -> str:
    """'about 412 per run would resolve ±10 %' (or why no count can be given); ``least``:
    the runs hold too few answers to show their tail, so the count is a floor."""
    allowed = f"±{threshold * 100:g} %"
    if power.needed is not None:
        about = "at least" if least else "about"
        return f"{about} {power.needed} per run would resolve {allowed}"
    return f"more than {MOST_SAMPLES} per run would be needed for {allowed}"


def power_gate(
    subject: str,
    what: str,
    counts: tuple[int, int],
    power: QuantilePower,
    threshold: float,
    measured: Gate | None,
    decisive: bool,
) -> Gate:
    """The gate of one percentile: ``measured`` (its bootstrap verdict, None below
    ``MIN_SAMPLES``) where it proves a change or the runs resolve ``threshold``, else
    inconclusive, naming what is missing. ``what``: 'p95 of admitted answers'."""
    extra = {"decisive": decisive, "detectable": power.resolution, "needed": power.needed}
    if measured is not None and measured.outcome in ("regression", "improvement"):
        return measured.model_copy(update=extra)
    base, candidate = counts
    remedy = needed_words(power, threshold, least=min(counts) < power.fewest)
    if power.resolution is None:
        summary = (
            f"{what}: {base} and {candidate} in the runs, and an interval needs "
            f"{power.fewest} in each; {remedy}"
        )
    elif power.resolution > threshold:
        summary = (
            f"{what}: {base} and {candidate} in the runs resolve "
            f"±{abs(power.resolution) * 100:.1f} %, not ±{threshold * 100:g} %; {remedy}"
        )
    elif measured is None:
        summary = (
            f"{what}: {base} and {candidate} in the runs, fewer than the {MIN_SAMPLES} "
            f"the bootstrap needs in each; {MIN_SAMPLES} per run would tell"
        )
    else:
        return measured.model_copy(update=extra)
    return Gate(
        subject=subject,
        outcome="inconclusive",
        summary=summary,
        decisive=decisive,
        detectable=power.resolution,
        needed=power.needed,
    )


def resolution_words(gate: Gate) -> str:
    """What ``compare --explain`` says of a gate: the smallest change it can detect."""
    if gate.detectable is None:
        return "no interval: detects no change"
    return f"detects a change of ±{gate.detectable * 100:.1f} % or more"
