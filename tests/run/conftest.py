"""The record builder of the run package's tests, handed out as a fixture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from testkit import record_of

from harness.api.answer import classify_answer
from harness.run.records import Record

RecordFactory = Callable[..., Record]

RECORD_DEFAULTS: dict[str, object] = {
    "request_id": "local-0",
    "process": "local",
    "kind": "chat",
    "phase": "hammer",
    "case": "device-hammer",
    "chatbot_id": "bot-1",
    "key_mode": "device",
    "key": "dev-1",
    "source_ip": "127.10.0.1",
    "device_id": "dev-1",
    "forwarded_for": "",
    "user": "user-0",
    "send_wall_ns": 1_700_000_000_000_000_000,
    "recv_wall_ns": 1_700_000_000_005_000_000,
    "send_mono_ns": 10_000_000,
    "recv_mono_ns": 15_000_000,
    "clock_offset_ns": 0,
    "clock_offset_err_ns": 0,
}
OK_ANSWER = classify_answer("chat", 200, b'{"answer":"hi","citations":[]}')


def build_record(**changes: Any) -> Record:
    """A plausible chat record answered 200 in 5 ms, with ``changes`` applied column by column
    (``latency_ms=`` sets the receive instant)."""
    latency_ms = changes.pop("latency_ms", None)
    if latency_ms is not None:
        send = int(changes.get("send_mono_ns", RECORD_DEFAULTS["send_mono_ns"]))  # type: ignore[call-overload]
        changes["recv_mono_ns"] = send + round(float(latency_ms) * 1e6)
    return record_of(RECORD_DEFAULTS, OK_ANSWER, **changes)


@pytest.fixture
def make_record() -> RecordFactory:
    return build_record
