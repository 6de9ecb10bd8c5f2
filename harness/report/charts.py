"""The report's charts: pure functions from the tables of ``frames`` to matplotlib figures.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state, no GUI backend), sized for
a laptop screen, every axis labelled with its unit, one colour per outcome across all charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from harness.report.frames import RateLimit

__all__ = [
    "CHECK_COLORS",
    "LIMIT_COLOR",
    "LIMIT_LINE",
    "OUTCOME_COLORS",
    "checks_figure",
    "grid",
    "key_timeline_figure",
    "outcomes_by_case_figure",
    "over_time_figure",
    "quota_figure",
    "wait_figure",
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
    "pass": "#2b8a3e",
    "fail": "#c92a2a",
    "inconclusive": "#f08c00",
    "skipped": "#868e96",
}
LIMIT_COLOR = "#c92a2a"  # every configured bound (limit, quota, SLO) is drawn in this red
LIMIT_LINE: dict[str, Any] = {"color": LIMIT_COLOR, "ls": "--", "lw": 1.4}
WIDTH_IN = 11.0
MAX_POINTS = 3000  # per panel of a scatter; more only hides the picture and slows the report
# Families that may admit up to twice the limit across a window boundary.
BOUNDARY_FAMILIES = frozenset({"fixed-window", "anchored-window", "token-bucket", "undetermined"})


def _figure(
    height_in: float,
    rows: int = 1,
    cols: int = 1,
    sharex: bool = False,
    height_ratios: list[float] | None = None,
) -> Figure:
    figure = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    figure.subplots(rows, cols, squeeze=False, sharex=sharex, height_ratios=height_ratios)
    return figure


def _shade_durations(ax: Axes, duration_s: float, end_s: float) -> None:
    """Alternate bands one duration wide: the limit's time scale, readable without a ruler."""
    if duration_s <= 0 or end_s / duration_s > 200:
        return
    for index, start in enumerate(np.arange(0.0, end_s + duration_s, duration_s)):
        if index % 2 == 0:
            ax.axvspan(start, start + duration_s, color="#f1f3f5", zorder=0, lw=0)


def key_timeline_figure(
    requests: pd.DataFrame,
    windows: pd.DataFrame,
    rate: RateLimit,
    title: str,
    family: str = "sliding-log",
) -> Figure:
    """One key: its requests by outcome over time, and admissions per window against ``limit``.

    ``requests`` as ``frames.key_requests`` returns, ``windows`` as ``frames.window_admissions``.
    """
    figure = _figure(4.4, 2, 1, sharex=True, height_ratios=[1, 1.6])
    top, bottom = figure.axes
    end = float(max(requests["recv_t_s"].max(), rate.duration_s)) if len(requests) else 1.0
    lanes = [o for o in OUTCOME_COLORS if (requests["outcome"] == o).any()]
    for lane, outcome in enumerate(reversed(lanes)):
        times = requests.loc[requests["outcome"] == outcome, "t_s"]
        top.scatter(
            times,
            np.full(len(times), lane),
            marker="|",
            s=120,
            lw=1,
            color=OUTCOME_COLORS[outcome],
            label=f"{OUTCOME_LABELS[outcome]} ({len(times)})",
        )
    top.set_yticks(range(len(lanes)), [OUTCOME_LABELS[o] for o in reversed(lanes)])
    top.set_ylim(-0.7, len(lanes) - 0.3)
    top.set_title(title, loc="left", fontsize=11, fontweight="bold")
    top.set_ylabel("request sent")
    bottom.step(
        windows["t_s"],
        windows["surely_within"],
        where="post",
        color=OUTCOME_COLORS["ok"],
        lw=1.6,
        label="admissions surely within one duration",
        zorder=3,  # above the limit line it touches
    )
    bottom.axhline(rate.limit, label=f"limit = {rate.limit}", **LIMIT_LINE)
    if family in BOUNDARY_FAMILIES:
        bottom.axhline(
            2 * rate.limit,
            color=LIMIT_COLOR,
            ls=":",
            lw=1.2,
            label=f"2 × limit (a window boundary inside; {family})",
        )
    peak = int(windows["surely_within"].max()) if len(windows) else 0
    ceiling = 2 * rate.limit if family in BOUNDARY_FAMILIES else rate.limit
    bottom.set_ylim(0, max(ceiling, peak) * 1.25 + 1)
    bottom.set_ylabel("admissions\nin one duration")
    bottom.set_xlabel(
        f"time since the key's first request (s); shaded bands: one duration "
        f"({rate.duration_s:g} s)"
    )
    bottom.legend(loc="upper right", fontsize=8, framealpha=0.9)
    for ax in (top, bottom):
        _shade_durations(ax, rate.duration_s, end)
        ax.set_xlim(0, end * 1.01)
        ax.grid(axis="x", color="#dee2e6", lw=0.6)
    return figure


