"""The capacity search's analysis: from a stepped load's records to capacity, knee and errors.

Pure functions of the records and the step log (no Locust, no I/O but ``capacity.json``).
"""

from __future__ import annotations

from harness.capacity.result import (
    CAPACITY_FILE,
    CapacityResult,
    Slo,
    StepResult,
    read_result,
    write_result,
)
from harness.capacity.search import analyse, capacity_step, errors_begin, knee

__all__ = [
    "CAPACITY_FILE",
    "CapacityResult",
    "Slo",
    "StepResult",
    "analyse",
    "capacity_step",
    "errors_begin",
    "knee",
    "read_result",
    "write_result",
]
