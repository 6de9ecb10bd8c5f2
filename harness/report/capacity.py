"""The capacity section's data: a search's ``CapacityResult`` as the table and chart read it
(the chart itself: ``capacity_chart.py``)."""

from __future__ import annotations

import pandas as pd

from harness.capacity.result import CAPACITY_FILE, CapacityResult
from harness.report.capacity_chart import capacity_figure, offered_at

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
