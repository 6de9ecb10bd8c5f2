"""The capacity section: reading ``capacity.json`` and charting load against offered load.

``capacity.json`` is written by ``aisk-harness capacity`` and read back with its own model
(``harness.capacity.result``); the report keeps the steps as a frame to draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from harness.capacity.result import CAPACITY_FILE, read_result
from harness.report.charts import LIMIT_COLOR, LIMIT_LINE, OUTCOME_COLORS, WIDTH_IN

__all__ = ["CAPACITY_FILE", "Capacity", "capacity_figure", "read_capacity"]

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


@dataclass(frozen=True, slots=True)
class Capacity:
    """What the capacity search found; ``steps`` has one row per load step (``STEP_FIELDS``)."""

    target: str
    model: str
    model_note: str
    slo_p95_s: float
    max_error_rate: float
    steps: pd.DataFrame
    capacity_rps: float | None
    capacity_step: int | None
    knee_rps: float | None
    knee_step: int | None
    errors_begin_step: int | None
    sentence: str

    @property
    def offered_unit(self) -> str:
        return str(self.steps["offered_unit"].iloc[0]) if len(self.steps) else "users"

    def offered_at(self, step: int | None) -> float | None:
        """The offered load of step ``step`` (None when the search found no such step)."""
        if step is None:
            return None
        match = self.steps.loc[self.steps["index"] == step, "offered"]
        return float(match.iloc[0]) if len(match) else None


def read_capacity(run_dir: Path) -> Capacity:
    """The search's ``capacity.json`` (validated by its own model) as the report draws it."""
    result = read_result(run_dir)
    steps = pd.DataFrame(
        [step.model_dump(include=set(STEP_COLUMNS)) for step in result.steps],
        columns=list(STEP_COLUMNS),
    )
    return Capacity(
        target=result.target,
        model=result.model,
        model_note=result.model_note,
        slo_p95_s=result.slo.p95_s,
        max_error_rate=result.slo.max_error_rate,
        steps=steps,
        capacity_rps=result.capacity_rps,
        capacity_step=result.capacity_step,
        knee_rps=result.knee_rps,
        knee_step=result.knee_step,
        errors_begin_step=result.errors_begin_step,
        sentence=result.sentence,
    )


def capacity_figure(capacity: Capacity) -> Figure:
    """Throughput, latency percentiles and error rate against offered load, SLO and knee drawn."""
    figure = Figure(figsize=(WIDTH_IN, 7.2), layout="constrained")
    throughput, latency, errors = figure.subplots(3, 1, sharex=True)
    steps = capacity.steps
    offered = steps["offered"]
    inside = steps["within_slo"].astype(bool)
    throughput.plot(offered, steps["throughput_rps"], color="#1864ab", lw=1.6)
    throughput.scatter(
        offered[inside],
        steps.loc[inside, "throughput_rps"],
        color="#1864ab",
        zorder=3,
        label="step within the SLO",
    )
    throughput.scatter(
        offered[~inside],
        steps.loc[~inside, "throughput_rps"],
        zorder=3,
        facecolors="white",
        edgecolors="#c92a2a",
        label="step outside the SLO",
    )
    capacity_at = capacity.offered_at(capacity.capacity_step)
    if capacity_at is not None and capacity.capacity_rps is not None:
        throughput.scatter(
            [capacity_at],
            [capacity.capacity_rps],
            marker="*",
            s=260,
            color="#f08c00",
            zorder=4,
            label=f"capacity: {capacity.capacity_rps:.1f} req/s",
        )
    throughput.set_ylabel("throughput (req/s)")
    throughput.set_title(
        "Capacity: answers against offered load", loc="left", fontsize=11, fontweight="bold"
    )
    for column, style in (("p50_s", "-"), ("p95_s", "--"), ("p99_s", ":")):
        latency.plot(
            offered,
            steps[column],
            ls=style,
            marker="o",
            ms=3,
            lw=1.6,
            color="#1864ab",
            label=column.removesuffix("_s"),
        )
    latency.axhline(capacity.slo_p95_s, label=f"SLO p95 = {capacity.slo_p95_s:g} s", **LIMIT_LINE)
    latency.set_ylabel("latency (s)")
    latency.set_ylim(bottom=0)
    errors.plot(
        offered,
        steps["error_rate"] * 100,
        marker="o",
        ms=3,
        color=OUTCOME_COLORS["client_error"],
        label="error rate",
    )
    budget = capacity.max_error_rate * 100
    errors.axhline(budget, label=f"max error rate = {budget:g} %", **LIMIT_LINE)
    errors.set_ylabel("errors (%)")
    errors.set_ylim(bottom=0)
    errors.set_xlabel(f"offered load ({capacity.offered_unit}; {capacity.model} model)")
    knee_at = capacity.offered_at(capacity.knee_step)
    errors_at = capacity.offered_at(capacity.errors_begin_step)
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
        ax.legend(loc="upper left", fontsize=8)
    return figure
