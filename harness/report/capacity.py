"""The capacity section: a search's ``CapacityResult`` charted against offered load."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from harness.capacity.result import CAPACITY_FILE, CapacityResult
from harness.report.charts import (
    LEGEND_BESIDE,
    LIMIT_COLOR,
    LIMIT_LINE,
    OUTCOME_COLORS,
    PERCENTILE_STYLES,
    new_figure,
    slo_line,
)

__all__ = ["CAPACITY_FILE", "capacity_figure", "offered_at", "steps_frame"]

STEP_COLUMNS = (
    "index",
    "offered",
    "offered_unit",
    "requests",
    "errors",
    "throughput_rps",
    "error_rate",
    "p50_s",
    "p95_s",
    "p99_s",
    "within_slo",
)


def steps_frame(result: CapacityResult) -> pd.DataFrame:
    """One row per load step (``STEP_COLUMNS``), as the chart and the table draw them."""
    return pd.DataFrame(
        [step.model_dump(include=set(STEP_COLUMNS)) for step in result.steps],
        columns=list(STEP_COLUMNS),
    )


def offered_at(result: CapacityResult, step: int | None) -> float | None:
    """The offered load of step ``step`` (None when the search found no such step)."""
    match = [s.offered for s in result.steps if step is not None and s.index == step]
    return match[0] if match else None


def capacity_figure(capacity: CapacityResult) -> Figure:
    """Throughput, latency percentiles and error rate against offered load, SLO and knee drawn."""
    figure = new_figure(7.2, 3, 1, sharex=True)
    throughput, latency, errors = figure.axes
    steps = steps_frame(capacity)
    _throughput_panel(throughput, steps, capacity)
    _latency_panel(latency, steps, capacity)
    _errors_panel(errors, steps, capacity)
    knee_at = offered_at(capacity, capacity.knee_step)
    errors_at = offered_at(capacity, capacity.errors_begin_step)
    for ax in (throughput, latency, errors):
        if knee_at is not None:
            ax.axvline(
                knee_at,
                color="#495057",
                ls="-.",
                lw=1.2,
                label="knee: latency turns up" if ax is latency else None,
            )
        if errors_at is not None:
            ax.axvline(
                errors_at,
                color=LIMIT_COLOR,
                ls=":",
                lw=1.2,
                label="errors begin" if ax is errors else None,
            )
        ax.grid(color="#dee2e6", lw=0.6)
        ax.legend(**LEGEND_BESIDE)
    return figure


def _throughput_panel(ax: Axes, steps: pd.DataFrame, capacity: CapacityResult) -> None:
    """Throughput per step, each step marked within or outside the SLO, the capacity starred."""
    offered = steps["offered"]
    inside = steps["within_slo"].astype(bool)
    ax.plot(offered, steps["throughput_rps"], color="#1864ab", lw=1.6)
    ax.scatter(
        offered[inside],
        steps.loc[inside, "throughput_rps"],
        color="#1864ab",
        zorder=3,
        label="step within the SLO",
    )
    ax.scatter(
        offered[~inside],
        steps.loc[~inside, "throughput_rps"],
        zorder=3,
        facecolors="white",
        edgecolors="#c92a2a",
        label="step outside the SLO",
    )
    capacity_at = offered_at(capacity, capacity.capacity_step)
    if capacity_at is not None and capacity.capacity_rps is not None:
        ax.scatter(
            [capacity_at],
            [capacity.capacity_rps],
            marker="*",
            s=260,
            color="#f08c00",
            zorder=4,
            label=f"capacity: {capacity.capacity_rps:.1f} req/s",
        )
    ax.set_ylabel("throughput (req/s)")
    ax.set_title(
        "Capacity: answers against offered load", loc="left", fontsize=11, fontweight="bold"
    )


def _latency_panel(ax: Axes, steps: pd.DataFrame, capacity: CapacityResult) -> None:
    """Latency percentiles per step against the SLO's p95."""
    for name, style in PERCENTILE_STYLES.items():
        ax.plot(steps["offered"], steps[f"{name}_s"], marker="o", ms=3, lw=1.6, label=name, **style)
    latencies = steps[["p50_s", "p95_s", "p99_s"]].astype(float).to_numpy().ravel()
    slo_line(ax, capacity.slo.p95_s, latencies)
    ax.set_ylabel("latency (s)")


def _errors_panel(ax: Axes, steps: pd.DataFrame, capacity: CapacityResult) -> None:
    """The error rate per step against the SLO's budget; the x axis says the load model."""
    ax.plot(
        steps["offered"],
        steps["error_rate"] * 100,
        marker="o",
        ms=3,
        color=OUTCOME_COLORS["client_error"],
        label="error rate",
    )
    budget = capacity.slo.max_error_rate * 100
    ax.axhline(budget, label=f"max error rate = {budget:g} %", **LIMIT_LINE)
    ax.set_ylabel("errors (%)")
    ax.set_ylim(bottom=0)
    unit = capacity.steps[0].offered_unit if capacity.steps else "users"
    ax.set_xlabel(f"offered load ({unit}; {capacity.model} model)")
