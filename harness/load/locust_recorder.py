"""Where a process's records go, and how a worker's clock relates to the master's.

Local and master processes write to a ``RecordSink``; a worker buffers its records and ships them
to the master over Locust's messaging every ``SHIP_INTERVAL_S`` (the pattern of locust-plugins'
JmeterListener), and once more when it stops, followed by an ``aisk_flushed`` message carrying its
total, so the master knows when it has everything.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import NamedTuple

import gevent

from harness.load.classify import Answer
from harness.load.clock_offset import ClockOffset
from harness.load.records import Record
from harness.load.sink import RecordSink

__all__ = ["Recorder", "RequestContext"]

SHIP_INTERVAL_S = 1.0
SHIP_BATCH = 5_000


class RequestContext(NamedTuple):
    """The request-side columns of a record that stay the same for a simulated client."""

    case: str
    chatbot_id: str
    key_mode: str
    key: str
    source_ip: str
    device_id: str
    forwarded_for: str
    user: str


class Recorder:
    """Builds records and hands them to a sink (local, master) or to the master (worker)."""

    def __init__(
        self,
        process: str,
        *,
        sink: RecordSink | None = None,
        ship: Callable[[list[Record]], None] | None = None,
    ) -> None:
        if (sink is None) == (ship is None):
            raise ValueError("a recorder writes to exactly one of a sink or the master")
        self.process = process
        self._sink = sink
        self._ship = ship
        self._outbox: list[Record] = []
        self._sequence = itertools.count()
        self.offset = ClockOffset(0, 0)
        self.recorded = 0
        self.shipped = 0
        self._shipper: gevent.Greenlet | None = None

    def add(
        self,
        kind: str,
        phase: str,
        context: RequestContext,
        send_wall_ns: int,
        recv_wall_ns: int,
        send_mono_ns: int,
        recv_mono_ns: int,
        answer: Answer,
    ) -> None:
        record = Record._make(
            (
                f"{self.process}-{next(self._sequence)}",
                self.process,
                kind,
                phase,
                *context,
                send_wall_ns,
                recv_wall_ns,
                send_mono_ns,
                recv_mono_ns,
                self.offset.offset_ns,
                self.offset.error_ns,
                (recv_mono_ns - send_mono_ns) / 1e6,
                *answer,
            )
        )
        self.recorded += 1
        if self._sink is not None:
            self._sink.append(record)
        else:
            self._outbox.append(record)
            if len(self._outbox) >= SHIP_BATCH:
                self.ship_now()

    def ship_now(self) -> None:
        """Send everything buffered to the master (worker only)."""
        assert self._ship is not None
        while self._outbox:
            batch, self._outbox = self._outbox[:SHIP_BATCH], self._outbox[SHIP_BATCH:]
            self._ship(batch)
            self.shipped += len(batch)

    def start_shipping(self) -> None:
        if self._ship is None or self._shipper is not None:
            return
        self._shipper = gevent.spawn(self._ship_forever)

    def _ship_forever(self) -> None:
        while True:
            gevent.sleep(SHIP_INTERVAL_S)
            self.ship_now()

    def flush(self) -> None:
        if self._sink is not None:
            self._sink.flush()
        else:
            self.ship_now()


def now_pair() -> tuple[int, int]:
    """(wall ns, monotonic ns) read back to back."""
    return time.time_ns(), time.monotonic_ns()
