"""The report's look, and its charts of the whole run (outcomes, latency and throughput, checks).

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state, no GUI backend), sized for
a laptop screen, every axis labelled with its unit, one colour per outcome across all charts: the
colours, sizes and panels here are what ``limit_charts``, ``capacity`` and ``harness.compare``
draw with too. Each chart is a pure function from a table of ``frames`` to a figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from harness.conformance.findings import Outcome

__all__ = [
    "CHECK_COLORS",
    "LEGEND_BESIDE",
    "LIMIT_COLOR",
    "LIMIT_LINE",
    "OUTCOME_COLORS",
    "OUTCOME_LABELS",
    "PERCENTILE_STYLES",
    "WIDTH_IN",
    "checks_figure",
    "grid",
    "new_figure",
    "outcomes_by_case_figure",
    "over_time_figure",
    "slo_line",
]

OUTCOME_COLORS = {
    "ok": "#2b8a3e",
    "throttled": "#f08c00",
    "out_of_quota": "#7048e8",
    "client_error": "#c92a2a",
    "server_error": "#a61e4d",
    "transport_error": "#495057",
}
OUTCOME_LABELS = {
    "ok": "admitted",
    "throttled": "throttled",
    "out_of_quota": "out of quota",
    "client_error": "client error",
    "server_error": "server error",
    "transport_error": "no answer",
}
CHECK_COLORS = {
    Outcome.PASS: "#2b8a3e",
    Outcome.FAIL: "#c92a2a",
    Outcome.INCONCLUSIVE: "#f08c00",
    Outcome.SKIPPED: "#868e96",
}
LIMIT_COLOR = "#c92a2a"  # every configured bound (limit, quota, SLO) is drawn in this red
LIMIT_LINE: dict[str, Any] = {"color": LIMIT_COLOR, "ls": "--", "lw": 1.4}
WIDTH_IN = 11.0
# p50, p95 and p99 told apart by colour as well as by dash: a reader who cannot tell the colours
# apart, or a grey print, still has the other.
PERCENTILE_STYLES: dict[str, dict[str, Any]] = {
    "p50": {"ls": "-", "color": "#1864ab"},
    "p95": {"ls": "--", "color": "#e8590c"},
    "p99": {"ls": ":", "color": "#5f3dc4"},
}
# A legend beside its panel, never over the data it explains (constrained layout makes room).
LEGEND_BESIDE: dict[str, Any] = {
    "loc": "upper left",
    "bbox_to_anchor": (1.01, 1.0),
    "borderaxespad": 0.0,
    "fontsize": 8,
}


def new_figure(
    height_in: float,
    rows: int = 1,
    cols: int = 1,
    sharex: bool = False,
    height_ratios: list[float] | None = None,
) -> Figure:
    """A figure of the report's width with ``rows`` x ``cols`` panels (``figure.axes``)."""
    figure = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    figure.subplots(rows, cols, squeeze=False, sharex=sharex, height_ratios=height_ratios)
    return figure


def slo_line(ax: Axes, slo_s: float, latencies_s: Any) -> None:
    """The SLO's p95 as a line on a latency panel whose scale is the latencies': a 2 s SLO over
    answers of 40-90 ms would flatten them (and the knee marked on them) to the axis. An SLO far
    above them stays in the legend, which says so."""
    values = np.asarray(latencies_s, dtype=float)
    values = values[np.isfinite(values)]
    top = 1.25 * float(values.max()) if values.size and values.max() > 0 else 1.1 * slo_s
    label = f"SLO p95 = {slo_s:g} s"
    if slo_s <= 2 * top:
        top = max(top, 1.1 * slo_s)
    else:
        label += " (above the axis, scaled to the latencies)"
    ax.axhline(slo_s, label=label, **LIMIT_LINE)
    ax.set_ylim(0, top)


