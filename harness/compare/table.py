"""The comparison as text: the headline, what changed, and the per-case table.

The terminal and ``compare.html`` show the same rows (built here, once), in this order: the
verdict, then what changed in the verdicts (failed checks, the limiter family), then every gate,
regressions first, then the figures per case.
"""

from __future__ import annotations

import pandas as pd

from harness.compare.gates import percent
from harness.compare.result import Comparison, Estimate, Gate, PercentileShift

__all__ = ["MARKS", "case_table", "headline", "news_lines", "sorted_gates"]

# How each gate outcome is shown (terminal and page).
MARKS = {
    "regression": "REGRESSION",
    "improvement": "improvement",
    "no significant change": "no change",
    "inconclusive": "inconclusive",
    "not compared": "not compared",
}

_ORDER = {
    "regression": 0,
    "inconclusive": 1,
    "improvement": 2,
    "not compared": 3,
    "no significant change": 4,
}


def headline(comparison: Comparison) -> str:
    counted = [gate for gate in comparison.gates if gate.outcome != "not compared"]
    regressed = len(comparison.regressions)
    improved = sum(gate.outcome == "improvement" for gate in counted)
    open_ = sum(gate.outcome == "inconclusive" for gate in counted)
    undecided = f", {open_} inconclusive" if open_ else ""
    return (
        f"{comparison.verdict.upper()}: {regressed} of {len(counted)} gates regressed, "
        f"{improved} improved{undecided}"
    )


def news_lines(comparison: Comparison) -> list[str]:
    """What changed in the verdicts, failures first: the lines a reader must not miss."""
    lines = []
    for change in comparison.checks:
        lines.append(f"check {change.id}: {change.base} → {change.candidate}: {change.summary}")
    family = comparison.family
    if family is not None:
        moved = f" ({'; '.join(family.parameters)})" if family.parameters else ""
        if family.base == family.candidate:
            lines.append(f"limiter {family.base}: parameters moved{moved}")
        else:
            lines.append(f"limiter family changed: {family.base} → {family.candidate}{moved}")
    if comparison.states is not None and comparison.states[0] != comparison.states[1]:
        lines.append(f"verdict: {comparison.states[0]} → {comparison.states[1]}")
    return lines


def sorted_gates(comparison: Comparison) -> list[Gate]:
    return sorted(comparison.gates, key=lambda gate: _ORDER[gate.outcome])


def _ms(estimate: Estimate) -> str:
    return f"{estimate.value * 1e3:.1f}"


def _shift(percentile: PercentileShift | None) -> str:
    if percentile is None:
        return "-"
    shift = percentile.shift
    mark = "*" if percentile.significant else ""
    return (
        f"{_ms(percentile.base_s)} → {_ms(percentile.candidate_s)} {percent(shift.value)}{mark} "
        f"[{percent(shift.low)}, {percent(shift.high)}]"
    )


def case_table(comparison: Comparison) -> pd.DataFrame:
    """One row per case and answer group; ``*`` marks a shift whose interval excludes 0."""
    rows = []
    for case in comparison.cases:
        for latency in case.latency:
            if latency.base_samples == latency.candidate_samples == 0:
                continue  # e.g. no refusal in either run
            by_q = {p.quantile: p for p in latency.percentiles}
            rows.append(
                {
                    "case": case.case,
                    "answers": latency.group,
                    "n base/cand": f"{latency.base_samples}/{latency.candidate_samples}",
                    "p50 ms": _shift(by_q.get(0.5)),
                    "p95 ms": _shift(by_q.get(0.95)),
                    "p99 ms": _shift(by_q.get(0.99)),
                    "U test p": "-"
                    if latency.rank_p_value is None
                    else f"{latency.rank_p_value:.2g}",
                    "per s": f"{case.admitted_per_s.base:.1f} → {case.admitted_per_s.candidate:.1f}"
                    if latency.group == "admitted"
                    else "",
                    "errors": f"{case.error_rate.base * 100:.1f} → "
                    f"{case.error_rate.candidate * 100:.1f} %"
                    if latency.group == "admitted"
                    else "",
                }
            )
    return pd.DataFrame(rows)
