"""On a slow target a closed loop never reaches its limit: the verdict says so (exit 3, the
reason and the remedy), never "pass"; an open-model key reaches it and is judged.

The emulator answers admitted chats in 2 s (a language model's time), refusals at once.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from run_target import RUN_TIMEOUT_S
from testkit import clean_env, harness_command

from harness.run.reader import read_records

pytestmark = pytest.mark.locust

SCENARIO = """
name = "power"
duration = "12s"

[[cases]]
name = "slow-key"
behaviour = {behaviour}
population = {{ keys = 1, users_per_key = 1 }}
rate_limit = {{ limit = 5, duration = "10s", vary_by = "device" }}

[[cases]]
name = "polite"
behaviour = {{ kind = "polite" }}
population = {{ keys = 1, users_per_key = 6 }}
rate_limit = {{ limit = 5, duration = "10s", vary_by = "device" }}
"""
CLOSED = '{ kind = "hammer" }'
OPEN = '{ kind = "open", over = 3, max_in_flight = 16 }'


def run_with(
    tmp_path: Path, behaviour: str, *extra: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    scenario = tmp_path / "power.toml"
    scenario.write_text(SCENARIO.format(behaviour=behaviour))
    run_dir = tmp_path / "run"
    done = subprocess.run(
        harness_command("run", "--no-report", "--scenario", str(scenario), "--out", str(run_dir),
                        "--model-latency", "2s", *extra),
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip
    return done, run_dir


def checks(run_dir: Path) -> dict[str, dict[str, object]]:
    verdict = json.loads((run_dir / "verdict.json").read_text())
    return {check["id"]: check for check in verdict["checks"]}


def test_a_closed_loop_that_cannot_reach_its_limit_is_inconclusive_with_the_reason(
    tmp_path: Path,
) -> None:
    done, run_dir = run_with(tmp_path, CLOSED)
    # Warned before the load, from the calibration: it offers 1 / 2 s, its limit is 0.5/s.
    assert "case 'slow-key' waits for each answer" in done.stdout
    assert done.returncode == 3, done.stdout[-3000:]
    over = checks(run_dir)["over-admission"]
    assert over["outcome"] == "inconclusive"
    assert "case 'slow-key' never offered more than its limit" in str(over["summary"])
    assert "admitted answers took p50 2" in str(over["summary"])
    assert "kind = 'open'" in str(over["summary"])
    assert over["keys_with_power"] == 1  # the polite key: it has power, the slow key has none
    assert over["keys_without_power"] == 1
    assert "INCONCLUSIVE" in done.stdout


def test_the_same_key_sending_on_an_open_schedule_reaches_its_limit_and_is_judged(
    tmp_path: Path,
) -> None:
    done, run_dir = run_with(tmp_path, OPEN)
    assert "case 'slow-key'" not in done.stdout.split("run ")[0]  # no warning before the load
    assert done.returncode == 0, done.stdout[-3000:]
    over = checks(run_dir)["over-admission"]
    assert over["outcome"] == "pass"
    assert (over["keys_with_power"], over["keys_without_power"]) == (2, 0)


def test_a_dry_run_sets_up_probes_and_tears_down_without_load(tmp_path: Path) -> None:
    done, run_dir = run_with(tmp_path, OPEN, "--dry-run")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "dry run: 2 chatbots made, READY, probed and deleted; no load was sent" in done.stdout
    assert "offers/s" in done.stdout  # the plan and its cost were printed
    phases = set(read_records(run_dir)["phase"].astype(str))
    assert phases  # the set-up's probes were recorded, and nothing else
    assert phases <= {"roundtrip", *(p for p in phases if p.startswith("access:"))}
    assert not (run_dir / "verdict.json").exists()
