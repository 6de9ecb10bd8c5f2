"""Power against the smallest violation, end to end: a run too short to tell the limiter family
never passes a limiter that admits one request too many per window.

Real runs (``aisk-harness run`` with the embedded emulator, Locust in a subprocess) of 10 s
against the ``admit-one-extra`` fault, whose 10 s windows the run cannot tell fixed from
anchored: the checks that look for one admission too many must fail or say they had no power.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from testkit import clean_env, harness_command

pytestmark = pytest.mark.locust

OPEN_ONLY = Path(__file__).with_name("open_only.toml")
RUN_TIMEOUT_S = 180


def run(tmp_path: Path, *options: str) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "run"
    done = subprocess.run(
        harness_command("run", "--out", str(out), "--no-report", *options),
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    verdict = out / "verdict.json"
    assert verdict.is_file(), done.stderr[-3000:]
    return done.returncode, json.loads(verdict.read_text()), done.stdout


def outcomes(verdict: dict[str, Any]) -> dict[str, str]:
    return {check["id"]: check["outcome"] for check in verdict["checks"]}


def test_ten_seconds_of_the_built_in_scenario_never_pass_one_extra_per_window(
    tmp_path: Path,
) -> None:
    code, verdict, stdout = run(tmp_path, "--duration", "10s", "--fault", "admit-one-extra")
    found = outcomes(verdict)
    for check in ("over-admission", "burst", "concurrency"):
        assert found[check] in ("fail", "inconclusive"), stdout[-4000:]
    assert verdict["status"] != "conformant"
    assert code in (1, 3)
    # The plan said so before the load, per check.
    assert (
        "warning: no power: over-admission: one extra per 10s window needs ≥ 3 windows: use "
        "≥ 30s" in stdout
    )
    assert "warning: no power: wait-honesty: case 'device-polite'" in stdout


def test_a_ten_second_run_of_open_cases_is_never_conformant_on_one_extra(tmp_path: Path) -> None:
    code, verdict, stdout = run(
        tmp_path, "--scenario", str(OPEN_ONLY), "--fault", "admit-one-extra"
    )
    assert verdict["status"] != "conformant", stdout[-4000:]
    assert code != 0
    over = next(check for check in verdict["checks"] if check["id"] == "over-admission")
    assert over["outcome"] in ("fail", "inconclusive")
    if over["outcome"] == "inconclusive":
        assert "no power against the smallest over-admission" in over["summary"]
