"""The whole suite's fixtures. Its folder on ``sys.path`` also makes ``testkit`` and ``run_dirs``
importable."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO

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


# Tests that measure latency and compare it run with the cores to themselves. Under pytest-xdist
# every worker holds a shared lock on one file for the whole of each test it runs (fixtures of
# any scope included: ``pytest_runtest_protocol``), and ``cpu_alone`` turns that same lock
# exclusive. A turnstile in front gives the exclusive taker priority: while it waits, no worker
# starts a test, so it waits for the tests running at most, never for a stream of them. Without
# xdist nothing runs beside a test and no lock is taken.
_CPU_HANDLE: list[IO[str]] = []  # this worker's open lock file, once opened


def _cpu_folder(run: str) -> Path:
    return Path(tempfile.gettempdir()) / f"aisk-harness-tests-{run}"


def _cpu_files() -> tuple[Path, Path] | None:
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # the same in every worker of one session
    if not run:
        return None
    folder = _cpu_folder(run)
    folder.mkdir(exist_ok=True)
    return folder / "turnstile.lock", folder / "cpu.lock"


def pytest_configure(config: pytest.Config) -> None:
    # The controller names the session (xdist hands the name to its workers), so it can remove
    # the workers' lock folder when they are done.
    if not os.environ.get("PYTEST_XDIST_WORKER") and hasattr(config.option, "testrunuid"):
        config.option.testrunuid = config.option.testrunuid or uuid.uuid4().hex


def pytest_unconfigure(config: pytest.Config) -> None:
    run = getattr(config.option, "testrunuid", None)
    if run and not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(_cpu_folder(run), ignore_errors=True)


@contextmanager
def _through_turnstile(turnstile: Path) -> Iterator[None]:
    with turnstile.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    files = _cpu_files()
    if files is None:
        return (yield)
    turnstile, cpu = files
    if not _CPU_HANDLE:
        _CPU_HANDLE.append(cpu.open("a"))
    with _through_turnstile(turnstile):
        fcntl.flock(_CPU_HANDLE[0], fcntl.LOCK_SH)
    try:
        return (yield)
    finally:
        fcntl.flock(_CPU_HANDLE[0], fcntl.LOCK_UN)


@contextmanager
def _alone() -> Iterator[None]:
    files = _cpu_files()
    if files is None or not _CPU_HANDLE:
        yield
        return
    turnstile, _ = files
    handle = _CPU_HANDLE[0]
    # Let go of this test's shared lock before queueing at the turnstile: two workers each
    # holding theirs while one waits for the other's to go would wait for ever.
    fcntl.flock(handle, fcntl.LOCK_UN)
    with _through_turnstile(turnstile):
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_SH)  # back to shared before others may start


@pytest.fixture(scope="session")
def cpu_alone() -> Callable[[], AbstractContextManager[None]]:
    """A context in which no other test of the session runs (any fixture or test may use it)."""
    return _alone
