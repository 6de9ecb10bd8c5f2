"""Distinct IP keys that reach the target as one address: said as NAT-or-target, never hidden.

A run that carries its IP keys in X-Forwarded-For against a target that does not trust the
header is the case exactly: every IP key reaches the limiter from one address (as through a NAT
or a proxy), the target behaves correctly for what it sees, and the keys by device id keep
their own budgets. The finding must say both explanations and name the addresses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from testkit import clean_env

REPO = Path(__file__).resolve().parents[2]
SCENARIO = """
name = "egress"
duration = "3s"

[[cases]]
name = "ip-paced"
behaviour = { kind = "paced", rate = 10 }
population = { keys = 3 }
rate_limit = { limit = 4, duration = "1s", vary_by = "ip" }

[[cases]]
name = "device-paced"
behaviour = { kind = "paced", rate = 10 }
population = { keys = 3 }
rate_limit = { limit = 4, duration = "1s", vary_by = "device" }
"""


def _verdict(tmp_path: Path, *options: str) -> tuple[int, dict[str, object], str]:
    scenario = tmp_path / "egress.toml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "harness.cli.main", "run", "--no-report", "--no-calibrate",
            "--scenario", str(scenario), "--out", str(out), *options]  # fmt: skip
    done = subprocess.run(argv, cwd=REPO, env=clean_env(), capture_output=True, text=True,
                          timeout=180, check=False)  # fmt: skip
    checks = json.loads((out / "verdict.json").read_text())["checks"]
    vary = next(check for check in checks if check["id"] == "vary-isolation")
    return done.returncode, vary, done.stdout + done.stderr


def test_ip_keys_seen_as_one_address_are_named_with_both_explanations(tmp_path: Path) -> None:
    code, vary, output = _verdict(tmp_path, "--forwarded-for")
    assert code == 1, output[-3000:]
    assert vary["outcome"] == "fail"
    summary = str(vary["summary"])
    assert (
        "the IP keys of 'ip-paced' (198.18.0.1, 198.18.0.2, 198.18.0.3) shared one budget"
        in summary
    )
    assert "while keys by device id kept their own" in summary
    assert "either the target does not vary by IP, or these addresses reach it as one" in summary
    assert "'Egress addresses'" in summary


def test_a_target_that_ignores_vary_by_everywhere_gets_no_egress_excuse(tmp_path: Path) -> None:
    code, vary, output = _verdict(tmp_path, "--fault", "ignore-vary-by")
    assert code == 1, output[-3000:]
    assert vary["outcome"] == "fail"
    assert "reach it as one" not in str(vary["summary"])
