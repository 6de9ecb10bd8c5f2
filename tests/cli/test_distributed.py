"""``run --master`` and ``worker``: their options, checked before anything is made, one line each.

The distributed run itself, over hosts with addresses of their own:
tests/hosts/test_distributed_run.py.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testkit import clean_env

from harness.cli.distributed import DEFAULT_MASTER_PORT, parse_endpoint, users_for_workers
from harness.cli.worker import RETRY_S, wait_for_master
from harness.errors import ConfigError, TargetError

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.5:6000", ("10.0.0.5", 6000)),
        ("10.0.0.5", ("10.0.0.5", DEFAULT_MASTER_PORT)),
        ("master.lan:5557", ("master.lan", 5557)),
        (":7000", ("0.0.0.0", 7000)),
    ],
)
def test_endpoints_take_a_host_and_an_optional_port(text: str, expected: tuple[str, int]) -> None:
    assert parse_endpoint(text, "--master-bind", default_host="0.0.0.0") == expected


@pytest.mark.parametrize("text", ["h:0", "h:65536", "h:port", ":5557"])
def test_bad_endpoints_name_the_option(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^--master '"):
        parse_endpoint(text, "--master")


@pytest.mark.parametrize(("slots", "workers"), [(1, 1), (7, 3), (24, 3), (5, 8), (100, 7)])
def test_every_worker_gets_users_for_its_own_slots_and_a_share_of_the_rest(
    slots: int, workers: int
) -> None:
    users = users_for_workers(slots, workers)
    # Locust spreads users evenly: the fewest a worker gets is users // workers. A worker owns
    # at most ceil(slots / workers) + (its share of the rest) slots when the keys go round.
    assert users // workers >= -(-slots // workers)
    assert users >= slots


def _worker(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "harness.cli.main", "worker", *args]
    return subprocess.run(argv, cwd=REPO, env=clean_env(), capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--master", "10.0.0.5:0"], "--master '10.0.0.5:0'"),
        (["--master", "10.0.0.5", "--source-ip", "10.0.0.300"], "--source-ip '10.0.0.300'"),
        (["--master", "10.0.0.5", "--source-ip", "192.0.2.77"], "this host cannot send from it"),
        (["--master", "10.0.0.5", "--master-timeout", "soon"], "--master-timeout"),
        (["--master", "10.0.0.5", "--master-timeout", "0s"], "--master-timeout '0s'"),
    ],
)
def test_a_worker_with_bad_options_says_so_in_one_line_and_exits_2(
    args: list[str], named: str
) -> None:
    done = _worker(*args)
    assert done.returncode == 2
    assert named in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


class FakeTime:
    """A clock that only the waits move."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_worker_tries_the_master_every_second_and_gives_up_at_its_timeout() -> None:
    fake = FakeTime()
    with pytest.raises(TargetError) as caught:
        # port 1 on loopback: refused at once, whatever the host runs
        wait_for_master("127.0.0.1", 1, 3.5, clock=fake.clock, sleep=fake.sleep)
    assert fake.sleeps == [RETRY_S, RETRY_S, RETRY_S, 0.5]  # tried at 0, 1, 2, 3 and 3.5 s
    message = str(caught.value)
    assert message.startswith("--master 127.0.0.1:1: no master could be reached in 3.5 s (")
    assert "\n" not in message


def test_a_worker_joins_a_master_that_listens() -> None:
    with socket.create_server(("127.0.0.1", 0)) as master:
        fake = FakeTime()
        wait_for_master("127.0.0.1", master.getsockname()[1], 5, clock=fake.clock, sleep=fake.sleep)
    assert fake.sleeps == []


def test_a_worker_whose_master_cannot_be_reached_gives_up_in_one_line() -> None:
    started = time.monotonic()
    done = _worker("--master", "127.0.0.1:1", "--master-timeout", "1s")
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("aisk-harness worker: error: --master 127.0.0.1:1: no master")
    assert len(done.stderr.strip().splitlines()) == 1
    assert elapsed >= 1.0  # it waited as long as it was told (it used to wait for ever)
