"""The Locust child's life: its master's port, and nothing of its session left once it ends."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psutil
import pytest

from harness.cli import load_job
from harness.cli.load_job import free_master_port, run_locust

GRANDCHILD = """
import subprocess, sys
sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1], "w").write(str(sleeper.pid))
sys.exit(1)  # as a master that failed to bind leaves its forked workers behind
"""


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_what_the_child_leaves_in_its_session_is_stopped_when_it_ends(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    code = run_locust([sys.executable, "-c", GRANDCHILD, str(pid_file)], {})
    assert code == 1
    sleeper = int(pid_file.read_text())
    deadline = time.monotonic() + 10  # SIGKILL is sent before run_locust returns
    while not gone(sleeper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(sleeper)


def test_the_master_port_is_below_the_ephemeral_range_and_free_on_every_address() -> None:
    ephemeral = load_job._ephemeral_ports()
    assert ephemeral.start > load_job.MASTER_PORT_FLOOR + 64  # Linux's default, and this host's
    for _ in range(20):
        port = free_master_port()
        assert load_job.MASTER_PORT_FLOOR <= port < ephemeral.start
        with socket.socket() as probe:
            probe.bind(("", port))  # what Locust's master does next


def test_a_port_someone_listens_on_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("", 0))
        holder.listen(1)
        taken = int(holder.getsockname()[1])
        spare = free_master_port()  # below the ephemeral range: no one is handed it meanwhile

        def sample(population: Sequence[int], k: int) -> list[int]:
            return [taken, spare]

        monkeypatch.setattr(load_job.random, "sample", sample)
        assert free_master_port() == spare


def test_no_free_port_at_all_is_one_harness_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as holder:
        holder.bind(("", 0))
        holder.listen(1)
        taken = int(holder.getsockname()[1])
        monkeypatch.setattr(load_job.random, "sample", lambda population, k: [taken] * k)
        with pytest.raises(load_job.HarnessError, match="no free port for Locust's master"):
            free_master_port()
