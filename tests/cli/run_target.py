"""The emulator a CLI test runs against, and the small scenario most of them run.

Imported by the tests of ``tests/cli`` as a module (``from run_target import ...``), the way
``faulty_target`` is. The emulator runs in the test process, so a test can compare what the harness
recorded with what the target decided, and see every secret it handed out.
"""

from __future__ import annotations

import json
import signal
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from testkit import clean_env, harness_command

from harness.cli.calibrate import CALIBRATION_CHATS, CALIBRATION_FILE
from harness.emulator import BackgroundEmulator

__all__ = [
    "API_KEY",
    "RUN_TIMEOUT_S",
    "SMALL",
    "Target",
    "assert_interruption_said",
    "run",
    "run_command",
    "scenario_file",
]

API_KEY = "org-key-run-tests-5d1e"
RUN_TIMEOUT_S = 120

SMALL = """
name = "small"
duration = "{duration}"

[[cases]]
name = "device-hammer"
behaviour = {{ kind = "hammer" }}
population = {{ keys = 2, users_per_key = 2 }}
rate_limit = {{ limit = 5, duration = "1s", vary_by = "device" }}

[[cases]]
name = "ip-paced"
behaviour = {{ kind = "paced", rate = 10 }}
population = {{ keys = 3 }}
rate_limit = {{ limit = 4, duration = "1s", vary_by = "ip" }}

[[cases]]
name = "burst"
behaviour = {{ kind = "burst", size = 12, repeat = 2, interval = "1s" }}
rate_limit = {{ limit = 5, duration = "2s", vary_by = "device" }}

# Clients that retry after the reported wait: without them wait-honesty could not fail, and
# the verdict could not be a pass.
[[cases]]
name = "device-polite"
behaviour = {{ kind = "polite" }}
population = {{ keys = 1, users_per_key = 6 }}
rate_limit = {{ limit = 4, duration = "1s", vary_by = "device" }}
"""


class Target:
    """The emulator under the run, and every token it minted."""

    def __init__(self, emulator: BackgroundEmulator) -> None:
        self.emulator = emulator
        self.tokens: list[str] = []
        store = emulator.service.store
        mint = store.mint

        def remembering_mint(entry: Any) -> str:
            token = mint(entry)
            self.tokens.append(token)
            return token

        store.mint = remembering_mint  # type: ignore[method-assign]

    @property
    def url(self) -> str:
        return self.emulator.base_url

    def decided(self) -> int:
        """Every chat the target decided: the run's calibration chats (before the load) too."""
        stats = self.emulator.service.stats
        return stats.admitted + stats.throttled + stats.out_of_quota

    def load_started(self) -> bool:
        """Chats decided beyond the calibration's: the load has begun."""
        return self.decided() > CALIBRATION_CHATS

    def decided_by_load(self, run_dir: Path) -> int:
        """The chats the target decided, less the calibration chats ``calibration.json`` holds
        (none when the run skipped its calibration)."""
        path = run_dir / CALIBRATION_FILE
        calibration = json.loads(path.read_text()) if path.exists() else {"chats": []}
        return self.decided() - len(calibration["chats"])

    def chatbot_exists(self, chatbot_id: str) -> bool:
        answer = httpx.get(
            f"{self.url}/bv/aisk/v1/chatbots/{chatbot_id}", headers={"authorization": API_KEY}
        )
        return answer.status_code == 200


def scenario_file(tmp_path: Path, duration: str = "3s") -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL.format(duration=duration))
    return path


def run_command(*args: str) -> list[str]:
    # The report (notebooks, ~10 s a run) has its own tests: tests/report/test_build.py.
    return harness_command("run", "--no-report", *args)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        run_command(*args), cwd=cwd, env=clean_env(), capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip


def assert_interruption_said(
    run_dir: Path,
    stdout: str,
    stop: signal.Signals,
    sent: tuple[datetime, datetime],
    load_s: tuple[float, float],
) -> None:
    """The run was sent ``stop`` within ``sent`` (from just before the signal to the run's end:
    the run takes it when its process next runs, later on a busy host), at least ``load_s[0]``
    seconds into its load of ``load_s[1]`` seconds: ``verdict.json``, the summary line and the
    files say it was interrupted, by what and when, and nothing is missing."""
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["interrupted"] is True
    stopped = verdict["interruption"]
    assert stopped["signal"] == stop.name
    assert stopped["at"].endswith("Z")  # UTC, RFC 3339
    at = datetime.fromisoformat(stopped["at"])
    # written to the millisecond, truncated: up to 1 ms before the instant it was taken
    assert sent[0].timestamp() - 0.001 <= at.timestamp() <= sent[1].timestamp(), stopped
    assert load_s[0] <= stopped["after_s"] < load_s[1], stopped
    assert stopped["of_s"] == load_s[1]
    state = verdict["status"].replace("-", " ").upper()
    after = f"{stopped['after_s']:.1f}"
    assert f"\n{state} (interrupted by {stop.name} at {after} s of {load_s[1]:g} s): " in stdout
    assert (run_dir / "locust.html").is_file()  # Locust's SIGTERM path used to skip it
    assert "not written" not in stdout
