"""The charts of ``compare`` (distributions overlaid, shifts with intervals, capacity steps) and
of ``history`` (the trend with its change points).

Pure functions from a ``Comparison`` (and the two runs' chat requests) to matplotlib figures, in
the report's look (``harness.report.charts``): the same width, red for every configured bound.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from harness.capacity.result import CapacityResult
from harness.compare.history import History
from harness.compare.result import Comparison
from harness.compare.stats import Floats
from harness.conformance.findings import Outcome
from harness.report.charts import CHECK_COLORS, LIMIT_LINE, WIDTH_IN, grid

__all__ = [
    "BASE_COLOR",
    "CANDIDATE_COLOR",
    "capacity_steps_figure",
    "distributions_figure",
    "shifts_figure",
    "trend_figure",
]

BASE_COLOR = "#1864ab"
CANDIDATE_COLOR = "#e8590c"
MAX_CASES = 12  # panels of the distributions figure
_CURVE_POINTS = 400
_QUANTILE_MARKS = {0.5: "o", 0.95: "s", 0.99: "^"}


def _ecdf(latency_ms: Floats) -> tuple[Floats, Floats]:
    """The empirical distribution at most ``_CURVE_POINTS`` points (its quantiles)."""
    levels = np.linspace(0, 1, _CURVE_POINTS)
    return np.quantile(latency_ms, levels, method="inverted_cdf"), levels


# How each group of answers is drawn in the distributions: admitted solid, refusals dashed.
_GROUP_LINES = {
    "ok": ("-", "admitted"),
    "throttled": ("--", "throttled"),
    "out_of_quota": ("-.", "out of quota"),
}


def distributions_figure(
    comparison: Comparison, base: pd.DataFrame, candidate: pd.DataFrame
) -> Figure:
    """Per case, the latency distribution of both runs' admitted answers (p95 marked) and,
    beside them on the same log axis, of their throttles and out-of-quota answers."""
    names = [case.case for case in comparison.cases][:MAX_CASES]
    figure, axes = grid(max(len(names), 1), row_in=2.9)
    for ax, name in zip(axes, names, strict=False):
        lowest: list[float] = []  # per curve: a log axis fits refusals beside answers
        for chats, color, side in (
            (base, BASE_COLOR, "base"),
            (candidate, CANDIDATE_COLOR, "candidate"),
        ):
            for outcome, (style, words) in _GROUP_LINES.items():
                chosen = (chats["case"] == name) & (chats["outcome"] == outcome)
                values = chats.loc[chosen, "latency_ms"]
                if values.empty:
                    continue
                x, y = _ecdf(values.to_numpy(np.float64))
                lowest.append(float(x[0]))
                label = f"{side} {words} ({len(values)})"
                ax.plot(x, y, color=color, lw=1.6, ls=style, label=label)
                if outcome == "ok":
                    p95 = float(np.quantile(values, 0.95, method="inverted_cdf"))
                    ax.axvline(p95, color=color, ls=":", lw=1.2)
        ax.axhline(0.95, color="#adb5bd", lw=0.8)
        ax.set_title(name, loc="left", fontsize=10, fontweight="bold")
        if len(lowest) > 2 and min(lowest) > 0:
            ax.set_xscale("log")
        ax.set_xlabel("latency (ms): admitted solid (p95 dotted), refusals dashed")
        ax.set_ylabel("share of answers ≤ x")
        ax.set_ylim(0, 1.02)
        if ax.lines:
            ax.legend(loc="lower right", fontsize=8)
    return figure


def shifts_figure(comparison: Comparison) -> Figure:
    """Per case, the relative shift of p50, p95 and p99 with its 95 % interval, against the
    p95 threshold: the admitted answers', then (a row of their own) each refusal group's."""
    rows = [
        (case.case if latency.group == "admitted" else f"{case.case} ({latency.group})", p)
        for case in comparison.cases
        for latency in case.latency
        for p in latency.percentiles
    ]
    names = list(dict.fromkeys(name for name, _ in rows))
    figure = Figure(figsize=(WIDTH_IN, 1.2 + 0.55 * max(len(names), 1)), layout="constrained")
    ax = figure.subplots()
    limit = comparison.thresholds.max_p95_increase * 100
    ax.axvline(0, color="#495057", lw=0.8)
    ax.axvline(limit, label=f"p95 threshold ±{limit:g} %", **LIMIT_LINE)
    ax.axvline(-limit, **LIMIT_LINE)
    offsets = {0.5: -0.22, 0.95: 0.0, 0.99: 0.22}
    for q, marker in _QUANTILE_MARKS.items():
        chosen = [(names.index(n), p) for n, p in rows if p.quantile == q]
        if not chosen:
            continue
        y = np.array([i + offsets[q] for i, _ in chosen])
        value = np.array([p.shift.value for _, p in chosen]) * 100
        low = np.array([p.shift.low for _, p in chosen]) * 100
        high = np.array([p.shift.high for _, p in chosen]) * 100
        color = CANDIDATE_COLOR if q == 0.95 else "#868e96"
        ax.errorbar(
            value,
            y,
            xerr=[value - low, high - value],
            fmt=marker,
            capsize=3,
            color=color,
            label=f"p{q * 100:g}",
        )
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("candidate vs base (%), with 95 % bootstrap intervals")
    ax.legend(loc="best", fontsize=8)
    return figure


def capacity_steps_figure(base: CapacityResult, candidate: CapacityResult) -> Figure:
    """Throughput and p95 per step of both searches, capacity starred."""
    figure = Figure(figsize=(WIDTH_IN, 3.6), layout="constrained")
    left, right = figure.subplots(1, 2)
    for result, color, side in (
        (base, BASE_COLOR, "base"),
        (candidate, CANDIDATE_COLOR, "candidate"),
    ):
        offered = [step.offered for step in result.steps]
        left.plot(offered, [s.throughput_rps for s in result.steps], "-o", color=color, label=side)
        right.plot(
            offered,
            [np.nan if s.p95_s is None else s.p95_s * 1e3 for s in result.steps],
            "-o",
            color=color,
            label=side,
        )
        best = next((s for s in result.steps if s.index == result.capacity_step), None)
        if best is not None:
            left.plot([best.offered], [best.throughput_rps], "*", ms=16, color=color)
    right.axhline(base.slo.p95_s * 1e3, label="SLO p95", **LIMIT_LINE)
    left.set_xlabel("users (closed loop)")
    left.set_ylabel("successful answers per second")
    right.set_xlabel("users (closed loop)")
    right.set_ylabel("p95 of successful answers (ms)")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    return figure


_STATE_COLORS = {
    "conformant": CHECK_COLORS[Outcome.PASS],
    "not conformant": CHECK_COLORS[Outcome.FAIL],
    "inconclusive": CHECK_COLORS[Outcome.INCONCLUSIVE],
    "not judged": CHECK_COLORS[Outcome.SKIPPED],
}


def trend_figure(history: History) -> Figure:
    """p95 and p50 per case (with intervals) and capacity across the runs, change points
    marked, and each run's verdict as a coloured strip."""
    by_percentile = {
        name: [m for m in history.metrics if m.percentile == name] for name in ("p95", "p50")
    }
    latency = [(name, metrics) for name, metrics in by_percentile.items() if metrics]
    capacity = [m for m in history.metrics if m.case is None]
    panels = 1 + len(latency) + bool(capacity)
    ratios = [1.0] * (panels - 1) + [0.18]
    figure = Figure(figsize=(WIDTH_IN, 1.0 + 3.2 * (panels - 1) + 0.6), layout="constrained")
    axes = list(figure.subplots(panels, 1, sharex=True, height_ratios=ratios, squeeze=False)[:, 0])
    positions = np.arange(len(history.runs))
    colors = matplotlib.colormaps["tab10"]
    cases = list(dict.fromkeys(m.case for m in history.metrics if m.case is not None))
    for name, metrics in latency:
        ax = axes.pop(0)
        for metric in metrics:
            case = metric.case or ""
            cells = [
                (i, run.latency_s[case][name])
                for i, run in enumerate(history.runs)
                if case in run.latency_s
            ]
            shown = [i for i, _ in cells]
            value, low, high = (np.array([cell[k] for _, cell in cells]) * 1e3 for k in range(3))
            color = colors(cases.index(case) % 10)
            ax.errorbar(
                positions[shown],
                value,
                yerr=[value - low, high - value],
                fmt="-o",
                capsize=3,
                color=color,
                label=case,
            )
            for point in metric.changes:
                ax.axvline(point.index - 0.5, color=color, ls="--", lw=1.2)
        ax.set_ylabel(f"{name} of admitted answers (ms)\nwith 95 % intervals")
        ax.legend(fontsize=8, loc="best")
    if capacity:
        ax = axes.pop(0)
        metric = capacity[0]
        shown = [i for i, v in enumerate(metric.values) if v is not None]
        ax.plot(positions[shown], [metric.values[i] for i in shown], "-o", color=BASE_COLOR)
        for point in metric.changes:
            ax.axvline(point.index - 0.5, color=BASE_COLOR, ls="--", lw=1.2)
        ax.set_ylabel("capacity (req/s)")
    figure.axes[0].set_title(
        "dashed: a change point (the run after it is the first of the new level)",
        loc="left",
        fontsize=9,
    )
    strip = axes.pop(0)
    for position, run in enumerate(history.runs):
        strip.add_patch(Rectangle((position - 0.45, 0), 0.9, 1, color=_STATE_COLORS[run.state]))
    strip.set_ylim(0, 1)
    strip.set_yticks([0.5], ["verdict"])
    strip.set_xticks(positions, [run.name for run in history.runs], rotation=30, ha="right")
    strip.set_xlim(-0.6, len(history.runs) - 0.4)
    return figure
