"""The charts of the limits: one key's admissions against its rate limit, reported waits against
the time they promised, and each quota case's consumption against its quota.

Pure functions from the tables of ``frames`` to matplotlib figures, in the report's look
(``charts``); every configured bound in ``LIMIT_COLOR``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from harness.report.charts import (
    LEGEND_BESIDE,
    LIMIT_COLOR,
    LIMIT_LINE,
    OUTCOME_COLORS,
    OUTCOME_LABELS,
    grid,
    new_figure,
)
from harness.report.frames import RateLimit

__all__ = [
    "MAX_POINTS",
    "key_timeline_figure",
    "promise_figure",
    "quota_figure",
    "wait_figure",
]

MAX_POINTS = 3000  # per panel of a scatter; more only hides the picture and slows the report
# Families that may admit up to twice the limit across a window boundary.
BOUNDARY_FAMILIES = frozenset(
    {
        "fixed-window",
        "anchored-window",
        "token-bucket",
        "token-bucket-whole-seconds",
        "sliding-window-counter",
        "undetermined",
    }
)


def _counted(
    ax: Axes, frame: pd.DataFrame, column: str, label: str, color: str, lw: float, zorder: float = 2
) -> None:
    """``frame[column]``, a count that changes at each instant ``t_s``: flat until the next one."""
    ax.step(
        frame["t_s"], frame[column], where="post", label=label, color=color, lw=lw, zorder=zorder
    )


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
    figure = new_figure(4.4, 2, 1, sharex=True, height_ratios=[1, 1.6])
    top, bottom = figure.axes
    end = float(max(requests["recv_t_s"].max(), rate.duration_s)) if len(requests) else 1.0
    _outcome_lanes(top, requests, title)
    _window_admissions(bottom, windows, rate, family)
    for ax in (top, bottom):
        _shade_durations(ax, rate.duration_s, end)
        ax.set_xlim(0, end * 1.01)
        ax.grid(axis="x", color="#dee2e6", lw=0.6)
    return figure


def _outcome_lanes(ax: Axes, requests: pd.DataFrame, title: str) -> None:
    """One lane per outcome the key met, a tick at each request's send instant."""
    lanes = [o for o in OUTCOME_COLORS if (requests["outcome"] == o).any()]
    for lane, outcome in enumerate(reversed(lanes)):
        times = requests.loc[requests["outcome"] == outcome, "t_s"]
        ax.scatter(
            times,
            np.full(len(times), lane),
            marker="|",
            s=120,
            lw=1,
            color=OUTCOME_COLORS[outcome],
            label=f"{OUTCOME_LABELS[outcome]} ({len(times)})",
        )
    ax.set_yticks(range(len(lanes)), [OUTCOME_LABELS[o] for o in reversed(lanes)])
    ax.set_ylim(-0.7, len(lanes) - 0.3)
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    ax.set_ylabel("request sent")


def _window_admissions(ax: Axes, windows: pd.DataFrame, rate: RateLimit, family: str) -> None:
    """Admissions surely within one duration against the limit (and twice it, where the family
    may admit that across a window boundary)."""
    label = "admissions surely within one duration"
    # zorder 3: above the limit line it touches
    _counted(ax, windows, "surely_within", label, OUTCOME_COLORS["ok"], 1.6, zorder=3)
    ax.axhline(rate.limit, label=f"limit = {rate.limit}", **LIMIT_LINE)
    if family in BOUNDARY_FAMILIES:
        ax.axhline(
            2 * rate.limit,
            color=LIMIT_COLOR,
            ls=":",
            lw=1.2,
            label=f"2 × limit (a window boundary inside; {family})",
        )
    peak = int(windows["surely_within"].max()) if len(windows) else 0
    ceiling = 2 * rate.limit if family in BOUNDARY_FAMILIES else rate.limit
    ax.set_ylim(0, max(ceiling, peak) * 1.25 + 1)
    ax.set_ylabel("admissions\nin one duration")
    ax.set_xlabel(
        f"time since the key's first request (s); shaded bands: one duration "
        f"({rate.duration_s:g} s)"
    )
    ax.legend(**LEGEND_BESIDE)


def _sample(frame: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    """At most ``MAX_POINTS`` rows, always with every row ``keep`` marks (the evidence)."""
    if len(frame) <= MAX_POINTS:
        return frame
    rest = frame[~keep]
    rest = rest.sample(n=max(MAX_POINTS - int(keep.sum()), 0), random_state=0)
    return pd.concat([frame[keep], rest])


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


# A promise surely late (the wait too long), surely early (too short), or within the bounds.
PROMISE_COLORS = {"kept": "#1971c2", "late": "#f08c00", "early": LIMIT_COLOR}


def promise_figure(promises: pd.DataFrame, durations_s: Mapping[str, float]) -> Figure:
    """Per case: each throttle's promised wait (x) against the bounds of the true one (a bar
    from the least to the most it can have been; open-ended, drawn to the panel's top, when no
    admission came after). ``promises`` as ``promises.promised_vs_true`` returns. Honest waits
    put every bar across the diagonal; a bar wholly above it is a promise surely early, wholly
    below one surely late."""
    cases = [case for case in durations_s if (promises["case"] == case).any()]
    figure, axes = grid(len(cases))
    for ax, case in zip(axes, cases, strict=True):
        mine = promises[promises["case"] == case]
        duration = durations_s[case]
        top = duration * 1.5
        ax.plot(
            [0, duration], [0, duration], color="#495057", lw=1, ls="--", label="true = promised"
        )
        for off, color in PROMISE_COLORS.items():
            chosen = mine[mine["off"] == off]
            count = len(chosen)
            chosen = _sample(chosen, chosen["off"] != "kept")
            if chosen.empty:
                continue
            high = chosen["true_hi_s"].fillna(top).clip(upper=top)
            ax.vlines(chosen["promised_s"], chosen["true_lo_s"], high, color=color, lw=1, alpha=0.5)
            ax.scatter(
                chosen["promised_s"],
                chosen["true_lo_s"],
                s=6,
                color=color,
                label=f"{off} ({count})",
            )
        ax.set_xlim(0, duration * 1.05)
        ax.set_ylim(0, top)
        ax.set_title(f"{case} (duration {duration:g} s)", fontsize=10, loc="left")
        ax.set_xlabel("promised wait (s)")
        ax.set_ylabel("true wait, its bounds (s)")
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(color="#dee2e6", lw=0.6)
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
        _counted(ax, mine, "consumed", "admitted (consumed)", OUTCOME_COLORS["ok"], 2)
        ax.axhline(limit, label=f"quota = {limit} per day", **LIMIT_LINE)
        peak = int(mine["consumed"].max()) if len(mine) else 0
        ax.set_ylim(0, max(limit, peak) * 1.3)
        ax.set_ylabel("messages admitted")
        refused = ax.twinx()
        quota_color = OUTCOME_COLORS["out_of_quota"]
        _counted(refused, mine, "refused", "refused: out of quota", quota_color, 1.4)
        refused.set_ylim(bottom=0)
        refused.set_ylabel("refusals so far", color=quota_color)
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
