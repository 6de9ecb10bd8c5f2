"""``aisk-harness run`` end to end: Locust in a subprocess against an emulator on loopback.

The emulator runs in the test process, so the tests can compare what the harness recorded with
what the target decided, and see every secret it handed out.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from pydantic import SecretStr

from harness.emulator import BackgroundEmulator, EmulatorConfig
from harness.load.results import read_records

pytestmark = pytest.mark.locust

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
        stats = self.emulator.service.stats
        return stats.admitted + stats.throttled + stats.out_of_quota

    def chatbot_exists(self, chatbot_id: str) -> bool:
        answer = httpx.get(
            f"{self.url}/bv/aisk/v1/chatbots/{chatbot_id}", headers={"authorization": API_KEY}
        )
        return answer.status_code == 200


@pytest.fixture
def target() -> Iterator[Target]:
    with BackgroundEmulator(EmulatorConfig(api_keys=(SecretStr(API_KEY),))) as emulator:
        yield Target(emulator)


def scenario_file(tmp_path: Path, duration: str = "3s") -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL.format(duration=duration))
    return path


def run_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", "run", *args]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AISK_")}


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        run_command(*args), cwd=cwd, env=clean_env(), capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip


def load_chats(records: pd.DataFrame) -> pd.DataFrame:
    """The load's chat requests, without the set-up's access probes."""
    probe = records["phase"].astype(str).str.startswith("access:")
    return records[(records["kind"] == "chat") & ~probe]


def locust_request_count(run_dir: Path) -> int:
    """The requests Locust itself counted, from its final statistics."""
    entries = json.loads((run_dir / "locust_stats.json").read_text())
    return sum(int(entry["num_requests"]) for entry in entries)


def test_a_run_records_every_request_once_and_cleans_up(target: Target, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path)), "--out", str(run_dir)],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    records = read_records(run_dir)
    assert records["request_id"].is_unique
    chats = load_chats(records)
    assert len(chats) > 0
    assert chats["request_id"].is_unique
    assert len(chats) == locust_request_count(run_dir) == target.decided()
    assert set(chats["case"]) == {"device-hammer", "ip-paced", "burst"}
    # The summary table is printed with the run directory.
    assert "device-hammer" in done.stdout
    assert str(run_dir) in done.stdout
    plan = json.loads((run_dir / "run.json").read_text())
    assert all(not target.chatbot_exists(case["chatbot_id"]) for case in plan["cases"])
    assert (run_dir / "locust.html").is_file()


def test_vary_by_ip_uses_distinct_loopback_peers_that_the_target_saw(
    target: Target, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path, "2s")), "--out", str(run_dir)],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    records = load_chats(read_records(run_dir))
    ip_case = records[records["case"] == "ip-paced"]
    sources = set(ip_case["source_ip"])
    assert len(sources) == 3
    assert all(ip.startswith("127.") and not ip.startswith("127.0.0.") for ip in sources)
    assert sources <= target.emulator.service.stats.peers
    # Each key was counted on its own: every key got its own budget of 4 in its first second.
    first_second = ip_case[ip_case["send_mono_ns"] < ip_case["send_mono_ns"].min() + 900_000_000]
    assert (first_second[first_second["outcome"] == "ok"].groupby("source_ip").size() == 4).all()


def test_no_secret_reaches_any_output(target: Target, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path, "2s")), "--out", str(run_dir)],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    secrets = [API_KEY, *target.tokens]
    assert len(target.tokens) == 3
    outputs = {"stdout": done.stdout.encode(), "stderr": done.stderr.encode()}
    outputs |= {str(path): path.read_bytes() for path in run_dir.rglob("*") if path.is_file()}
    for name, content in outputs.items():
        for secret in secrets:
            assert secret.encode() not in content, f"a secret leaked into {name}"


def test_two_worker_processes_record_every_request_exactly_once(
    target: Target, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path)), "--out", str(run_dir), "--processes", "2"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    records = read_records(run_dir)
    assert records["request_id"].is_unique
    chats = load_chats(records)
    diagnosis = str(chats["outcome"].value_counts().to_dict())
    assert len(chats) == target.decided() == locust_request_count(run_dir), diagnosis
    assert set(chats["process"]) <= {"w0", "w1"}
    recording = json.loads((run_dir / "recording.json").read_text())
    for worker in recording["workers"].values():
        assert worker["recorded"] == worker["received"]
    # Every key is sent by exactly one process.
    assert (chats.groupby(["case", "key", "device_id"])["process"].nunique() == 1).all()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_keeps_every_request_sent_so_far(
    target: Target, tmp_path: Path, stop: signal.Signals
) -> None:
    run_dir = tmp_path / "run"
    child = subprocess.Popen(
        run_command("--target", target.url, "--api-key", API_KEY, "--scenario",
                    str(scenario_file(tmp_path, "60s")), "--out", str(run_dir)),
        cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while target.decided() < 300 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert target.decided() >= 300, "the run never got going"
        child.send_signal(stop)
        stdout, stderr = child.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "CONFORMANT: 0 of 11 checks failed" in stdout  # cut requests are ours, not the target's
    records = load_chats(read_records(run_dir))
    answered = records[records["error_class"] != "interrupted"]
    # Every request the target decided was recorded; the rest were cut in flight, and say so.
    assert len(answered) <= target.decided() <= len(records)
    plan = json.loads((run_dir / "run.json").read_text())
    assert all(not target.chatbot_exists(case["chatbot_id"]) for case in plan["cases"])


def test_the_main_job_runs_against_the_embedded_emulator(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run(["--duration", "2s", "--out", str(run_dir)], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "embedded emulator at http://127.0.0.1:" in done.stdout
    records = read_records(run_dir)
    assert {"ok", "throttled"} <= set(records["outcome"])
    assert json.loads((run_dir / "run.json").read_text())["embedded_emulator"] is True


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--scenario", "missing.toml"], "missing.toml"),
        (["--duration", "5x"], "--duration"),
        (["--processes", "0"], "--processes"),
        (["--target", "ftp://example"], "--target"),
        (["--target", "http://127.0.0.1:9"], "--api-key"),
    ],
)
def test_bad_arguments_end_with_one_line_and_exit_code_2(
    args: list[str], named: str, tmp_path: Path
) -> None:
    done = run([*args, "--out", str(tmp_path / "run")], tmp_path)
    assert done.returncode == 2
    assert named in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_unreachable_target_or_a_refused_key_is_exit_code_2(
    target: Target, tmp_path: Path
) -> None:
    scenario = str(scenario_file(tmp_path, "1s"))
    unreachable = run(
        ["--target", "http://127.0.0.1:9", "--api-key", API_KEY, "--scenario", scenario,
         "--out", str(tmp_path / "a")],
        tmp_path,
    )  # fmt: skip
    assert unreachable.returncode == 2
    assert "cannot connect" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    refused = run(
        ["--target", target.url, "--api-key", "not-a-key-of-this-target", "--scenario", scenario,
         "--out", str(tmp_path / "b")],
        tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "401" in refused.stderr
    assert "not-a-key-of-this-target" not in refused.stderr + refused.stdout


def test_check_re_judges_a_saved_run_offline(target: Target, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path, "2s")), "--out", str(run_dir)],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    first = json.loads((run_dir / "verdict.json").read_text())
    (run_dir / "verdict.json").unlink()
    again = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "check", str(run_dir)],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert again.returncode == 0
    assert json.loads((run_dir / "verdict.json").read_text()) == first
    assert (run_dir / "junit.xml").is_file()
    missing = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "check", str(tmp_path / "nowhere")],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
