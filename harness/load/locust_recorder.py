"""Where a process's records go, and how a worker's clock relates to the master's.

Local and master processes write to a ``RecordSink``; a worker buffers its records and ships them
to the master over Locust's messaging every ``SHIP_INTERVAL_S`` (the pattern of locust-plugins'
JmeterListener), and once more when it stops, followed by an ``aisk_flushed`` message carrying its
total, so the master knows when it has everything.
"""

from __future__ import annotations

from collections.abc import Callable

import gevent
import pyarrow as pa

from harness.load.classify import Answer
from harness.load.clock_offset import ClockOffset
from harness.load.row_buffer import Prefix, RequestContext, RowBuffer, prefix
from harness.load.sink import RecordSink

__all__ = ["Recorder"]

SHIP_INTERVAL_S = 1.0
FLUSH_INTERVAL_S = 2.0
BATCH_ROWS = 5_000


class Recorder:
    """Keeps records (a ``RowBuffer``) and hands them, as tables, to a sink or to the master.

    ``add`` only appends a tuple; conversion happens per batch of ``BATCH_ROWS`` rows and at least
    every ``SHIP_INTERVAL_S`` (worker) or ``FLUSH_INTERVAL_S`` (local, master) once started.
    """

    def __init__(
        self,
        process: str,
        *,
        sink: RecordSink | None = None,
        ship: Callable[[pa.Table], None] | None = None,
    ) -> None:
        if (sink is None) == (ship is None):
            raise ValueError("a recorder writes to exactly one of a sink or the master")
        self._buffer = RowBuffer(process)
        self._rows = self._buffer.rows
        self._sink = sink
        self._ship = ship
        self.offset = ClockOffset(0, 0)
        self.recorded = 0
        self.shipped = 0
        self._timer: gevent.Greenlet | None = None

    @property
    def process(self) -> str:
        return self._buffer.process

    @process.setter
    def process(self, name: str) -> None:
        self._buffer.process = name

    def prefix(self, kind: str, phase: str, context: RequestContext) -> Prefix:
        """The repeated part of a record: built once per client and phase by a sender (the clock
        offset is set before any user starts and never changes after)."""
        return prefix(kind, phase, context, self.offset)

    def record(
        self,
        prefix: Prefix,
        send_wall_ns: int,
        recv_wall_ns: int,
        send_mono_ns: int,
        recv_mono_ns: int,
        answer: Answer,
    ) -> None:
        rows = self._rows
        rows.append((prefix, send_wall_ns, recv_wall_ns, send_mono_ns, recv_mono_ns, answer))
        self.recorded += 1
        if len(rows) >= BATCH_ROWS:
            self.hand_over()

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
        """One record (the set-up's calls; the hot path uses ``record`` with a kept prefix)."""
        self.record(
            self.prefix(kind, phase, context),
            send_wall_ns, recv_wall_ns, send_mono_ns, recv_mono_ns, answer,
        )  # fmt: skip

    def hand_over(self) -> None:
        """Convert what is buffered and pass it on: to the sink, or shipped to the master."""
        if not self._rows:
            return
        table = self._buffer.take()
        if self._sink is not None:
            self._sink.append_table(table)
        else:
            assert self._ship is not None
            self._ship(table)
            self.shipped += table.num_rows

    def start(self) -> None:
        """Hand records over periodically, so a quiet run still reaches the disk or the master."""
        if self._timer is None:
            interval = SHIP_INTERVAL_S if self._sink is None else FLUSH_INTERVAL_S
            self._timer = gevent.spawn(self._hand_over_forever, interval)

    def _hand_over_forever(self, interval_s: float) -> None:
        while True:
            gevent.sleep(interval_s)
            self.hand_over()
            if self._sink is not None:
                self._sink.flush_if_due()

    def flush(self) -> None:
        """Everything recorded so far leaves this process (to the master) or reaches the disk."""
        self.hand_over()
        if self._sink is not None:
            self._sink.flush()
