"""``run.json``: what a run was asked to do and what it set up, for the checks and the reports.

Written once set-up is done (chatbots created), read by ``aisk-harness check`` and the notebooks.
It never holds a secret: no API key, no chatbot token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.load.budget import RunBudget
from harness.load.fit import PlannedAway
from harness.load.keys import KeyPlan
from harness.load.scenario import Case, Scenario
from harness.load.settings import RunSettings
from harness.model_files import read_model, write_model

# Case and Scenario are the shapes of run.json's cases: its readers take them from here.
__all__ = [
    "PLAN_FILE",
    "Case",
    "CasePlan",
    "PlannedAway",
    "RunPlan",
    "Scenario",
    "plan_of",
    "read_plan",
    "write_plan",
]

PLAN_FILE = "run.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CasePlan(_Model):
    """A case as run: its configuration, the chatbot made for it, and its keys."""

    case: Case
    chatbot_id: str
    duration_ns: int
    keys: list[KeyPlan]


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
    label: str | None = None  # ``run --label``: names the run in comparisons and histories
    versions: dict[str, str] = Field(default_factory=dict)  # harness, locust, python
    # Parts of checks this host's source addresses could not exercise: skipped in the verdict.
    planned_away: list[PlannedAway] = Field(default_factory=list)
    # The target profile (``harness.profiles``): chatbot (the API) or http.
    profile: str = "chatbot"
    # A profile's checks it cannot apply, each with why: skipped in the verdict, never passed.
    not_applicable: dict[str, str] = Field(default_factory=dict)
    # How coarse the target's reported waits are (an HTTP Retry-After: 1 s); none: exact.
    wait_resolution_ns: int | None = None
    # The limiter family a profile's policy declares, if one (held unless the trace refutes it).
    declared_family: str | None = None

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


def plan_of(
    settings: RunSettings, chatbot_ids: dict[str, str], second_org: bool, versions: dict[str, str]
) -> RunPlan:
    """``run.json`` for a run set up from ``settings``: each case with its chatbot and keys."""
    scenario = settings.scenario
    return RunPlan(
        run_id=settings.run_id,
        created_at=datetime.now(UTC).isoformat(),
        target=settings.target,
        embedded_emulator=settings.emulator is not None,
        emulator=settings.emulator,
        org_timezone=settings.org_timezone,
        forwarded_for=settings.forwarded_for,
        scenario=scenario,
        cases=[
            CasePlan(
                case=case,
                chatbot_id=chatbot_ids[case.name],
                duration_ns=scenario.case_duration_ns(case),
                keys=settings.keys[case.name],
            )
            for case in scenario.cases
        ],
        second_org=second_org,
        budget=settings.budget,
        label=settings.label,
        versions=versions,
        planned_away=settings.planned_away,
    )
