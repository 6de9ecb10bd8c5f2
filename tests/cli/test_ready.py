"""New chatbots may be TRAINING for a while: the run waits until every one is READY before any
chat, and a chatbot that ends FAILED ends the run (exit 2, named) with what was made deleted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr
from run_target import API_KEY, Target, run, scenario_file

from harness.emulator import BackgroundEmulator, EmulatorConfig
from harness.emulator.training import Training
from harness.run.reader import read_records

pytestmark = pytest.mark.locust

TRAINING_NS = 3_000_000_000


def run_on_training_target(
    tmp_path: Path, fails: bool, *extra: str
) -> tuple[subprocess.CompletedProcess[str], Target]:
    """The small scenario for 2 s against an emulator whose chatbots train first (and fail,
    with ``fails``); the target is kept for what it decided (its service outlives its server)."""
    config = EmulatorConfig(api_keys=(SecretStr(API_KEY),), training=Training(TRAINING_NS, fails))
    with BackgroundEmulator(config) as emulator:
        target = Target(emulator)
        done = run(
            ["--target", target.url, "--api-key", API_KEY, "--scenario",
             str(scenario_file(tmp_path, "2s")), "--out", str(tmp_path / "run"), *extra],
            tmp_path,
        )  # fmt: skip
    return done, target


def test_no_chat_is_sent_before_every_chatbot_is_ready(tmp_path: Path) -> None:
    done, target = run_on_training_target(tmp_path, fails=False)
    stats = target.emulator.service.stats
    assert done.returncode == 0, done.stdout[-3000:]
    assert stats.not_ready == 0  # the target saw no chat while a chatbot trained
    assert stats.admitted > 0
    chats = read_records(tmp_path / "run")
    chats = chats[chats["kind"] == "chat"]
    assert len(chats) > 0
    assert (chats["grpc_code"] != 9).all()  # FAILED_PRECONDITION: not ready


def test_a_chatbot_that_fails_its_training_ends_the_run_naming_it(tmp_path: Path) -> None:
    done, target = run_on_training_target(tmp_path, True, "--no-calibrate")
    left = target.emulator.service.store.count(0)
    assert done.returncode == 2
    assert "CHATBOT_STATUS_FAILED" in done.stderr
    assert "Traceback" not in done.stderr
    assert left == 0  # every chatbot made was deleted
    # Nothing was recorded and nothing is left on the target: no run directory is left to be
    # mistaken for a run (a chatbot left behind would have kept it, with recording.json).
    assert not (tmp_path / "run").exists()


def test_a_calibration_chatbot_that_fails_its_training_ends_the_run_before_any_load(
    tmp_path: Path,
) -> None:
    done, target = run_on_training_target(tmp_path, fails=True)
    left, decided = target.emulator.service.store.count(0), target.decided()
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert "calibration:" in last, last
    assert "CHATBOT_STATUS_FAILED" in last, last
    assert "Traceback" not in done.stderr
    assert (left, decided) == (0, 0)  # its chatbot deleted, and no chat sent at all
    assert not (tmp_path / "run" / "run.json").exists()  # no case chatbot was made
