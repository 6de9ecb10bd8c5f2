"""Per case: latency percentiles with intervals and shifts, the rank test, rates and shares.

Latency is compared by outcome, never pooled: an admitted answer waits for the language model
(tens of milliseconds and up), a refusal does not (a millisecond), so a run that is throttled
more would look faster. Admitted answers are what ``--max-p95-increase`` gates (their p95,
decisive); throttles and out-of-quota answers are the limiter's own latency, their p50 and p95
gated apart by ``--max-refusal-increase``. Each gate also says what the runs could resolve
(``harness.load.samples``): one that cannot resolve its threshold is inconclusive, never a pass.
Client and server errors and unanswered requests count in the error rate only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.compare.gates import shift_gate
from harness.compare.power import power_gate, quantile_power
from harness.compare.result import (
    CaseComparison,
    Estimate,
    Gate,
    LatencyComparison,
    LatencyGroup,
    PercentileShift,
    QuantilePower,
    RateComparison,
    Thresholds,
)
from harness.compare.stats import (
    MIN_SAMPLES,
    Floats,
    bootstrap_quantiles,
    interval,
    rank_test,
    relative_shift,
)

__all__ = [
    "GATED",
    "GROUPS",
    "GROUP_WORDS",
    "OUTCOMES",
    "case_gates",
    "compare_case",
    "compare_latency",
    "latency_gate",
]

OUTCOMES = ("ok", "throttled", "out_of_quota", "client_error", "server_error", "transport_error")
GROUPS: dict[LatencyGroup, tuple[str, ...]] = {
    "admitted": ("ok",),
    "throttled": ("throttled",),
    "out_of_quota": ("out_of_quota",),
}
GROUP_WORDS: dict[LatencyGroup, str] = {
    "admitted": "admitted answers",
    "throttled": "throttles",
    "out_of_quota": "out-of-quota answers",
}
# The percentiles each group's gates weigh.
GATED: dict[LatencyGroup, tuple[float, ...]] = {
    "admitted": (0.95,),
    "throttled": (0.50, 0.95),
    "out_of_quota": (0.50, 0.95),
}
_SUBJECT = {"admitted": "", "throttled": "throttled ", "out_of_quota": "out-of-quota "}
_ERRORS = ("client_error", "server_error", "transport_error")
_BASE_STREAM, _CANDIDATE_STREAM = 0, 1


def _threshold(group: LatencyGroup, thresholds: Thresholds) -> float:
    if group == "admitted":
        return thresholds.max_p95_increase
    return thresholds.max_refusal_increase


def compare_latency(
    group: LatencyGroup, base: Floats, candidate: Floats, threshold: float = 0.10
) -> LatencyComparison:
    """Percentiles (s) of both runs with intervals, their relative shifts, the U test, and
    what the runs can resolve of each gated percentile at ``threshold``."""
    power: list[QuantilePower] = [
        quantile_power(q, base, candidate, threshold) for q in GATED[group]
    ]
    if min(base.size, candidate.size) < MIN_SAMPLES:
        return LatencyComparison(
            group=group,
            power=power,
            base_samples=int(base.size),
            candidate_samples=int(candidate.size),
            percentiles=[],
            rank_p_value=None,
            p_slower=None,
            block=None,
            reason=f"fewer than {MIN_SAMPLES} {group} answers in a run "
            f"({base.size} and {candidate.size})",
        )
    left = bootstrap_quantiles(base, stream=_BASE_STREAM)
    right = bootstrap_quantiles(candidate, stream=_CANDIDATE_STREAM)
    percentiles = []
    for column, q in enumerate(left.quantiles):
        shifts = relative_shift(left.resampled[:, column], right.resampled[:, column])
        point = float(
            relative_shift(left.estimate[column : column + 1], right.estimate[column : column + 1])[
                0
            ]
        )
        low, high = interval(shifts)
        percentiles.append(
            PercentileShift(
                quantile=q,
                base_s=Estimate(value=left.estimate[column], **_bounds(left.resampled[:, column])),
                candidate_s=Estimate(
                    value=right.estimate[column], **_bounds(right.resampled[:, column])
                ),
                shift=Estimate(value=point, low=low, high=high),
                significant=low > 0 or high < 0,
            )
        )
    test = rank_test(base, candidate)
    return LatencyComparison(
        group=group,
        power=power,
        base_samples=int(base.size),
        candidate_samples=int(candidate.size),
        percentiles=percentiles,
        rank_p_value=test.p_value,
        p_slower=test.p_slower,
        block=test.block,
    )


def _bounds(replicates: Floats) -> dict[str, float]:
    low, high = interval(replicates)
    return {"low": low, "high": high}


def _seconds(chats: pd.DataFrame, outcomes: tuple[str, ...]) -> Floats:
    chosen = chats["outcome"].isin(outcomes).to_numpy()
    return np.asarray(chats["latency_ms"].to_numpy(np.float64)[chosen] / 1e3)


def _span_s(chats: pd.DataFrame) -> float:
    if chats.empty:
        return 0.0
    return float(chats["done_ns"].max() - chats["sent_ns"].min()) / 1e9


def _rate(count: int, span_s: float) -> float:
    return count / span_s if span_s > 0 else 0.0


def compare_case(
    case: str,
    base: pd.DataFrame,
    candidate: pd.DataFrame,
    thresholds: Thresholds | None = None,
) -> CaseComparison:
    """``base`` and ``candidate``: the case's chat requests of each run, in send order."""
    chosen = thresholds or Thresholds()
    spans = _span_s(base), _span_s(candidate)
    counts = [chats["outcome"].value_counts() for chats in (base, candidate)]
    sizes = len(base), len(candidate)

    def share(outcomes: tuple[str, ...]) -> RateComparison:
        left, right = (
            sum(int(c.get(o, 0)) for o in outcomes) / n if n else 0.0
            for c, n in zip(counts, sizes, strict=True)
        )
        return RateComparison(base=left, candidate=right)

    ok = [int(c.get("ok", 0)) for c in counts]
    return CaseComparison(
        case=case,
        requests=sizes,
        requests_per_s=RateComparison(
            base=_rate(sizes[0], spans[0]), candidate=_rate(sizes[1], spans[1])
        ),
        admitted_per_s=RateComparison(
            base=_rate(ok[0], spans[0]), candidate=_rate(ok[1], spans[1])
        ),
        error_rate=share(_ERRORS),
        outcome_shares={outcome: share((outcome,)) for outcome in OUTCOMES},
        latency=[
            compare_latency(
                group,
                _seconds(base, outcomes),
                _seconds(candidate, outcomes),
                _threshold(group, chosen),
            )
            for group, outcomes in GROUPS.items()
        ],
    )


