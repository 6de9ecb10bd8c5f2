"""``compare`` on real runs where it cannot and where it can tell a slower target (issue 33).

Against the embedded emulator, a base at ``--latency 20ms`` and a candidate at ``30ms``:
- the built-in conformance scenario for 8 s gives each case 3 to 30 admitted answers, too few
  for any p95: the comparison must never pass (exit 0). It is INCONCLUSIVE (exit 3), naming per
  case the answers an interval needs, or a regression (exit 1) where the throttles' latency,
  gated on its own, shows the step;
- the performance scenario (``perf.toml``, open arrivals) for 10 s: a regression (exit 1) of
  both load cases' p95. ``bench/compare_false_alarm.py`` measures its same-settings pairs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.load.scenario import default_scenario_path

pytestmark = pytest.mark.locust

RUN_TIMEOUT_S = 180
SCENARIOS = default_scenario_path().parent


def make_run(folder: Path, label: str, scenario: str, duration: str, latency: str) -> Path:
    run_dir = folder / label
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "run", "--scenario", str(SCENARIOS / scenario),
         "--duration", duration, "--no-report", "--out", str(run_dir), "--label", label,
         "--latency", latency],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert (run_dir / "verdict.json").exists(), done.stdout + done.stderr
    if scenario == "perf.toml":
        # The plan said before the load, per case, what compare could resolve from 10 s.
        assert re.search(r"\n  chat-device .* too few: 390 in 20s\n", done.stdout), done.stdout
        assert done.returncode == 0, done.stdout[-3000:]  # every check judged, none failed
    return run_dir


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compare-power")


@pytest.fixture(scope="module")
def default_runs(folder: Path) -> dict[str, Path]:
    return {
        "default20": make_run(folder, "d20", "default.toml", "8s", "20ms"),
        "default30": make_run(folder, "d30", "default.toml", "8s", "30ms"),
    }


@pytest.fixture(scope="module")
def perf_runs(folder: Path) -> dict[str, Path]:
    return {
        "perf20": make_run(folder, "p20", "perf.toml", "10s", "20ms"),
        "perf30": make_run(folder, "p30", "perf.toml", "10s", "30ms"),
    }


def test_short_default_runs_never_pass(
    default_runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = default_runs
    code = main(["compare", str(runs["default20"]), str(runs["default30"]), "--out",
                 str(tmp_path)])  # fmt: skip
    stdout = capsys.readouterr().out
    assert code in (1, 3), stdout
    document = json.loads((tmp_path / "compare.json").read_text())
    gates = {gate["subject"]: gate for gate in document["gates"]}
    admitted = [gates[f"p95 {case['case']}"] for case in document["cases"]]
    # No admitted p95 of any case could be told: each names the answers an interval needs.
    assert all(gate["outcome"] == "inconclusive" for gate in admitted), stdout
    assert all("an interval needs 72 in each" in gate["summary"] for gate in admitted)
    if code == 3:
        assert "\nINCONCLUSIVE: 0 of " in stdout
    else:  # the throttles' own latency showed the step
        moved = [g for g in document["gates"] if g["outcome"] == "regression"]
        assert moved
        assert all(" throttled " in g["subject"] for g in moved), moved


@pytest.mark.timing  # latencies compared: alone on the cores (make test-timing), not make test
def test_perf_runs_tell_20ms_from_30ms(
    perf_runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = perf_runs
    code = main(["compare", str(runs["perf20"]), str(runs["perf30"]), "--out", str(tmp_path),
                 "--explain"])  # fmt: skip
    stdout = capsys.readouterr().out
    assert code == 1, stdout
    for case in ("chat-device", "chat-ip"):
        assert re.search(rf"\n  REGRESSION +p95 {case} +p95 of admitted answers ", stdout), stdout
    assert re.search(r"\n  p95 chat-device: detects a change of ±\d+\.\d % or more", stdout)
