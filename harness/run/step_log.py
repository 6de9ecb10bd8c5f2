"""``capacity_steps.json``: when each step of a stepped load began and ended, as it happened.

The load shape writes it while it runs (after every change, through a temporary name and a
rename), so an interrupted search still leaves the steps it ran; the capacity analysis reads it.
Instants are UTC epoch ns on the recording process's wall clock, the clock of its records.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harness.model_files import read_model, write_model

__all__ = ["STEP_LOG_FILE", "StepLog", "StepSpan", "read_step_log", "step_users", "write_step_log"]

STEP_LOG_FILE = "capacity_steps.json"


class StepSpan(BaseModel):
    """One step as run: ``users`` closed-loop users from ``start_ns`` to ``end_ns``."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0)
    users: int = Field(ge=1)
    start_ns: int
    end_ns: int | None = None  # None while the step runs (or if the run was killed)


class StepLog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step_duration_ns: int = Field(gt=0)
    planned_users: list[int]
    steps: list[StepSpan] = Field(default_factory=list)


def step_users(step: int, maximum: int) -> list[int]:
    """The users of each step: ``step``, ``2·step``, ... up to ``maximum`` (always included)."""
    if step < 1 or maximum < step:
        raise ValueError("steps need 1 <= step <= maximum")
    users = list(range(step, maximum + 1, step))
    return users if users[-1] == maximum else [*users, maximum]


def write_step_log(run_dir: Path, log: StepLog) -> None:
    write_model(run_dir / STEP_LOG_FILE, log)


def read_step_log(run_dir: Path) -> StepLog:
    return read_model(
        run_dir / STEP_LOG_FILE,
        StepLog,
        missing=f"{str(run_dir)!r} holds no stepped load: {STEP_LOG_FILE} is missing",
        kind="a step log",
    )
