"""A run's staged cases as readers see them: windows, rates for all keys, the first arrival."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.load.keys import plan_keys
from harness.load.scenario import parse_scenario
from harness.run.plan import CasePlan, RunPlan, read_plan, write_plan
from harness.run.stage_plan import staged_cases

STAGED = {
    "name": "perf",
    "duration": "10s",
    "cases": [
        {"name": "steady", "behaviour": {"kind": "open", "rate": 5}},
        {"name": "users", "population": {"keys": 2, "users_per_key": 4},
         "behaviour": {"kind": "hammer", "stages": [
             {"duration": "2s", "target": 4}, {"duration": "2s", "target": 0}]}},
        {"name": "ramp", "population": {"keys": 3},
         "behaviour": {"kind": "open", "start_rate": 2, "stages": [
             {"duration": "4s", "target": 10}, {"duration": "6s", "target": 10}]}},
    ],
}  # fmt: skip


def plan_of(document: dict[str, object]) -> RunPlan:
    scenario = parse_scenario(document, "test")
    keys = plan_keys(scenario, "run-1", target_host="127.0.0.1")
    cases = [CasePlan(case=case, chatbot_id=f"bot-{n}", keys=keys[case.name],
                      duration_ns=scenario.case_duration_ns(case))
             for n, case in enumerate(scenario.cases)]  # fmt: skip
    return RunPlan(run_id="run-1", created_at="2026-12-02T10:00:00Z", target="http://x",
                   embedded_emulator=True, emulator={}, org_timezone="Asia/Taipei",
                   scenario=scenario, cases=cases, versions={})  # fmt: skip


def test_only_staged_cases_are_listed_with_their_windows_and_rates(tmp_path: Path) -> None:
    write_plan(tmp_path, plan_of(STAGED))
    users, case = staged_cases(read_plan(tmp_path))  # through run.json, as a reader gets it
    assert (users.name, users.model, users.keys) == ("users", "users", 2)
    assert users.stages == ((0.0, 2.0, 0.0, 8.0), (2.0, 4.0, 8.0, 0.0))
    assert users.first_arrival_s == pytest.approx(0.25)  # level ½ (one client, rounded) at ¼ s
    assert (case.name, case.model, case.keys) == ("ramp", "rate", 3)
    assert case.stages == ((0.0, 4.0, 6.0, 30.0), (4.0, 10.0, 30.0, 30.0))
    # Λ(t) = 2t + t² per key: the first arrival where it reaches 1, t = √2 − 1.
    assert case.first_arrival_s == pytest.approx(2**0.5 - 1, abs=1e-6)
