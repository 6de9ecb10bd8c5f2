"""``run.json``: what a run was asked to do and what it set up, for the checks and the reports.

Written once set-up is done (chatbots created), read by ``aisk-harness check`` and the notebooks.
It never holds a secret: no API key, no chatbot token.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import ConfigError
from harness.load.keys import KeyPlan
from harness.load.scenario import Case, Scenario

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
    versions: dict[str, str] = Field(default_factory=dict)

    def case(self, name: str) -> CasePlan:
        for plan in self.cases:
            if plan.case.name == name:
                return plan
        raise KeyError(name)


def write_plan(run_dir: Path, plan: RunPlan) -> Path:
    path = run_dir / PLAN_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(plan.model_dump_json(indent=2), encoding="utf-8")
    temporary.replace(path)
    return path


def read_plan(run_dir: Path) -> RunPlan:
    path = run_dir / PLAN_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{str(run_dir)!r} is not a run directory: {PLAN_FILE} is missing"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {str(path)!r}: {exc}") from None
    try:
        return RunPlan.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(
            f"{path}: not a run plan of this harness version: {exc.errors()[0]['msg']}"
        ) from None
