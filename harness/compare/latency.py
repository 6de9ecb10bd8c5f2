"""Per case: latency percentiles with intervals and shifts, the rank test, rates and shares.

Latency is compared by outcome, never pooled: an admitted answer waits for the language model
(tens of milliseconds and up), a refusal does not (a millisecond), so a run that is throttled
more would look faster. Admitted answers are what ``--max-p95-increase`` gates; refusals are
shown beside them. Client and server errors and unanswered requests count in the error rate only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.compare.gates import shift_gate
from harness.compare.result import (
    CaseComparison,
    Estimate,
    Gate,
    LatencyComparison,
    PercentileShift,
    RateComparison,
)
from harness.compare.stats import (
    MIN_SAMPLES,
    Floats,
    bootstrap_quantiles,
    interval,
    rank_test,
    relative_shift,
)

__all__ = ["GROUPS", "OUTCOMES", "compare_case", "compare_latency", "p95_gate"]

OUTCOMES = ("ok", "throttled", "out_of_quota", "client_error", "server_error", "transport_error")
GROUPS = {"admitted": ("ok",), "refused": ("throttled", "out_of_quota")}
_ERRORS = ("client_error", "server_error", "transport_error")
_BASE_STREAM, _CANDIDATE_STREAM = 0, 1


def compare_latency(group: str, base: Floats, candidate: Floats) -> LatencyComparison:
    """Percentiles (s) of both runs with intervals, their relative shifts, and the U test."""
    if min(base.size, candidate.size) < MIN_SAMPLES:
        return LatencyComparison(
            group=group,  # type: ignore[arg-type]
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
        group=group,  # type: ignore[arg-type]
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


def compare_case(case: str, base: pd.DataFrame, candidate: pd.DataFrame) -> CaseComparison:
    """``base`` and ``candidate``: the case's chat requests of each run, in send order."""
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
            compare_latency(group, _seconds(base, outcomes), _seconds(candidate, outcomes))
            for group, outcomes in GROUPS.items()
        ],
    )


def p95_gate(case: CaseComparison, max_increase: float) -> Gate:
    """The admitted answers' p95 against ``--max-p95-increase`` (``gates.shift_gate``)."""
    subject = f"p95 {case.case}"
    admitted = case.latency[0]
    p95 = next((p for p in admitted.percentiles if p.quantile == 0.95), None)
    if p95 is None:
        return Gate(subject=subject, outcome="not compared", summary=admitted.reason)
    figures = (
        f"p95 of admitted answers {p95.base_s.value * 1e3:.1f} → "
        f"{p95.candidate_s.value * 1e3:.1f} ms"
    )
    return shift_gate(subject, figures, p95.shift, max_increase, worse="up")
