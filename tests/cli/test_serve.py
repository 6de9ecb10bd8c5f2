"""``aisk-harness serve`` as a user runs it: a real subprocess, a real port, a real signal."""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
KEY = "serve-test-key-d41f7a93c2"
API_KEY_ENV = "AISK_API_KEY"
LISTENING = re.compile(r"aisk-harness emulator listening on (http://127\.0\.0\.1:(\d+)) \(.*\)")
START_TIMEOUT_S = 30.0  # a cold interpreter importing pydantic, starlette and uvicorn
EXIT_TIMEOUT_S = 10.0
VALID_CHATBOT = {
    "chatbot": {
        "name": "cli bot",
        "setting": {"model": "MODEL_LITE", "response_length": {"enabled": False}},
        "appearance": {"enabled": False},
        "reference": {},
        "rate_limit": {
            "enabled": True,
            "setting": {"limit": 5, "duration": "1m", "vary_by": "RATE_LIMIT_VARY_BY_DEVICE_ID"},
        },
        "quota_limit": {"enabled": False},
    }
}


def _env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != API_KEY_ENV}
    return {**env, **extra}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", "serve", *args]


@pytest.fixture
def spawn() -> Iterator[Any]:
    """Start ``serve`` subprocesses; any still running at teardown is killed (by its own pid)."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            _command(*args),
            cwd=REPO,
            env=env if env is not None else _env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=EXIT_TIMEOUT_S)


def first_line(process: subprocess.Popen[str], timeout_s: float = START_TIMEOUT_S) -> str:
    """The first line of stdout, or a failure (with stderr) if none comes in time."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            process.kill()
            _, err = process.communicate(timeout=EXIT_TIMEOUT_S)
            pytest.fail(f"serve printed nothing in {timeout_s}s; stderr: {err!r}")
    line = process.stdout.readline()
    if not line:
        _, err = process.communicate(timeout=EXIT_TIMEOUT_S)
        pytest.fail(f"serve exited with {process.returncode} before listening; stderr: {err!r}")
    return line


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[str, str, float]:
    """Send ``sig``; return the rest of stdout, stderr and how long the exit took."""
    sent = time.monotonic()
    process.send_signal(sig)
    out, err = process.communicate(timeout=EXIT_TIMEOUT_S)
    return out, err, time.monotonic() - sent


def test_serve_listens_answers_and_stops_cleanly_on_sigint(spawn: Any) -> None:
    process = spawn("--port", "0", "--api-key", KEY)
    line = first_line(process)
    match = LISTENING.fullmatch(line.rstrip("\n"))
    assert match is not None, line
    base_url = match[1]
    assert int(match[2]) > 0
    assert "1 organisation(s)" in line
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        created = client.post(
            "/bv/aisk/v1/chatbots", json=VALID_CHATBOT, headers={"authorization": f"Bearer {KEY}"}
        )
        assert created.status_code == 200, created.text
        assert created.json()["chatbot"]["status"] == "CHATBOT_STATUS_READY"
        refused = client.post(
            "/bv/aisk/v1/chatbots", json=VALID_CHATBOT, headers={"authorization": "Bearer nope"}
        )
        assert refused.status_code == 401
    out, err, took = stop(process, signal.SIGINT)
    assert process.returncode == 0, err
    assert took < EXIT_TIMEOUT_S
    assert "Traceback" not in err
    assert err == ""
    assert out == ""
    for text in (line, out, err):
        assert KEY not in text


def test_serve_takes_its_key_from_the_environment_and_stops_cleanly_on_sigterm(
    spawn: Any,
) -> None:
    process = spawn("--port", "0", "--fault", "admit-one-extra", env=_env(**{API_KEY_ENV: KEY}))
    line = first_line(process)
    match = LISTENING.fullmatch(line.rstrip("\n"))
    assert match is not None, line
    assert "fault admit-one-extra" in line
    with httpx.Client(base_url=match[1], timeout=10.0) as client:
        created = client.post(
            "/bv/aisk/v1/chatbots", json=VALID_CHATBOT, headers={"authorization": KEY}
        )
        assert created.status_code == 200, created.text
    out, err, _ = stop(process, signal.SIGTERM)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert KEY not in line + out + err


@pytest.fixture
def held_port() -> Iterator[socket.socket]:
    """A loopback port some other socket is listening on."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        yield holder
    finally:
        holder.close()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--latency", "5x", "--api-key", KEY], "--latency"),
        (["--latency", "2s..1s", "--api-key", KEY], "--latency"),
        (["--org-timezone", "Mars/Olympus", "--api-key", KEY], "--org-timezone"),
        (["--fault", "nope", "--api-key", KEY], "--fault"),
        (["--algorithm", "leaky", "--api-key", KEY], "--algorithm"),
        ([], "--api-key"),
        (["--api-key", ""], "--api-key"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_option(
    spawn: Any, args: list[str], option: str
) -> None:
    process = spawn("--port", "0", *args)
    out, err = process.communicate(timeout=START_TIMEOUT_S)
    assert process.returncode == 2, (out, err)
    assert out == ""  # nothing claims to be listening
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert option in errors[0]
    assert errors[0].startswith("aisk-harness serve: error: ")
    assert KEY not in err


def test_a_port_in_use_exits_2_naming_the_port(spawn: Any, held_port: socket.socket) -> None:
    port = held_port.getsockname()[1]
    process = spawn("--port", str(port), "--api-key", KEY)
    out, err = process.communicate(timeout=START_TIMEOUT_S)
    assert process.returncode == 2, (out, err)
    assert out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1
    assert err.startswith("aisk-harness serve: error: --host/--port")
    assert str(port) in err


def test_a_fault_naming_no_registered_check_stops_the_import_of_serve() -> None:
    """The faults --fault offers are validated against the check registry when the CLI module
    is imported: a fault whose proof would name no check never reaches a run."""
    seeded = (
        "from harness.emulator.policy import FAULTS, Fault; "
        "FAULTS['admit-two'] = Fault('admit-two', 'admits limit+2', 'overadmission'); "
        "import harness.cli.serve"
    )
    done = subprocess.run(
        [sys.executable, "-c", seeded], cwd=REPO, env=_env(), capture_output=True, text=True,
        timeout=START_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "UnknownCheckError: 'admit-two' names check 'overadmission'" in done.stderr
    clean = subprocess.run(
        [sys.executable, "-c", "import harness.cli.serve"], cwd=REPO, env=_env(),
        capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert (clean.returncode, clean.stderr) == (0, "")