def grid(count: int, row_in: float = 3.0) -> tuple[Figure, list[Axes]]:
    """A figure of ``count`` panels, three to a row, each ``row_in`` inches high."""
    cols = min(count, 3)
    rows = -(-count // cols)
    figure = new_figure(row_in * rows + 0.4, rows, cols)
    axes = list(figure.axes)
    for ax in axes[count:]:
        ax.set_visible(False)
    return figure, axes[:count]


def over_time_figure(frame: pd.DataFrame, bin_s: float) -> Figure:
    """Latency percentiles and answers per second by outcome, per time bin of the run.

    ``frame`` as ``frames.over_time`` returns (``t_s``: each bin's start), ``bin_s`` its width.
    """
    figure = new_figure(5.0, 2, 1, sharex=True)
    top, bottom = figure.axes
    middle = frame["t_s"] + bin_s / 2
    for name, style in PERCENTILE_STYLES.items():
        top.plot(middle, frame[f"{name}_ms"], lw=1.8, marker="o", ms=2.5, label=name, **style)
    top.set_ylabel("latency (ms)")
    top.set_ylim(bottom=0)
    top.set_title(
        f"Latency and throughput, {bin_s:g}-second bins",
        loc="left",
        fontsize=11,
        fontweight="bold",
    )
    top.legend(**LEGEND_BESIDE)
    base = np.zeros(len(frame))
    for outcome, color in OUTCOME_COLORS.items():
        column = f"{outcome}_per_s"
        if column not in frame.columns:
            continue
        bottom.bar(
            frame["t_s"],
            frame[column],
            width=bin_s,
            align="edge",
            bottom=base,
            color=color,
            label=OUTCOME_LABELS[outcome],
            linewidth=0,
        )
        base += frame[column].to_numpy(dtype=float)
    bottom.legend(**LEGEND_BESIDE)
    bottom.set_ylabel("answers per second")
    bottom.set_xlabel("time since the first request (s), by send instant")
    for ax in (top, bottom):
        ax.grid(color="#dee2e6", lw=0.6)
    return figure


def outcomes_by_case_figure(summary: pd.DataFrame) -> Figure:
    """Per case, the share of each outcome, with the request count: what each case met."""
    cases = list(summary["case"])
    figure = new_figure(0.36 * len(cases) + 1.1)
    ax = figure.axes[0]
    left = np.zeros(len(cases))
    total = summary["requests"].to_numpy(dtype=float)
    for outcome, color in OUTCOME_COLORS.items():
        if outcome not in summary.columns or not summary[outcome].any():
            continue
        share = np.divide(summary[outcome].to_numpy(dtype=float), np.maximum(total, 1)) * 100
        ax.barh(cases, share, left=left, color=color, label=OUTCOME_LABELS[outcome], height=0.7)
        left += share
    for index, count in enumerate(total):
        ax.text(101, index, f"{int(count)} req", va="center", fontsize=8)
    ax.set_xlim(0, 112)
    ax.invert_yaxis()
    ax.set_xlabel("share of the case's chat requests (%)")
    ax.set_title("Outcomes per case", loc="left", fontsize=11, fontweight="bold")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=6, fontsize=8, frameon=False)
    return figure


def checks_figure(checks: pd.DataFrame, columns: int = 4) -> Figure:
    """One tile per check, coloured by outcome: the verdict at a glance."""
    count = max(len(checks), 1)
    rows = -(-count // columns)
    figure = new_figure(0.5 * rows + 0.5)
    ax = figure.axes[0]
    for index, check in enumerate(checks.itertuples()):
        row, col = divmod(index, columns)
        outcome = str(check.outcome)
        color = CHECK_COLORS[Outcome(outcome) if outcome in set(Outcome) else Outcome.SKIPPED]
        ax.add_patch(Rectangle((col + 0.02, row + 0.08), 0.96, 0.84, color=color))
        # A failure explained by another is drawn as such: one bug, not several.
        explained_by = str(getattr(check, "explained_by", "") or "")
        place = f" (by {explained_by})" if explained_by else ""
        ax.text(
            col + 0.06,
            row + 0.5,
            f"{check.id}: {check.outcome}{place}",
            va="center",
            color="white",
            fontweight="bold",
            fontsize=9.5,
        )
    ax.set_xlim(0, columns)
    ax.set_ylim(rows, 0)
    ax.set_axis_off()
    counts = checks["outcome"].value_counts()
    ax.set_title(
        "Checks: " + ", ".join(f"{counts[o]} {o}" for o in CHECK_COLORS if o in counts),
        loc="left",
        fontsize=11,
        fontweight="bold",
    )
    return figure
