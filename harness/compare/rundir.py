"""Reading what a comparison needs from a run directory (the one place that does I/O).

Everything comes through the run directory's own readers: ``run.json`` (``read_plan``), the
records (``read_records``, only the columns used), ``verdict.json`` (``Verdict``) and, for a
capacity search, ``capacity.json`` and ``capacity_steps.json``. Those readers are moving (to
``harness.run``); they are imported here and nowhere else in this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.capacity.result import CAPACITY_FILE, CapacityResult, read_result
from harness.capacity.steps import Requests, Window, windows_of
from harness.conformance.verdict import VERDICT_FILE, Verdict
from harness.errors import ConfigError
from harness.model_files import read_model
from harness.run.plan import PLAN_FILE, RunPlan, read_plan
from harness.run.reader import read_records
from harness.run.step_log import read_step_log

__all__ = ["CHAT_COLUMNS", "CapacityRun", "RunData", "chat_requests", "find_runs", "read_run"]

RECORD_COLUMNS = [
    "kind",
    "phase",
    "case",
    "outcome",
    "latency_ms",
    "send_wall_ns",
    "recv_wall_ns",
    "clock_offset_ns",
]
# The frame a comparison works on: one row per chat request of the load, in send order.
CHAT_COLUMNS = ("case", "outcome", "latency_ms", "sent_ns", "done_ns")


@dataclass(frozen=True)
class CapacityRun:
    """A capacity search's result with what its intervals are computed from."""

    result: CapacityResult
    windows: list[Window]
    requests: Requests


@dataclass(frozen=True)
class RunData:
    """One side of a comparison, or one point of a history."""

    run_dir: Path
    plan: RunPlan
    chats: pd.DataFrame  # CHAT_COLUMNS
    verdict: Verdict | None
    capacity: CapacityRun | None

    @property
    def name(self) -> str:
        """The run's label, else its id."""
        return self.plan.label or self.plan.run_id


def chat_requests(records: pd.DataFrame) -> pd.DataFrame:
    """The load's chat requests (no set-up, no access probe) in send order, on the recording
    process's clock."""
    phase = records["phase"].astype(str)
    load = records[
        (records["kind"] == "chat") & ~phase.str.startswith("access:") & (records["case"] != "")
    ]
    frame = pd.DataFrame(
        {
            "case": load["case"].astype(str),
            "outcome": load["outcome"].astype(str),
            "latency_ms": load["latency_ms"].astype(float),
            "sent_ns": load["send_wall_ns"] + load["clock_offset_ns"],
            "done_ns": load["recv_wall_ns"] + load["clock_offset_ns"],
        }
    )
    return frame.sort_values("sent_ns", kind="stable").reset_index(drop=True)


def _verdict(run_dir: Path) -> Verdict | None:
    if not (run_dir / VERDICT_FILE).exists():
        return None
    return read_model(
        run_dir / VERDICT_FILE, Verdict, missing="", kind="a verdict of this harness version"
    )


def read_run(run_dir: Path) -> RunData:
    """A run directory's plan, chat requests, verdict and capacity result (when present)."""
    if not run_dir.is_dir():
        raise ConfigError(f"{str(run_dir)!r} is not a directory")
    plan = read_plan(run_dir)
    records = read_records(run_dir, RECORD_COLUMNS)
    capacity = None
    if (run_dir / CAPACITY_FILE).exists():
        capacity = CapacityRun(
            read_result(run_dir), windows_of(read_step_log(run_dir)), Requests.of(records)
        )
    return RunData(run_dir, plan, chat_requests(records), _verdict(run_dir), capacity)


def find_runs(paths: list[Path]) -> list[Path]:
    """Run directories: each path that holds ``run.json``, else its subdirectories that do
    (so ``history reports/runs`` takes every run there)."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise ConfigError(f"{str(path)!r} is not a directory")
        if (path / PLAN_FILE).exists():
            found.append(path)
            continue
        inside = sorted(child for child in path.iterdir() if (child / PLAN_FILE).exists())
        if not inside:
            raise ConfigError(f"{str(path)!r} is not a run directory and holds none ({PLAN_FILE})")
        found.extend(inside)
    return found
