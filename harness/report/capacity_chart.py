"""The capacity chart, one for both load models: what the target completed, its latency and its
errors, each against the load offered per step.

A closed search offers users and an open sweep offers arrival rates; the panels are the same:
- completed: throughput per step (and goodput, for an open sweep), each step marked within or
  outside the SLO, the capacity starred, repeated rates with their 95 % intervals as error bars,
  generator-bound steps crossed and never starred; an open sweep also draws completed = offered;
- latency: p50, p95 and p99 told apart by colour and by dash (an open sweep's from the intended
  send instant, its p95 from the actual send beside them), scaled to the latencies: an SLO far
  above them would flatten 40 ms answers to a line, so it is then named instead of drawn;
- errors: the error rate (with an open sweep's unserved arrivals) against the SLO's budget.
The knee, where errors begin (closed) and the capacity (open) are vertical lines on every panel.
Legends stand beside the panels, never over the data.
"""

from __future__ import annotations

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

__all__ = ["capacity_figure", "chart_steps", "offered_at"]

_BLUE, _GREEN, _GREY, _ORANGE = "#1864ab", "#2b8a3e", "#868e96", "#f08c00"


def chart_steps(result: CapacityResult) -> list[StepResult]:
    """The steps a chart draws: a closed search's in load order; an open sweep's rate steps in
    rate order (its closed baselines are told in words beside the chart)."""
    if result.model == "open":
        rates = (step for step in result.steps if step.offered_unit == "req/s")
        return sorted(rates, key=lambda step: step.offered)
    return list(result.steps)


def capacity_figure(result: CapacityResult) -> Figure:
    figure = new_figure(7.2, 3, 1, sharex=True)
    completed, latency, errors = figure.axes
    steps = chart_steps(result)
    _completed_panel(completed, steps, result)
    _latency_panel(latency, steps, result)
    _errors_panel(errors, steps, result)
    _mark_lines(figure.axes, result)
    for ax in figure.axes:
        ax.grid(color="#dee2e6", lw=0.6)
        ax.legend(**LEGEND_BESIDE)
    return figure


def offered_at(result: CapacityResult, step: int | None) -> float | None:
    """The offered load of step ``step`` (None when the search found no such step)."""
    match = [s.offered for s in result.steps if step is not None and s.index == step]
    return match[0] if match else None


def _mark_lines(axes: list[Axes], result: CapacityResult) -> None:
    _, latency, errors = axes
    open_model = result.model == "open"
    knee_at = result.knee_rps if open_model else offered_at(result, result.knee_step)
    errors_at = None if open_model else offered_at(result, result.errors_begin_step)
    capacity_at = result.capacity_rps if open_model else None
    for ax in axes:
        if knee_at is not None:
            label = "knee: latency turns up" if ax is latency else None
            ax.axvline(knee_at, color="#495057", ls="-.", lw=1.2, label=label)
        if errors_at is not None:
            label = "errors begin" if ax is errors else None
            ax.axvline(errors_at, color=LIMIT_COLOR, ls=":", lw=1.2, label=label)
        if capacity_at is not None:
            label = "capacity" if ax is errors else None
            ax.axvline(capacity_at, color=_ORANGE, lw=1.0, ls="-.", label=label)


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


def _completed_panel(ax: Axes, steps: list[StepResult], result: CapacityResult) -> None:
    offered = [step.offered for step in steps]
    series = [("throughput_rps", _BLUE, "throughput (admitted)")]
    if result.model == "open":
        ax.plot(offered, offered, color=_GREY, lw=0.8, ls=":", label="completed = offered")
        series.append(("goodput_rps", _GREEN, "goodput (within the SLO)"))
    for figure, color, name in series:
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
    outside = [step for step in steps if not step.within_slo and not step.generator_bound]
    if outside:
        ax.scatter(
            [step.offered for step in outside],
            [step.throughput_rps for step in outside],
            zorder=3,
            facecolors="white",
            edgecolors=LIMIT_COLOR,
            label="step outside the SLO",
        )
    bound = [step for step in steps if step.generator_bound]
    if bound:
        ax.scatter(
            [step.offered for step in bound],
            [step.throughput_rps for step in bound],
            marker="x",
            s=80,
            color=LIMIT_COLOR,
            zorder=4,
            label="generator-bound (not counted)",
        )
    best = next((step for step in steps if step.index == result.capacity_step), None)
    if best is not None and result.capacity_rps is not None:
        ax.scatter(
            [best.offered],
            [best.goodput_rps or best.throughput_rps],
            marker="*",
            s=260,
            color=_ORANGE,
            zorder=5,
            label=f"capacity: {result.capacity_rps:.4g} req/s",
        )
    ax.set_ylabel("completed (req/s)")
    ax.set_ylim(bottom=0)
    title = "Open-model sweep" if result.model == "open" else "Capacity"
    ax.set_title(
        f"{title}: completed against offered load", loc="left", fontsize=11, fontweight="bold"
    )


def _latency_panel(ax: Axes, steps: list[StepResult], result: CapacityResult) -> None:
    offered = [step.offered for step in steps]
    open_model = result.model == "open"
    for name, style in PERCENTILE_STYLES.items():
        ax.errorbar(
            offered,
            [getattr(step, f"{name}_s") for step in steps],
            yerr=_error_bars(steps, f"{name}_s"),
            marker="o",
            ms=3,
            lw=1.5,
            capsize=3,
            label=name + (" from the intended send" if open_model else ""),
            **style,
        )
    sent = [step.p95_sent_s for step in steps]
    if any(value is not None for value in sent):
        ax.plot(
            offered,
            [float("nan") if value is None else value for value in sent],
            ls="--",
            marker=".",
            lw=1.0,
            color=_GREY,
            label="p95 from the actual send (uncorrected)",
        )
    latencies = [
        value
        for step in steps
        for value in (step.p50_s, step.p95_s, step.p99_s, step.p95_sent_s)
        if value is not None
    ]
    slo_line(ax, result.slo.p95_s, latencies)
    ax.set_ylabel("latency (s)")


def _errors_panel(ax: Axes, steps: list[StepResult], result: CapacityResult) -> None:
    open_model = result.model == "open"
    ax.plot(
        [step.offered for step in steps],
        [step.error_rate * 100 for step in steps],
        marker="o",
        ms=3,
        color=OUTCOME_COLORS["client_error"],
        label="errors and unserved arrivals" if open_model else "error rate",
    )
    budget = result.slo.max_error_rate * 100
    ax.axhline(budget, label=f"max error rate = {budget:g} %", **LIMIT_LINE)
    ax.set_ylabel("errors (%)")
    ax.set_ylim(bottom=0)
    if open_model:
        ax.set_xlabel("offered arrival rate (req/s; open model)")
    else:
        unit = steps[0].offered_unit if steps else "users"
        ax.set_xlabel(f"offered load ({unit}; {result.model} model)")
