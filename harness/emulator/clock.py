"""The emulator's sense of time: an injectable clock, so tests cross windows and midnights fast.

A limiter needs a clock that never steps backwards, and a quota needs the calendar. ``SystemClock``
gives both from one source: Unix nanoseconds advanced by the monotonic clock from a single wall
reading at start-up, so an NTP step during a run cannot reorder admissions.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "instant_of"]


class Clock(Protocol):
    def now_ns(self) -> int:
        """Nanoseconds since the Unix epoch; never decreases."""
        ...


class SystemClock:
    """Real time, monotonic, anchored to the wall clock once."""

    def __init__(self) -> None:
        self._wall0 = time.time_ns()
        self._mono0 = time.monotonic_ns()

    def now_ns(self) -> int:
        return self._wall0 + (time.monotonic_ns() - self._mono0)


class ManualClock:
    """A clock that moves only when told to: for tests and for the emulator's ``--start-at``."""

    def __init__(self, start_ns: int) -> None:
        self._now = start_ns
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        with self._lock:
            return self._now

    def advance(self, ns: int) -> None:
        if ns < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += ns

    def set(self, moment: datetime) -> None:
        target = int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000
        with self._lock:
            if target < self._now:
                raise ValueError("a clock cannot go backwards")
            self._now = target


def instant_of(now_ns: int) -> datetime:
    """The aware UTC datetime of a clock reading (microsecond precision)."""
    seconds, rest = divmod(now_ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1_000)
