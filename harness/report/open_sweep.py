"""The capacity section of an open-model sweep: its rate steps charted against the offered rate.

Three panels over the offered arrival rate: what the target completed (throughput, goodput)
beside what was sent and the line where completed equals offered; latency percentiles from the
intended send instant (coordinated omission corrected) beside the p95 from the actual send, with
the SLO; errors and unserved arrivals against the SLO's budget. Repeated rates carry their 95 %
intervals as error bars; generator-bound steps are drawn apart (crosses) and never starred.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from harness.capacity.result import CapacityResult, StepResult
from harness.report.charts import (
    LEGEND_BESIDE,
    LIMIT_COLOR,
    LIMIT_LINE,
    OUTCOME_COLORS,
    PERCENTILE_STYLES,
    new_figure,
    slo_line,
)

__all__ = ["OPEN_STEP_COLUMNS", "models_figure", "open_steps_frame", "open_sweep_figure"]

OPEN_STEP_COLUMNS = (
    "index",
    "label",
    "offered",
    "sent_rps",
    "throughput_rps",
    "goodput_rps",
    "error_rate",
    "unserved",
    "late",
    "p50_s",
    "p95_s",
    "p99_s",
    "p95_sent_s",
    "in_flight",
    "littles_in_flight",
    "steady",
    "generator_cpu_percent",
    "generator_bound",
    "repeats",
    "within_slo",
)
_BLUE, _GREEN, _GREY = "#1864ab", "#2b8a3e", "#868e96"


def _rates(result: CapacityResult) -> list[StepResult]:
    return sorted((s for s in result.steps if s.offered_unit == "req/s"), key=lambda s: s.offered)


def open_steps_frame(result: CapacityResult) -> pd.DataFrame:
    """One row per rate step, in rate order (``OPEN_STEP_COLUMNS``)."""
    return pd.DataFrame(
        [step.model_dump(include=set(OPEN_STEP_COLUMNS)) for step in _rates(result)],
        columns=list(OPEN_STEP_COLUMNS),
    )


def _error_bars(steps: list[StepResult], figure: str) -> list[list[float]] | None:
    """Matplotlib's yerr (distance below, above) from each step's interval, if any has one."""
    if not any(step.intervals and figure in step.intervals for step in steps):
        return None
    below, above = [], []
    for step in steps:
        value = getattr(step, figure) or 0.0
        low, high = (step.intervals or {}).get(figure, [value, value])
        below.append(max(value - low, 0.0))
        above.append(max(high - value, 0.0))
    return [below, above]


def open_sweep_figure(result: CapacityResult) -> Figure:
    figure = new_figure(7.2, 3, 1, sharex=True)
    completed, latency, errors = figure.axes
    steps = _rates(result)
    _completed_panel(completed, steps, result)
    _latency_panel(latency, steps, result)
    _errors_panel(errors, steps, result)
    for ax in figure.axes:
        if result.capacity_rps is not None:
            ax.axvline(
                result.capacity_rps,
                color="#f08c00",
                lw=1.0,
                ls="-.",
                label="capacity" if ax is errors else None,
            )
        if result.knee_rps is not None:
            ax.axvline(
                result.knee_rps,
                color="#495057",
                lw=1.0,
                ls=":",
                label="knee: latency turns up" if ax is latency else None,
            )
        ax.grid(color="#dee2e6", lw=0.6)
        ax.legend(**LEGEND_BESIDE)
    return figure


def _completed_panel(ax: Axes, steps: list[StepResult], result: CapacityResult) -> None:
    offered = [step.offered for step in steps]
    ax.plot(offered, offered, color=_GREY, lw=0.8, ls=":", label="completed = offered")
    for figure, color, name in (
        ("throughput_rps", _BLUE, "throughput (admitted)"),
        ("goodput_rps", _GREEN, "goodput (within the SLO)"),
    ):
        values = [getattr(step, figure) or 0.0 for step in steps]
        ax.errorbar(
            offered,
            values,
            yerr=_error_bars(steps, figure),
            color=color,
            marker="o",
            ms=3,
            lw=1.4,
            capsize=3,
            label=name,
        )
    bound = [step for step in steps if step.generator_bound]
    if bound:
        ax.scatter(
            [s.offered for s in bound],
            [s.throughput_rps for s in bound],
            marker="x",
            s=80,
            color=LIMIT_COLOR,
            zorder=4,
            label="generator-bound (not counted)",
        )
    best = next((s for s in steps if s.index == result.capacity_step), None)
    if best is not None:
        ax.scatter(
            [best.offered],
            [best.goodput_rps or best.throughput_rps],
            marker="*",
            s=260,
            color="#f08c00",
            zorder=5,
            label=f"capacity: {best.offered:.4g} req/s",
        )
    ax.set_ylabel("completed (req/s)")
    ax.set_title(
        "Open-model sweep: completed against offered rate",
        loc="left",
        fontsize=11,
        fontweight="bold",
    )


def _latency_panel(ax: Axes, steps: list[StepResult], result: CapacityResult) -> None:
    offered = [step.offered for step in steps]
    for name, style in PERCENTILE_STYLES.items():
        values = [getattr(step, f"{name}_s") for step in steps]
        ax.errorbar(
            offered,
            values,
            yerr=_error_bars(steps, f"{name}_s"),
            marker="o",
            ms=3,
            lw=1.5,
            capsize=3,
            label=f"{name} from the intended send",
            **style,
        )
    sent = [step.p95_sent_s if step.p95_sent_s is not None else float("nan") for step in steps]
    ax.plot(
        offered,
        sent,
        ls="--",
        marker=".",
        lw=1.0,
        color=_GREY,
        label="p95 from the actual send (uncorrected)",
    )
    shown = [getattr(step, f"{name}_s") for step in steps for name in PERCENTILE_STYLES]
    slo_line(ax, result.slo.p95_s, [v for v in shown + sent if v is not None])
    ax.set_ylabel("latency (s)")


def _errors_panel(ax: Axes, steps: list[StepResult], result: CapacityResult) -> None:
    ax.plot(
        [step.offered for step in steps],
        [step.error_rate * 100 for step in steps],
        marker="o",
        ms=3,
        color=OUTCOME_COLORS["client_error"],
        label="errors and unserved arrivals",
    )
    budget = result.slo.max_error_rate * 100
    ax.axhline(budget, label=f"max error rate = {budget:g} %", **LIMIT_LINE)
    ax.set_ylabel("errors (%)")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("offered arrival rate (req/s; open model)")


def models_figure(closed: CapacityResult, open_model: CapacityResult) -> Figure:
    """Both models of one target in one chart: p95 latency against the throughput each step
    reached (closed: users; open: arrival rates, from the intended and from the actual send),
    the SLO, and each model's capacity. Near saturation the closed loop's latency understates
    what arriving clients see; the open sweep's corrected latency shows it."""
    figure = new_figure(3.6)
    (ax,) = figure.axes
    users = sorted(closed.steps, key=lambda s: s.offered)  # in load order: up to saturation
    ax.plot(
        [s.throughput_rps for s in users],
        [_value(s.p95_s) for s in users],
        color="#862e9c",
        marker="s",
        ms=4,
        lw=1.4,
        label="closed loop (users), p95",
    )
    rates = _rates(open_model)
    ax.plot(
        [s.throughput_rps for s in rates],
        [_value(s.p95_s) for s in rates],
        color=_BLUE,
        marker="o",
        ms=4,
        lw=1.4,
        label="open model, p95 from the intended send",
    )
    sent = [_value(s.p95_sent_s) for s in rates]
    ax.plot(
        [s.throughput_rps for s in rates],
        sent,
        color=_GREY,
        ls="--",
        marker=".",
        lw=1.0,
        label="open model, p95 from the actual send",
    )
    ax.axhline(closed.slo.p95_s, label=f"SLO p95 = {closed.slo.p95_s:g} s", **LIMIT_LINE)
    for result, color, name in ((closed, "#862e9c", "closed"), (open_model, "#f08c00", "open")):
        if result.capacity_rps is not None:
            ax.axvline(
                result.capacity_rps,
                color=color,
                ls="-.",
                lw=1.0,
                label=f"{name} capacity: {result.capacity_rps:.4g} req/s",
            )
    ax.set_xlabel("throughput reached (admitted answers/s)")
    ax.set_ylabel("p95 latency (s)")
    ax.set_yscale("log")
    ax.set_title(
        "Both models: latency against throughput", loc="left", fontsize=11, fontweight="bold"
    )
    ax.grid(color="#dee2e6", lw=0.6)
    ax.legend(**LEGEND_BESIDE)
    return figure


def _value(figure: float | None) -> float:
    """A figure to draw; a missing one is a gap."""
    return float("nan") if figure is None else figure
