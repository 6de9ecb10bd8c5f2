"""``aisk-harness serve`` as a user runs it: a real subprocess, a real port, a real signal."""

from __future__ import annotations

import argparse
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
from pydantic import SecretStr

from harness.api.chatbot import ChatbotStatus
from harness.cli.serve import add_emulator_options, emulator_config, emulator_description
from harness.emulator import LatencyRange, Training

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
        (["--latency", "5ms..", "--api-key", KEY], "--latency"),
        (["--model-latency", "1s..2ms", "--api-key", KEY], "--model-latency"),
        (["--model-latency=-5ms", "--api-key", KEY], "--model-latency"),
        (["--decision-delay", "soon", "--api-key", KEY], "--decision-delay"),
        (["--training", "soon", "--api-key", KEY], "--training"),
        (["--training=-1s", "--api-key", KEY], "--training"),
        (["--training-fails", "--api-key", KEY], "--training-fails"),
        ([], "--api-key"),
        (["--api-key", ""], "--api-key"),
        # out of range: bind() raised OverflowError, a traceback with exit 1
        (["--port", "99999", "--api-key", KEY], "--port: expected a port from 0 to 65535"),
        (["--port=-1", "--api-key", KEY], "--port"),
        (["--port", "http", "--api-key", KEY], "--port"),
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


def _base_url(process: subprocess.Popen[str]) -> str:
    line = first_line(process)
    match = LISTENING.fullmatch(line.rstrip("\n"))
    assert match is not None, line
    return match[1]


def _timed_chat(client: httpx.Client, token: str) -> tuple[httpx.Response, float]:
    body = {"question": "how long?", "kb_ids": [], "metadata": {"device": {"id": "d-1"}}}
    sent = time.monotonic()
    answer = client.post(
        "/bv/aisk/v1/prompts:chat", json=body, headers={"authorization": f"Bearer {token}"}
    )
    return answer, time.monotonic() - sent


def _chatbot_token(client: httpx.Client) -> tuple[dict[str, Any], str]:
    auth = {"authorization": f"Bearer {KEY}"}
    created = client.post("/bv/aisk/v1/chatbots", json=VALID_CHATBOT, headers=auth)
    assert created.status_code == 200, created.text
    chatbot = created.json()["chatbot"]
    minted = client.post(f"/bv/aisk/v1/chatbots/{chatbot['id']}/token", json={}, headers=auth)
    assert minted.status_code == 200, minted.text
    return chatbot, minted.json()["token"]


def test_serve_delays_refusals_by_the_latency_and_admissions_by_the_sum(spawn: Any) -> None:
    """Lower bounds only: a busy machine can make answers slower, never faster."""
    process = spawn(
        "--port", "0", "--api-key", KEY,
        "--decision-delay", "10ms", "--latency", "50ms", "--model-latency", "100ms",
    )  # fmt: skip
    with httpx.Client(base_url=_base_url(process), timeout=10.0) as client:
        _, token = _chatbot_token(client)
        timed = [_timed_chat(client, token) for _ in range(6)]  # the limit is 5 a minute
    assert [answer.status_code for answer, _ in timed] == [200] * 5 + [429]
    assert all(took >= 0.160 for _, took in timed[:5])
    assert timed[5][1] >= 0.060
    _, err, _ = stop(process, signal.SIGTERM)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_serve_with_training_shows_it_and_refuses_chat_with_400_code_9(spawn: Any) -> None:
    process = spawn("--port", "0", "--api-key", KEY, "--training", "1h")
    with httpx.Client(base_url=_base_url(process), timeout=10.0) as client:
        chatbot, token = _chatbot_token(client)
        refused, _ = _timed_chat(client, token)
        stats = client.get("/_emulator/stats", headers={"authorization": KEY}).json()
    assert chatbot["status"] == ChatbotStatus.TRAINING.value
    assert (refused.status_code, refused.json()["code"]) == (400, 9)
    assert (stats["not_ready"], stats["admitted"]) == (1, 0)
    _, err, _ = stop(process, signal.SIGTERM)
    assert process.returncode == 0, err


def test_serve_help_describes_every_emulator_option(spawn: Any) -> None:
    process = spawn("--help")
    out, err = process.communicate(timeout=START_TIMEOUT_S)
    assert process.returncode == 0, err
    text = " ".join(out.split())  # argparse wraps the help
    for option in (
        "--latency", "--model-latency", "--decision-delay", "--training", "--training-fails",
        "--max-concurrency", "--max-queue", "--seed",
    ):  # fmt: skip
        assert f"{option} " in text
    assert "refusals included" in text
    assert "added to admitted chat answers only" in text


def test_the_emulator_options_reach_the_config_and_run_json_description() -> None:
    parser = argparse.ArgumentParser()
    add_emulator_options(parser)
    args = parser.parse_args(
        ["--decision-delay", "1ms..5ms", "--latency", "20ms", "--model-latency", "800ms..3s",
         "--training", "5s", "--training-fails"]
    )  # fmt: skip
    config = emulator_config(args, [KEY])
    ms = 1_000_000
    assert config.decision_delay == LatencyRange(1 * ms, 5 * ms)
    assert config.latency == LatencyRange(20 * ms, 20 * ms)
    assert config.model_latency == LatencyRange(800 * ms, 3000 * ms)
    assert config.training == Training(5_000 * ms, fails=True)
    assert config.api_keys == (SecretStr(KEY),)
    description = emulator_description(args)
    assert {key: description[key] for key in (
        "decision_delay", "latency", "model_latency", "training", "training_fails"
    )} == {
        "decision_delay": "1ms..5ms", "latency": "20ms", "model_latency": "800ms..3s",
        "training": "5s", "training_fails": True,
    }  # fmt: skip
    assert KEY not in str(description)
    defaults = emulator_config(parser.parse_args([]), [KEY])
    assert (defaults.decision_delay, defaults.latency, defaults.model_latency) == (None,) * 3
    assert defaults.training == Training()


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
