"""``--limiter ENGINE`` at the command line: the engines listed, and every way it can go wrong
(an unknown name, no ``redis-server``, a Redis that dies mid-run, a ``--redis`` that does not
answer) is one line and exit 2 with nothing left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from testkit import clean_env, harness_command

from harness.emulator.engines import Engine

SCENARIO = """
name = "engine-dies"
duration = "20s"

[[cases]]
name = "device-open"
behaviour = { kind = "open", rate = 4, max_in_flight = 8 }
population = { keys = 1 }
rate_limit = { limit = 5, duration = "2s", vary_by = "device" }
"""


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    return lines[0]


def test_serve_help_lists_every_engine() -> None:
    wide = clean_env(COLUMNS="1000")  # argparse wraps help to the terminal's width
    done = subprocess.run(
        harness_command("serve", "--help"), capture_output=True, text=True, env=wide, check=True
    )
    for engine in Engine:
        assert f"{engine.value}: " in done.stdout


def test_an_unknown_engine_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        harness_command("run", "--limiter", "leaky-whatever", "--out", str(tmp_path / "r")),
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2
    assert "leaky-whatever" in _one_line(done.stderr)
    assert not (tmp_path / "r").exists()


def test_no_redis_server_is_one_line_naming_the_package(tmp_path: Path) -> None:
    # A PATH with this interpreter's folder only: no redis-server on it.
    env = clean_env(PATH=str(Path(sys.executable).parent))
    done = subprocess.run(
        harness_command("serve", "--port", "0", "--api-key", "k", "--limiter", "throttled-gcra"),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert "apt-get install redis-server" in _one_line(done.stderr)


def test_a_redis_url_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    url = f"unix://{tmp_path}/nothing-here.sock"
    done = subprocess.run(
        harness_command(
            "serve", "--port", "0", "--api-key", "k", "--limiter", "throttled-gcra", "--redis", url
        ),
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no Redis answers there" in _one_line(done.stderr)


def _redis_child(run: psutil.Process, timeout_s: float) -> psutil.Process:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in run.children(recursive=True):
            if child.name().startswith("redis-server"):
                return child
        time.sleep(0.1)
    raise AssertionError("the run started no redis-server")


@pytest.mark.locust
def test_a_redis_that_dies_mid_run_is_one_line_exit_2_and_nothing_left(tmp_path: Path) -> None:
    scenario = tmp_path / "engine.toml"
    scenario.write_text(SCENARIO)
    command = harness_command(
        "run", "--scenario", str(scenario), "--limiter", "limits-moving-window",
        "--out", str(tmp_path / "run"), "--no-report", "--no-calibrate",
    )  # fmt: skip
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        cwd=tmp_path,
    )
    try:
        run = psutil.Process(process.pid)
        redis = _redis_child(run, 60)
        # Let the load begin (the run's plan is written once its chatbots are made).
        deadline = time.monotonic() + 90
        while not (tmp_path / "run" / "run.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        descendants = run.children(recursive=True)
        os.kill(redis.pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 2, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if "Redis failed mid-run" in line]
    assert len(lines) == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    _, alive = psutil.wait_procs(descendants, timeout=10)
    assert alive == []
