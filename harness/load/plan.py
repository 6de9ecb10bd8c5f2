"""``run.json``: what a run was asked to do and what it set up, for the checks and the reports.

Written once set-up is done (chatbots created), read by ``aisk-harness check`` and the notebooks.
It never holds a secret: no API key, no chatbot token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.load.budget import RunBudget
from harness.load.keys import KeyPlan
from harness.load.scenario import Case, Scenario
from harness.model_files import read_model, write_model

__all__ = ["CasePlan", "KeyRecord", "RunPlan", "read_plan", "write_plan"]

PLAN_FILE = "run.json"
# Written by the recording process at the end: records per process, lost workers, chatbots left.
RECORDING_FILE = "recording.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class KeyRecord(_Model):
    index: int
    key: str
    source_ips: list[str]
    device_ids: list[str]
    forwarded_fors: list[str]

    @classmethod
    def of(cls, plan: KeyPlan) -> KeyRecord:
        return cls(
            index=plan.index,
            key=plan.key,
            source_ips=list(plan.source_ips),
            device_ids=list(plan.device_ids),
            forwarded_fors=list(plan.forwarded_fors),
        )


class CasePlan(_Model):
    """A case as run: its configuration, the chatbot made for it, and its keys."""

    case: Case
    chatbot_id: str
    duration_ns: int
    keys: list[KeyRecord]


class RunPlan(_Model):
    run_id: str
    created_at: str
    target: str
    embedded_emulator: bool
    emulator: dict[str, Any] | None = None
    org_timezone: str
    forwarded_for: bool = False
    scenario: Scenario
    cases: list[CasePlan]
    second_org: bool = False
    budget: RunBudget | None = None  # None: a run from before budgets existed
    # What the run stands for (``run --label v1.4.2``): how ``history`` orders and names runs.
    label: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)

    def case(self, name: str) -> CasePlan:
        for plan in self.cases:
            if plan.case.name == name:
                return plan
        raise KeyError(name)


def write_plan(run_dir: Path, plan: RunPlan) -> Path:
    return write_model(run_dir / PLAN_FILE, plan)


def read_plan(run_dir: Path) -> RunPlan:
    return read_model(
        run_dir / PLAN_FILE,
        RunPlan,
        missing=f"{str(run_dir)!r} is not a run directory: {PLAN_FILE} is missing",
        kind="a run plan of this harness version",
    )
