"""Every record reaches the disk on every stop path, and the run says so (``recording.json``).

The invariant, asserted on every run here: for every process, the rows the parts hold equal what
it recorded less what was counted lost, and nothing was lost; no worker is called lost when none
was. A distributed run stopped by SIGINT at a random instant is the case that lost records before
(the master closed its sink before the workers' last batches had arrived).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from run_target import (
    API_KEY,
    RUN_TIMEOUT_S,
    Target,
    assert_interruption_said,
    run,
    run_command,
    scenario_file,
)
from testkit import clean_env, load_chats

from harness.run.reader import read_records

pytestmark = pytest.mark.locust


def assert_every_record_written(run_dir: Path, output: str) -> None:
    recording = json.loads((run_dir / "recording.json").read_text())
    rows = read_records(run_dir, ["process"])["process"].astype(str).value_counts().to_dict()
    assert recording["records_lost"] == 0
    assert recording["lost_workers"] == []
    for process, seen in recording["processes"].items():
        assert seen["lost"] == 0, process
        assert rows.get(process, 0) == seen["written"] == seen["recorded"] - seen["lost"], process
    assert sum(rows.values()) == recording["records_written"]
    assert "was lost" not in output  # the warning users must heed, only when it is true


def stop_at(
    target: Target, tmp_path: Path, stop: signal.Signals, after_s: float, *, must_pass: bool
) -> Path:
    """A two-worker run of a minute, sent ``stop`` ``after_s`` after its load began.

    ``must_pass``: the stop came late enough for every check to have had traffic that could fail
    it (the 3 s the small scenario passes in), so the verdict must be conformant. Earlier, a
    check may have had none (exit 3, said so); never a failure, never a missing record.
    """
    run_dir = tmp_path / "run"
    child = subprocess.Popen(
        run_command("--target", target.url, "--api-key", API_KEY, "--scenario",
                    str(scenario_file(tmp_path, "60s")), "--out", str(run_dir),
                    "--processes", "2"),
        cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not target.load_started() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert target.load_started(), "the run never got going"
        time.sleep(after_s)
        before = datetime.now(UTC)
        child.send_signal(stop)
        stdout, stderr = child.communicate(timeout=RUN_TIMEOUT_S)
        sent = (before, datetime.now(UTC))
    finally:
        if child.poll() is None:
            child.kill()
    assert "Traceback" not in stderr
    assert_every_record_written(run_dir, stdout + stderr)
    assert_interruption_said(run_dir, stdout, stop, sent, (after_s, 60.0))
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert [check["id"] for check in verdict["checks"] if check["outcome"] == "fail"] == []
    whole = (verdict["missing"], verdict["lost_processes"], verdict["slots_not_run"])
    assert (whole, verdict["unanswered"]) == (([], [], []), {})
    if must_pass:
        assert verdict["status"] == "conformant", stdout[-3000:]
    assert child.returncode == (0 if verdict["status"] == "conformant" else 3), stderr[-3000:]
    records = load_chats(read_records(run_dir))
    answered = records[records["error_class"] != "interrupted"]
    # Every request the target decided was recorded; the rest were cut in flight, and say so.
    assert len(answered) <= target.decided_by_load(run_dir) <= len(records)
    return run_dir


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_distributed_run_stopped_by_a_signal_writes_every_record(
    target: Target, tmp_path: Path, stop: signal.Signals
) -> None:
    stop_at(target, tmp_path, stop, after_s=3.5, must_pass=True)


def test_a_distributed_run_that_ends_by_itself_writes_every_record(
    target: Target, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path, "2s")), "--out", str(run_dir), "--processes", "2"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert_every_record_written(run_dir, done.stdout + done.stderr)
    assert len(load_chats(read_records(run_dir))) == target.decided_by_load(run_dir)
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert (verdict["interrupted"], verdict["interruption"]) == (False, None)
    assert "CONFORMANT: 0 of" in done.stdout


def test_a_local_run_that_ends_by_itself_writes_every_record(
    target: Target, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path, "2s")), "--out", str(run_dir)],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert_every_record_written(run_dir, done.stdout + done.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("repetition", range(20))
def test_distributed_runs_stopped_by_sigint_at_random_instants_lose_nothing(
    target: Target, tmp_path: Path, repetition: int
) -> None:
    after_s = random.Random(repetition).uniform(0.0, 6.0)
    stop_at(target, tmp_path, signal.SIGINT, after_s, must_pass=after_s >= 3.5)


def _locust_workers(run_pid: int) -> list[psutil.Process]:
    """The Locust workers of a ``--processes`` run: its Locust master's forks (the master's
    other child, the compactor, runs a command of its own)."""
    masters = [p for p in psutil.Process(run_pid).children() if p.children()]
    return [
        child
        for master in masters
        for child in master.children()
        if child.cmdline() == master.cmdline()
    ]


def test_a_worker_starved_past_locusts_heartbeat_limit_comes_back_into_the_run(
    target: Target, tmp_path: Path
) -> None:
    # SIGSTOP is a host starved of CPU, as long as Locust's heartbeat allows and more: the master
    # marks the worker missing (no heartbeat for about 3 s). It comes back before
    # MISSING_GRACE_S: its slots run to their end, its records are in the run, nobody is lost.
    run_dir = tmp_path / "run"
    child = subprocess.Popen(
        run_command("--target", target.url, "--api-key", API_KEY, "--scenario",
                    str(scenario_file(tmp_path, "12s")), "--out", str(run_dir),
                    "--processes", "2"),
        cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not target.load_started() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert target.load_started(), "the run never got going"
        time.sleep(1.0)
        workers = _locust_workers(child.pid)
        assert len(workers) == 2, workers
        workers[0].suspend()
        time.sleep(6.0)  # twice Locust's three missed heartbeats
        workers[0].resume()
        stdout, stderr = child.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
    output = stdout + stderr
    assert "Traceback" not in output
    assert "failed to send heartbeat, setting state to missing" in output  # it was starved
    assert "self-healed" in output
    assert_every_record_written(run_dir, output)
    recording = json.loads((run_dir / "recording.json").read_text())
    assert all(seen["written"] > 0 for seen in recording["processes"].values()), recording
    assert {"w0", "w1"} <= set(recording["processes"])
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["lost_processes"] == []
    assert verdict["slots_not_run"] == []
    assert [check["id"] for check in verdict["checks"] if check["outcome"] == "fail"] == []
