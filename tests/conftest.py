"""The whole suite's fixtures. Its folder on ``sys.path`` also makes ``testkit`` and ``run_dirs``
importable."""

from __future__ import annotations

from collections.abc import Callable
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
