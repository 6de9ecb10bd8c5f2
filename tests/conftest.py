"""The whole suite's fixtures. Its folder on ``sys.path`` also makes ``testkit`` importable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from testkit import clean_env

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