def latency_gate(case: CaseComparison, group: LatencyGroup, q: float, threshold: float) -> Gate:
    """One percentile of one group of answers against its threshold (``gates.shift_gate``),
    inconclusive where the runs cannot resolve it (``power.power_gate``)."""
    name = f"p{q * 100:g}"
    subject = f"{name} {_SUBJECT[group]}{case.case}"
    words = GROUP_WORDS[group]
    latency = next(item for item in case.latency if item.group == group)
    counts = (latency.base_samples, latency.candidate_samples)
    if counts == (0, 0):
        return Gate(
            subject=subject,
            outcome="not compared",
            summary=f"no {words} in either run",
            decisive=False,
        )
    shift = next((p for p in latency.percentiles if p.quantile == q), None)
    measured = None
    if shift is not None:
        figures = (
            f"{name} of {words} {shift.base_s.value * 1e3:.1f} → "
            f"{shift.candidate_s.value * 1e3:.1f} ms"
        )
        measured = shift_gate(subject, figures, shift.shift, threshold, worse="up")
    power = next(p for p in latency.power if p.quantile == q)
    return power_gate(
        subject, f"{name} of {words}", counts, power, threshold, measured, group == "admitted"
    )


def case_gates(case: CaseComparison, thresholds: Thresholds) -> list[Gate]:
    """The admitted answers' p95, then the p50 and p95 of each refusal group that either run
    has (a case that refused nothing in both has no refusal latency to gate)."""
    present = {item.group for item in case.latency if item.base_samples or item.candidate_samples}
    return [
        latency_gate(case, group, q, _threshold(group, thresholds))
        for group, quantiles in GATED.items()
        if group == "admitted" or group in present
        for q in quantiles
    ]
