"""``capacity.json``: what a capacity search found, for the terminal, the report and a release note.

The shape is a contract with the report's capacity notebook: fields are only added, never renamed.
Latencies are seconds from every successful request of a step (full resolution, nearest rank);
``start_ns``/``end_ns`` are the UTC epoch ns bounds of the window a step is measured over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.model_files import read_model, write_model

__all__ = ["CAPACITY_FILE", "CapacityResult", "Slo", "StepResult", "read_result", "write_result"]

CAPACITY_FILE = "capacity.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Slo(_Model):
    """A step is within the SLO when its p95 is at most ``p95_s`` and its error rate at most
    ``max_error_rate``."""

    p95_s: float = Field(gt=0)
    max_error_rate: float = Field(ge=0, le=1)


class StepResult(_Model):
    """One step of offered load, measured over its window (the step minus its settling time).

    ``throughput_rps`` counts successful (2xx) answers completed in the window per second;
    ``errors`` every other answer (or no answer), and ``error_rate`` is ``errors / requests``.
    The percentiles are None when the step had no successful answer.
    """

    index: int = Field(ge=0)
    offered: float
    offered_unit: Literal["users", "req/s"]
    start_ns: int
    end_ns: int
    requests: int = Field(ge=0)
    errors: int = Field(ge=0)
    throughput_rps: float = Field(ge=0)
    error_rate: float = Field(ge=0, le=1)
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    within_slo: bool
    # An open-model step's own figures (``harness.capacity.open_steps``); None in a closed one.
    # The percentiles above are then from the *intended* send instant (coordinated omission
    # corrected), these from the actual one; errors and error_rate count unserved arrivals.
    label: str = ""
    sent_rps: float | None = None
    goodput_rps: float | None = None
    p50_sent_s: float | None = None
    p95_sent_s: float | None = None
    p99_sent_s: float | None = None
    late: int | None = None
    unserved: int | None = None
    throttled: int | None = None
    out_of_quota: int | None = None
    in_flight: float | None = None
    littles_in_flight: float | None = None
    steady: bool | None = None
    # The busiest Locust process's mean CPU over the window (``generator_cpu.json``), and whether
    # that bound the sending (``harness.capacity.generator``): then the step is not the target's.
    generator_cpu_percent: float | None = None
    generator_process: str | None = None
    generator_bound: bool | None = None
    behind_share: float | None = None  # open steps: arrivals its scheduler handed over late
    # --repeat N: the step's figures are the means of N runs of it, and ``intervals`` holds each
    # figure's 95 % confidence interval (Student's t over the runs) as [low, high].
    repeats: int | None = None
    intervals: dict[str, list[float]] | None = None


class CapacityResult(_Model):
    target: str
    model: Literal["closed", "open"]
    model_note: str
    slo: Slo
    steps: list[StepResult]
    capacity_rps: float | None
    capacity_step: int | None
    knee_rps: float | None
    knee_step: int | None
    errors_begin_step: int | None
    sentence: str


def write_result(run_dir: Path, result: CapacityResult) -> Path:
    return write_model(run_dir / CAPACITY_FILE, result)


def read_result(run_dir: Path) -> CapacityResult:
    return read_model(
        run_dir / CAPACITY_FILE,
        CapacityResult,
        missing=f"{str(run_dir)!r} holds no capacity search: {CAPACITY_FILE} is missing",
        kind="a capacity result",
    )
