"""run.json: written atomically, read back equal, and unreadable ones are ConfigErrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.load.keys import plan_keys
from harness.load.scenario import default_scenario_path, load_scenario
from harness.run.plan import PLAN_FILE, CasePlan, RunPlan, read_plan, write_plan


def run_plan() -> RunPlan:
    scenario = load_scenario(default_scenario_path())
    keys = plan_keys(scenario, "run-1", target_host="127.0.0.1")
    cases = [
        CasePlan(
            case=case,
            chatbot_id=f"bot-{index}",
            duration_ns=scenario.case_duration_ns(case),
            keys=keys[case.name],
        )
        for index, case in enumerate(scenario.cases)
    ]
    return RunPlan(
        run_id="run-1",
        created_at="2026-03-01T10:00:00Z",
        target="http://127.0.0.1:8080",
        embedded_emulator=True,
        emulator={"faults": []},
        org_timezone="Asia/Taipei",
        scenario=scenario,
        cases=cases,
        versions={"harness": "0.1.0"},
    )


def test_write_then_read_gives_the_same_plan(tmp_path: Path) -> None:
    plan = run_plan()
    path = write_plan(tmp_path, plan)
    assert path == tmp_path / PLAN_FILE
    assert read_plan(tmp_path) == plan
    assert sorted(p.name for p in tmp_path.iterdir()) == [PLAN_FILE]  # no temporary left


def test_the_plan_finds_a_case_by_name(tmp_path: Path) -> None:
    write_plan(tmp_path, run_plan())
    plan = read_plan(tmp_path)
    assert plan.case("ip-open").chatbot_id == "bot-1"
    assert plan.case("ip-open").keys[0].source_ips == ("127.10.0.1",)
    with pytest.raises(KeyError):
        plan.case("absent")


def test_a_directory_without_run_json_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"is not a run directory: run\.json is missing"):
        read_plan(tmp_path)


def test_garbage_run_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / PLAN_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_plan(tmp_path)
    assert str(tmp_path / PLAN_FILE) in str(caught.value)


def test_json_of_the_wrong_shape_names_the_file(tmp_path: Path) -> None:
    (tmp_path / PLAN_FILE).write_text('{"run_id": "r"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a run plan of this harness version") as caught:
        read_plan(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / PLAN_FILE))


def test_binary_garbage_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / PLAN_FILE).write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot read"):
        read_plan(tmp_path)


def test_a_label_is_kept_and_old_plans_have_none(tmp_path: Path) -> None:
    write_plan(tmp_path, run_plan().model_copy(update={"label": "v1.4.2"}))
    assert read_plan(tmp_path).label == "v1.4.2"
    document = (tmp_path / PLAN_FILE).read_text(encoding="utf-8").replace('"label": "v1.4.2",', "")
    (tmp_path / PLAN_FILE).write_text(document, encoding="utf-8")
    assert '"label"' not in document
    assert read_plan(tmp_path).label is None
