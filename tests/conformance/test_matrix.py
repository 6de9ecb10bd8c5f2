"""The harness proves itself: every seeded fault fails the check designed for it, named as the
root cause of every other check it fails, and every correct limiter family passes every check
(with power) and is identified, under 5-30 ms of simulated latency, and (``slow``) on a target
whose admitted answers take as long as a language model's: 0.4-1.6 s after a decision delayed by
up to 20 ms, and 2-6 s.

Each case is a real run: ``aisk-harness run`` with the embedded emulator, Locust in a subprocess.
The slow variants and the repetitions that hunt for false failures are ``slow``:
``make test-slow``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from testkit import clean_env

from harness.conformance import CHECK_IDS
from harness.emulator import FAULTS, Algorithm

pytestmark = pytest.mark.locust

QUICK = Path(__file__).with_name("quick.toml")
SLOW = Path(__file__).with_name("slow.toml")
RUN_TIMEOUT_S = 180
# A language model's answer times, on top of the 5-30 ms every answer takes.
SLOW_TARGETS = {
    "llm": ("--model-latency", "400ms..1600ms", "--decision-delay", "0ms..20ms"),
    "long-answers": ("--model-latency", "2s..6s"),
}


def verdict_of(
    tmp_path: Path, *options: str, scenario: Path = QUICK
) -> tuple[int, dict[str, Any], str]:
    run_dir = tmp_path / "run"
    env = clean_env()
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "run", "--scenario", str(scenario),
         "--latency", "5ms..30ms", "--out", str(run_dir), "--no-report", *options],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    verdict_file = run_dir / "verdict.json"
    assert verdict_file.is_file(), done.stderr[-3000:]
    return done.returncode, json.loads(verdict_file.read_text()), done.stdout


def outcomes(verdict: dict[str, Any]) -> dict[str, str]:
    return {check["id"]: check["outcome"] for check in verdict["checks"]}


def assert_root_is(designed: str, verdict: dict[str, Any], stdout: str) -> None:
    """The fault's own check is the one root cause; every other failed check is explained by it
    (still failed, still counted)."""
    failed = {check["id"]: check for check in verdict["checks"] if check["outcome"] == "fail"}
    places = {name: (c["root"], c["explained_by"]) for name, c in failed.items()}
    expected = {name: (False, [designed]) for name in failed}
    expected[designed] = (True, [])
    assert places == expected, stdout[-3000:]


def test_every_fault_names_a_real_check() -> None:
    assert {fault.caught_by for fault in FAULTS.values()} <= set(CHECK_IDS)


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_a_correct_family_passes_every_check_and_is_identified(
    algorithm: Algorithm, tmp_path: Path
) -> None:
    code, verdict, stdout = verdict_of(tmp_path, "--algorithm", algorithm.value)
    failed = {name: outcome for name, outcome in outcomes(verdict).items() if outcome == "fail"}
    assert failed == {}, stdout[-3000:]
    assert code == 0, stdout[-3000:]
    assert verdict["conformant"] is True
    assert verdict["algorithm"] == algorithm.value


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_fails_the_check_designed_for_it(fault: str, tmp_path: Path) -> None:
    code, verdict, stdout = verdict_of(tmp_path, "--fault", fault)
    designed = FAULTS[fault].caught_by
    assert outcomes(verdict)[designed] == "fail", stdout[-3000:]
    assert_root_is(designed, verdict, stdout)
    assert verdict["conformant"] is False
    assert code == 1


@pytest.mark.slow
@pytest.mark.parametrize("repetition", range(10))
@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_correct_families_never_fail_repeatedly(
    algorithm: Algorithm, repetition: int, tmp_path: Path
) -> None:
    code, verdict, stdout = verdict_of(tmp_path, "--algorithm", algorithm.value)
    assert "fail" not in outcomes(verdict).values(), stdout[-3000:]
    assert code == 0


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(SLOW_TARGETS))
@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_a_correct_family_passes_on_a_slow_target(
    algorithm: Algorithm, target: str, tmp_path: Path
) -> None:
    code, verdict, stdout = verdict_of(
        tmp_path, "--algorithm", algorithm.value, *SLOW_TARGETS[target], scenario=SLOW
    )
    assert set(outcomes(verdict).values()) == {"pass"}, stdout[-3000:]
    assert code == 0
    assert verdict["algorithm"] == algorithm.value


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(SLOW_TARGETS))
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_fails_its_check_on_a_slow_target(
    fault: str, target: str, tmp_path: Path
) -> None:
    code, verdict, stdout = verdict_of(
        tmp_path, "--fault", fault, *SLOW_TARGETS[target], scenario=SLOW
    )
    assert outcomes(verdict)[FAULTS[fault].caught_by] == "fail", stdout[-3000:]
    assert_root_is(FAULTS[fault].caught_by, verdict, stdout)
    assert code == 1
