"""The capacity section: reading ``capacity.json`` and charting load against offered load.

``capacity.json`` is written by ``aisk-harness capacity`` (its model lives with the capacity
search); this reader takes only the fields the report draws, checks their types, and names the
first field that is missing or wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from harness.errors import ConfigError
from harness.report.charts import LIMIT_COLOR, LIMIT_LINE, OUTCOME_COLORS, WIDTH_IN

__all__ = ["CAPACITY_FILE", "Capacity", "capacity_figure", "read_capacity"]

CAPACITY_FILE = "capacity.json"
STEP_FIELDS = {
    "index": int,
    "offered": float,
    "offered_unit": str,
    "requests": int,
    "errors": int,
    "throughput_rps": float,
    "error_rate": float,
    "p50_s": float,
    "p95_s": float,
    "p99_s": float,
    "within_slo": bool,
}


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


def _field(document: dict[str, Any], name: str, kind: type, where: str, optional: bool) -> Any:
    """``document[name]`` if it is of ``kind`` (None allowed when ``optional``), else a one-line
    error naming the field."""
    value = document.get(name)
    if value is None and optional:
        return None
    if kind is float and type(value) is int:  # JSON has one number type
        value = float(value)
    if type(value) is not kind:  # exact: a bool is no number
        expected = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}
        raise ConfigError(f"{CAPACITY_FILE}: {where}{name}: expected {expected[kind]}")
    return value


def read_capacity(run_dir: Path) -> Capacity:
    path = run_dir / CAPACITY_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{str(run_dir)!r} holds no {CAPACITY_FILE}") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {str(path)!r}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("slo"), dict):
        raise ConfigError(f"{CAPACITY_FILE}: slo: expected an object with p95_s, max_error_rate")
    if not isinstance(document.get("steps"), list) or not all(
        isinstance(step, dict) for step in document["steps"]
    ):
        raise ConfigError(f"{CAPACITY_FILE}: steps: expected a list of objects")
    rows = [
        {
            name: _field(step, name, kind, f"steps[{index}].", optional=False)
            for name, kind in STEP_FIELDS.items()
        }
        for index, step in enumerate(document["steps"])
    ]
    slo = document["slo"]
    return Capacity(
        target=_field(document, "target", str, "", False),
        model=_field(document, "model", str, "", False),
        model_note=_field(document, "model_note", str, "", False),
        slo_p95_s=_field(slo, "p95_s", float, "slo.", False),
        max_error_rate=_field(slo, "max_error_rate", float, "slo.", False),
        steps=pd.DataFrame(rows, columns=list(STEP_FIELDS)),
        capacity_rps=_field(document, "capacity_rps", float, "", True),
        capacity_step=_field(document, "capacity_step", int, "", True),
        knee_rps=_field(document, "knee_rps", float, "", True),
        knee_step=_field(document, "knee_step", int, "", True),
        errors_begin_step=_field(document, "errors_begin_step", int, "", True),
        sentence=_field(document, "sentence", str, "", False),
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
