"""``run --chatbot ID``: an existing chatbot judged as configured, left as it was, its quota spared.

The test makes the chatbot beforehand, as a console user would have, then runs the harness on it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from run_target import API_KEY, Target, run

from harness.api.client import AiskClient
from harness.load.chatbots import chatbot_for_case
from harness.load.scenario import parse_scenario

RATE = {"limit": 3, "duration": "2s", "vary_by": "device", "throttle_message": "Console says wait"}


def _make_chatbot(target: Target, quota: int | None) -> str:
    case = {"name": "console", "behaviour": {"kind": "hammer"}, "rate_limit": RATE}
    if quota is not None:
        case["quota"] = {"limit": quota}
    made = chatbot_for_case(parse_scenario({"cases": [case]}).cases[0], "console")
    with AiskClient(target.url, API_KEY) as client:
        return client.create_chatbot(made).id


def _settings(target: Target, chatbot_id: str) -> dict[str, object]:
    with AiskClient(target.url, API_KEY) as client:
        chatbot = client.get_chatbot(chatbot_id)
    return {"name": chatbot.name, "rate_limit": chatbot.rate_limit, "quota": chatbot.quota_limit}


def _run_on(
    target: Target, tmp_path: Path, chatbot_id: str, *more: str
) -> subprocess.CompletedProcess[str]:
    return run(["--target", target.url, "--api-key", API_KEY, "--no-calibrate",
                "--chatbot", chatbot_id, "--duration", "8s", "--out", str(tmp_path / "run"),
                *more], tmp_path)  # fmt: skip


def test_an_existing_chatbot_is_judged_as_configured_and_left_as_it_was(
    target: Target, tmp_path: Path
) -> None:
    chatbot_id = _make_chatbot(target, quota=500)
    before = _settings(target, chatbot_id)
    done = _run_on(target, tmp_path, chatbot_id)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert f"chatbot {chatbot_id}: 4 cases; the run admits at most" in output
    assert "of its daily quota of 500" in output
    plan = json.loads((tmp_path / "run" / "run.json").read_text())
    assert {case["chatbot_id"] for case in plan["cases"]} == {chatbot_id}
    assert sorted(case["case"]["name"] for case in plan["cases"]) == [
        "c1-concurrent-burst", "c1-device-open", "c1-device-seen-from-many-ips", "c1-polite",
    ]  # fmt: skip
    verdict = json.loads((tmp_path / "run" / "verdict.json").read_text())
    outcomes = {check["id"]: check for check in verdict["checks"]}
    assert outcomes["over-admission"]["outcome"] == "pass"
    assert outcomes["over-admission"]["keys_with_power"] >= 2
    assert outcomes["quota"]["outcome"] == "skipped"
    assert "existing chatbots are not judged" in outcomes["quota"]["summary"]
    # Still there, unchanged: the run deleted nothing and configured nothing.
    assert _settings(target, chatbot_id) == before
    recording = json.loads((tmp_path / "run" / "recording.json").read_text())
    assert recording["chatbots_not_deleted"] == []


def test_a_run_that_could_use_up_the_quota_is_refused_without_the_flag(
    target: Target, tmp_path: Path
) -> None:
    chatbot_id = _make_chatbot(target, quota=40)
    before = _settings(target, chatbot_id)
    decided = target.decided()
    done = _run_on(target, tmp_path, chatbot_id)
    assert done.returncode == 2
    assert "--chatbot: the run could use up the daily quota of " + chatbot_id in done.stderr
    assert "--allow-quota-burn" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
    assert target.decided() == decided  # not one chat was sent
    assert _settings(target, chatbot_id) == before


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--chatbot", "x"], "--chatbot needs --target"),
        (["--allow-quota-burn"], "--allow-quota-burn needs --chatbot"),
    ],
)
def test_existing_chatbot_options_are_checked_first(
    args: list[str], named: str, tmp_path: Path, target: Target
) -> None:
    if named.startswith("--allow"):
        args = [*args, "--target", target.url, "--api-key", API_KEY]
    done = run([*args, "--out", str(tmp_path / "run")], tmp_path)
    assert done.returncode == 2
    assert named in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_unknown_chatbot_is_one_line(target: Target, tmp_path: Path) -> None:
    done = _run_on(target, tmp_path, "no-such-chatbot")
    assert done.returncode == 2
    assert "--chatbot no-such-chatbot: cannot read it" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
