"""The capacity section of an open-model sweep: its rate steps as a table, and both load models
of one target in one chart (the sweep's own chart is ``capacity_chart.py``, shared with the
closed search)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from harness.capacity.result import CapacityResult
from harness.report.capacity_chart import chart_steps
from harness.report.charts import LIMIT_LINE, new_figure

__all__ = ["OPEN_STEP_COLUMNS", "models_figure", "open_steps_frame"]

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


def open_steps_frame(result: CapacityResult) -> pd.DataFrame:
    """One row per rate step, in rate order (``OPEN_STEP_COLUMNS``)."""
    return pd.DataFrame(
        [step.model_dump(include=set(OPEN_STEP_COLUMNS)) for step in chart_steps(result)],
        columns=list(OPEN_STEP_COLUMNS),
    )


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
    rates = chart_steps(open_model)
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
    ax.legend(loc="upper left", fontsize=8)
    return figure


def _value(figure: float | None) -> float:
    """A figure to draw; a missing one is a gap."""
    return float("nan") if figure is None else figure
