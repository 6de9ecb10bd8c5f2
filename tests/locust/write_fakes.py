"""Fakes for the write path's unit tests (``from write_fakes import``): a clock, records.

These modules import gevent (never Locust, which would gevent-patch the test process): a
greenlet or gevent's thread pool works in an unpatched process.
"""

from __future__ import annotations

from harness.api.answer import classify_answer
from harness.locust.recorder import Recorder
from harness.run.records import RequestContext

OK = classify_answer("chat", 200, b'{"answer":"hi","citations":[]}')
CONTEXT = RequestContext("case-a", "bot-1", "ip", "127.10.0.1", "127.10.0.1", "dev-1", "", "0.0")


class FakeClock:
    """A monotonic clock in seconds that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def record_some(recorder: Recorder, count: int, phase: str = "hammer") -> None:
    """``count`` chats answered 200, each 5 ms long, one after the other."""
    head = recorder.prefix("chat", phase, CONTEXT)
    for n in range(count):
        send = 1_000_000 * n
        recorder.record(
            head, 10**18 + send, 10**18 + send + 5_000_000, send, send + 5_000_000, None, OK
        )