def _sample(frame: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    """At most ``MAX_POINTS`` rows, always with every row ``keep`` marks (the evidence)."""
    if len(frame) <= MAX_POINTS:
        return frame
    rest = frame[~keep]
    rest = rest.sample(n=max(MAX_POINTS - int(keep.sum()), 0), random_state=0)
    return pd.concat([frame[keep], rest])


def grid(count: int, row_in: float = 3.0) -> tuple[Figure, list[Axes]]:
    """A figure of ``count`` panels, three to a row, each ``row_in`` inches high."""
    cols = min(count, 3)
    rows = -(-count // cols)
    figure = _figure(row_in * rows + 0.4, rows, cols)
    axes = list(figure.axes)
    for ax in axes[count:]:
        ax.set_visible(False)
    return figure, axes[:count]


def wait_figure(waits: pd.DataFrame, durations_s: Mapping[str, float]) -> Figure:
    """Per case: reported ``wait`` against the time until the key's next admission.

    ``waits`` as ``frames.wait_vs_remaining`` returns. The diagonal is an honest wait; points
    below it (red) are admissions surely earlier than promised.
    """
    cases = [case for case in durations_s if (waits["case"] == case).any()]
    figure, axes = grid(len(cases))
    for ax, case in zip(axes, cases, strict=True):
        mine = waits[waits["case"] == case]
        early_count = int(mine["early"].astype(bool).sum())
        kept_count = len(mine) - early_count
        mine = _sample(mine, mine["early"].astype(bool))
        duration = durations_s[case]
        middle = (mine["remaining_lo_s"] + mine["remaining_hi_s"]) / 2
        early = mine["early"].astype(bool)
        ax.plot([0, duration], [0, duration], color="#495057", lw=1, ls="--", label="honest")
        ax.scatter(
            mine.loc[~early, "wait_s"],
            middle[~early],
            s=9,
            alpha=0.5,
            color=OUTCOME_COLORS["throttled"],
            label=f"kept ({kept_count})",
        )
        if early.any():
            ax.scatter(
                mine.loc[early, "wait_s"],
                middle[early],
                s=16,
                color=LIMIT_COLOR,
                label=f"admitted earlier ({early_count})",
            )
        ax.set_xlim(0, duration * 1.05)
        ax.set_ylim(0, duration * 1.5)
        ax.set_title(f"{case} (duration {duration:g} s)", fontsize=10, loc="left")
        ax.set_xlabel("reported wait (s)")
        ax.set_ylabel("until next admission (s)")
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(color="#dee2e6", lw=0.6)
    return figure


def over_time_figure(frame: pd.DataFrame, bin_s: float) -> Figure:
    """Latency percentiles and answers per second by outcome, per time bin of the run.

    ``frame`` as ``frames.over_time`` returns (``t_s``: each bin's start), ``bin_s`` its width.
    """
    figure = _figure(5.0, 2, 1, sharex=True)
    top, bottom = figure.axes
    middle = frame["t_s"] + bin_s / 2
    for column, style in (("p50_ms", "-"), ("p95_ms", "--"), ("p99_ms", ":")):
        top.plot(
            middle,
            frame[column],
            ls=style,
            lw=1.8,
            marker="o",
            ms=2.5,
            color="#1864ab",
            label=column.removesuffix("_ms"),
        )
    top.set_ylabel("latency (ms)")
    top.set_ylim(bottom=0)
    top.set_title(
        f"Latency and throughput, {bin_s:g}-second bins",
        loc="left",
        fontsize=11,
        fontweight="bold",
    )
    top.legend(loc="upper right", fontsize=8)
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
    bottom.legend(loc="upper right", fontsize=8, ncols=3)
    bottom.set_ylabel("answers per second")
    bottom.set_xlabel("time since the first request (s), by send instant")
    for ax in (top, bottom):
        ax.grid(color="#dee2e6", lw=0.6)
    return figure


def outcomes_by_case_figure(summary: pd.DataFrame) -> Figure:
    """Per case, the share of each outcome, with the request count: what each case met."""
    cases = list(summary["case"])
    figure = _figure(0.36 * len(cases) + 1.1)
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


def quota_figure(consumption: pd.DataFrame, resets: pd.DataFrame) -> Figure:
    """Per quota case: messages admitted against the quota (left axis), refusals (right axis).

    The title carries the ``reset_at`` the refusals announced: the next local midnight, hours
    away, never on a run's time axis.
    """
    cases = list(resets["case"])
    figure, axes = grid(len(cases), row_in=3.4)
    for ax, case in zip(axes, cases, strict=True):
        mine = consumption[consumption["case"] == case]
        reset = resets[resets["case"] == case].iloc[0]
        limit = int(reset["limit"])
        ax.step(
            mine["t_s"],
            mine["consumed"],
            where="post",
            color=OUTCOME_COLORS["ok"],
            lw=2,
            label="admitted (consumed)",
        )
        ax.axhline(limit, label=f"quota = {limit} per day", **LIMIT_LINE)
        peak = int(mine["consumed"].max()) if len(mine) else 0
        ax.set_ylim(0, max(limit, peak) * 1.3)
        ax.set_ylabel("messages admitted")
        refused = ax.twinx()
        refused.step(
            mine["t_s"],
            mine["refused"],
            where="post",
            color=OUTCOME_COLORS["out_of_quota"],
            lw=1.4,
            label="refused: out of quota",
        )
        refused.set_ylim(bottom=0)
        refused.set_ylabel("refusals so far", color=OUTCOME_COLORS["out_of_quota"])
        if pd.notna(reset["first_refusal_t_s"]):
            ax.axvline(
                reset["first_refusal_t_s"], color="#495057", ls=":", lw=1, label="first refusal"
            )
        handles = ax.get_legend_handles_labels()
        extra = refused.get_legend_handles_labels()
        ax.legend(handles[0] + extra[0], handles[1] + extra[1], loc="upper left", fontsize=8)
        ax.set_title(f"{case}: {_reset_text(reset)}", fontsize=10, loc="left")
        ax.set_xlabel("time since the first request (s), by answer")
        ax.grid(color="#dee2e6", lw=0.6)
    return figure


def _reset_text(reset: pd.Series) -> str:
    if not isinstance(reset["reset_at"], str):
        return "no refusal, so no reset_at announced"
    hours = reset["reset_in_h"]
    distance = f" (in {hours:.1f} h)" if pd.notna(hours) else ""
    several = f"; {reset['resets']} distinct values" if reset["resets"] > 1 else ""
    return f"resets at {reset['reset_at']}{distance}{several}"


def checks_figure(checks: pd.DataFrame, columns: int = 4) -> Figure:
    """One tile per check, coloured by outcome: the verdict at a glance."""
    count = max(len(checks), 1)
    rows = -(-count // columns)
    figure = _figure(0.5 * rows + 0.5)
    ax = figure.axes[0]
    for index, check in enumerate(checks.itertuples()):
        row, col = divmod(index, columns)
        color = CHECK_COLORS.get(str(check.outcome), "#868e96")
        ax.add_patch(Rectangle((col + 0.02, row + 0.08), 0.96, 0.84, color=color))
        ax.text(
            col + 0.06,
            row + 0.5,
            f"{check.id}: {check.outcome}",
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
