"""The whole suite's fixtures. Its folder on ``sys.path`` also makes ``testkit`` and ``run_dirs``
importable."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import numpy as np
import pytest
from run_dirs import normal_ms, verdict, write_capacity_run, write_run
from testkit import clean_env

from harness.conformance.verdict import Verdict

API_FIXTURES = Path(__file__).parent / "api" / "fixtures"


@pytest.fixture
def harness_env() -> Callable[..., dict[str, str]]:
    """The environment for a harness subprocess: no AISK_ variable but those given."""
    return clean_env


@pytest.fixture
def api_fixture() -> Callable[[str], bytes]:
    """The bytes of a documented body from ``tests/api/fixtures``."""

    def read(name: str) -> bytes:
        return (API_FIXTURES / name).read_bytes()

    return read


@pytest.fixture
def make_run() -> Callable[..., Path]:
    """A synthetic run directory (``run_dirs.write_run``)."""
    return write_run


@pytest.fixture
def make_capacity_run() -> Callable[..., Path]:
    return write_capacity_run


@pytest.fixture
def latencies_ms() -> Callable[..., np.ndarray]:
    return normal_ms


@pytest.fixture
def make_verdict() -> Callable[..., Verdict]:
    return verdict


# Tests that measure latency and compare it run with the cores to themselves: under pytest-xdist
# every test holds a shared lock on one file while it runs, and ``cpu_alone`` takes it exclusive.
# A turnstile in front gives the exclusive taker priority: while it waits, no new test starts,
# so it waits for the tests running at most, never for a stream of them.
@pytest.fixture(scope="session")
def cpu_locks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return shared / "cpu-turnstile.lock", shared / "cpu.lock"


@contextmanager
def _flocked(path: Path, mode: int) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _cpu_shared(cpu_locks: tuple[Path, Path]) -> Iterator[None]:
    turnstile, cpu = cpu_locks
    with cpu.open("a") as handle:
        with _flocked(turnstile, fcntl.LOCK_EX):
            fcntl.flock(handle, fcntl.LOCK_SH)  # taken before the turnstile is let go
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def cpu_alone(cpu_locks: tuple[Path, Path]) -> Callable[[], AbstractContextManager[None]]:
    """A context in which no other test of the session runs (for a module fixture: a test
    holds its shared lock for as long as it runs, so a test cannot take this)."""
    turnstile, cpu = cpu_locks

    @contextmanager
    def alone() -> Iterator[None]:
        with _flocked(turnstile, fcntl.LOCK_EX), _flocked(cpu, fcntl.LOCK_EX):
            yield

    return alone
