"""The whole suite's fixtures. Its folder on ``sys.path`` also makes ``testkit`` and ``run_dirs``
importable."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
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


# Tests that measure latency run with the cores (nearly) to themselves. Under pytest-xdist every
# worker holds a shared lock on a file of its own for the whole of each test it runs (fixtures of
# any scope included: ``pytest_runtest_protocol``); ``cpu_alone(beside)`` takes the other
# workers' files exclusive, all but the ``beside`` next ones, so that at most ``beside`` tests
# run beside it. Tests start through a turnstile taken shared; the exclusive taker holds it
# exclusive while it waits, so it waits for the tests running at most, never for a stream of
# them. Without xdist nothing runs beside a test and no lock is taken.
_OWN_LOCK: list[IO[str]] = []  # this worker's open lock file, once opened


@dataclass(frozen=True)
class _Workers:
    folder: Path
    me: int
    count: int

    def lock(self, worker: int) -> Path:
        return self.folder / f"cpu-gw{worker}.lock"

    @property
    def turnstile(self) -> Path:
        return self.folder / "turnstile.lock"


def _cpu_folder(run: str) -> Path:
    return Path(tempfile.gettempdir()) / f"aisk-harness-tests-{run}"


def _workers() -> _Workers | None:
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # the same in every worker of one session
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not run or not worker.startswith("gw") or not count:
        return None
    folder = _cpu_folder(run)
    folder.mkdir(exist_ok=True)
    return _Workers(folder, int(worker.removeprefix("gw")), int(count))


def pytest_configure(config: pytest.Config) -> None:
    # The controller names the session (xdist hands the name to its workers), so it can remove
    # the workers' lock folder when they are done.
    if not os.environ.get("PYTEST_XDIST_WORKER") and hasattr(config.option, "testrunuid"):
        config.option.testrunuid = config.option.testrunuid or uuid.uuid4().hex


def pytest_unconfigure(config: pytest.Config) -> None:
    run = getattr(config.option, "testrunuid", None)
    if run and not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(_cpu_folder(run), ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The tests that take the cores go first, before the other processes have long tests under
    # way that each of them would wait for (every process collects the same order, as
    # pytest-xdist requires).
    items.sort(key=lambda item: "cpu_alone" not in getattr(item, "fixturenames", ()))


@contextmanager
def _flocked(path: Path, mode: int) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    workers = _workers()
    if workers is None:
        return (yield)
    if not _OWN_LOCK:
        _OWN_LOCK.append(workers.lock(workers.me).open("a"))
    with _flocked(workers.turnstile, fcntl.LOCK_SH):
        fcntl.flock(_OWN_LOCK[0], fcntl.LOCK_SH)  # waits while an exclusive taker runs
    try:
        return (yield)
    finally:
        fcntl.flock(_OWN_LOCK[0], fcntl.LOCK_UN)


@contextmanager
def _alone(beside: int = 0) -> Iterator[None]:
    workers = _workers()
    if workers is None or not _OWN_LOCK:
        yield
        return
    own = _OWN_LOCK[0]
    others = [(workers.me + step) % workers.count for step in range(1, workers.count)]
    with ExitStack() as held:
        # Let go of this test's own lock while queueing: a taker that holds the turnstile
        # waits for it, and this one would wait for that taker's turnstile for ever. It is
        # taken back before the turnstile is let go, so that no other taker runs beside.
        fcntl.flock(own, fcntl.LOCK_UN)
        with _flocked(workers.turnstile, fcntl.LOCK_EX):
            for worker in others[beside:]:
                held.enter_context(_flocked(workers.lock(worker), fcntl.LOCK_EX))
            fcntl.flock(own, fcntl.LOCK_SH)
        yield


@pytest.fixture(scope="session")
def cpu_alone() -> Callable[..., AbstractContextManager[None]]:
    """A context beside which at most ``beside`` (default none) other tests of the session run
    (any fixture or test may use it)."""
    return _alone
