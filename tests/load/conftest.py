"""Builders for the load package's tests, handed out as fixtures (not imported).

Without ``__init__.py`` files every ``conftest.py`` of the tree is the same module name, so
``from conftest import ...`` is fragile; a fixture that returns the builder is not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.load.classify import classify_answer
from harness.load.records import Record

RecordFactory = Callable[..., Record]

API_FIXTURES = Path(__file__).parent.parent / "api" / "fixtures"


def build_record(**changes: Any) -> Record:
    """A plausible chat record answered 200, with ``changes`` applied column by column."""
    answer = classify_answer("chat", 200, b'{"answer":"hi","citations":[]}')
    record = Record._make(
        (
            "local-0",
            "local",
            "chat",
            "hammer",
            "device-hammer",
            "bot-1",
            "device",
            "dev-1",
            "127.10.0.1",
            "dev-1",
            "",
            "user-0",
            1_700_000_000_000_000_000,
            1_700_000_000_005_000_000,
            10_000_000,
            15_000_000,
            0,
            0,
            5.0,
            *answer,
        )
    )
    return record._replace(**changes)


@pytest.fixture
def make_record() -> RecordFactory:
    return build_record


@pytest.fixture
def api_fixture() -> Callable[[str], bytes]:
    """The bytes of a documented body from ``tests/api/fixtures``."""

    def read(name: str) -> bytes:
        return (API_FIXTURES / name).read_bytes()

    return read
