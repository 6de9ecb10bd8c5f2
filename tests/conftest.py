"""The whole suite's fixtures. Its folder on ``sys.path`` also makes ``testkit`` and ``run_dirs``
importable."""

from __future__ import annotations

import fcntl
import os
import re
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


_ALONE_DEPTH: list[int] = [0]  # cpu_alone contexts this worker is in (an inner one is a no-op)
_WORKER_ID = re.compile(r"gw(\d+)")


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

    def others(self) -> list[int]:
        """The other workers, the next after this one first: those of the session's count and
        any that replaced a crashed one (xdist numbers those on, and they have a file)."""
        numbers = {int(match[1]) for path in self.folder.glob("cpu-gw*.lock")
                   if (match := _WORKER_ID.fullmatch(path.stem.removeprefix("cpu-")))}  # fmt: skip
        ids = sorted((numbers | set(range(self.count))) - {self.me})
        return [i for i in ids if i > self.me] + [i for i in ids if i < self.me]


def _cpu_folder(run: str) -> Path:
    return Path(tempfile.gettempdir()) / f"aisk-harness-tests-{run}"


def _workers() -> _Workers | None:
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # the same in every worker of one session
    worker = _WORKER_ID.fullmatch(os.environ.get("PYTEST_XDIST_WORKER", ""))  # gw0, gw1, ...
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not run or worker is None or not count:
        return None
    folder = _cpu_folder(run)
    folder.mkdir(exist_ok=True)
    return _Workers(folder, int(worker[1]), int(count))


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
    if workers is None or not _OWN_LOCK or _ALONE_DEPTH[0]:
        yield  # an inner context: the outer one holds the locks (taking them again would wait)
        return
    own = _OWN_LOCK[0]
    with ExitStack() as held:
        _ALONE_DEPTH[0] += 1
        held.callback(_ALONE_DEPTH.__setitem__, 0, 0)
        # Let go of this test's own lock while queueing: a taker that holds the turnstile
        # waits for it, and this one would wait for that taker's turnstile for ever. It is
        # taken back before the turnstile is let go, so that no other taker runs beside.
        fcntl.flock(own, fcntl.LOCK_UN)
        with _flocked(workers.turnstile, fcntl.LOCK_EX):
            for worker in workers.others()[beside:]:
                held.enter_context(_flocked(workers.lock(worker), fcntl.LOCK_EX))
            fcntl.flock(own, fcntl.LOCK_SH)
        yield


@pytest.fixture(scope="session")
def cpu_alone() -> Callable[..., AbstractContextManager[None]]:
    """A context beside which at most ``beside`` (default none) other tests of the session run
    (any fixture or test may use it)."""
    return _alone
