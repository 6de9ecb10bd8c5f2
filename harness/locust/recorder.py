"""The one buffer between a process's records and the disk, with one size and one time limit.

A sender appends one small tuple per request (``record``) to the recorder's ``RowBuffer``; every
``batch_rows`` rows, and once the oldest buffered row has waited ``interval_s`` (a timer looks
four times per interval, so a quiet run's records still leave), the rows become one Arrow table
(``harness.run.batches``) handed over: in the process that writes (local, master) to the
``Writer``, which writes it as one part off the hub; in a worker to the master, shipped over
Locust's messaging (``harness.locust.shipping``). Nothing else between a record and the disk
buffers it. ``close`` is the flush on stop: no more timer, the last rows handed over.
``recorded`` counts every record made, so the run can account for each (``recording.json``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import gevent
import pyarrow as pa

from harness.api.answer import Answer
from harness.run.batches import Prefix, RowBuffer, prefix
from harness.run.clock import ClockOffset
from harness.run.records import RequestContext

__all__ = ["BATCH_ROWS", "HAND_OVER_INTERVAL_S", "Recorder"]

# A batch of 5 000 rows becomes a table in a few ms of the hub's time: small enough not to
# make an open model's arrivals late, large enough for few parts.
BATCH_ROWS = 5_000
HAND_OVER_INTERVAL_S = 1.0


class Recorder:
    """Records of one process (``process``: local, master, w<index>) on its clock's ``offset``,
    handed over in batches to ``hand_over``."""

    def __init__(
        self,
        process: str,
        offset: ClockOffset,
        hand_over: Callable[[pa.Table], None],
        *,
        batch_rows: int = BATCH_ROWS,
        interval_s: float = HAND_OVER_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._buffer = RowBuffer(process)
        self._hand_over = hand_over
        self._batch_rows = batch_rows
        self._interval_s = interval_s
        self._monotonic = monotonic
        self._oldest: float | None = None  # when the oldest buffered row was recorded
        self.process = process
        self.offset = offset
        self.recorded = 0
        self._timer: gevent.Greenlet | None = None

    def prefix(self, kind: str, phase: str, context: RequestContext) -> Prefix:
        """The repeated part of a record: built once per client and phase by a sender."""
        return prefix(kind, phase, context, self.offset)

    def record(
        self,
        prefix: Prefix,
        send_wall_ns: int,
        recv_wall_ns: int,
        send_mono_ns: int,
        recv_mono_ns: int,
        intended_send_mono_ns: int | None,
        answer: Answer,
    ) -> None:
        buffer = self._buffer
        buffer.append(
            (
                prefix,
                send_wall_ns,
                recv_wall_ns,
                send_mono_ns,
                recv_mono_ns,
                intended_send_mono_ns,
                answer,
            )
        )
        self.recorded += 1
        if self._oldest is None:
            self._oldest = self._monotonic()
        if len(buffer) >= self._batch_rows:
            self.flush()

    def add(
        self,
        kind: str,
        phase: str,
        context: RequestContext,
        times: tuple[int, int, int, int],
        answer: Answer,
    ) -> None:
        """One record of the set-up's calls (the hot path uses ``record`` with a kept prefix)."""
        self.record(self.prefix(kind, phase, context), *times, None, answer)

    @property
    def buffered(self) -> int:
        """Rows recorded and not yet handed over."""
        return len(self._buffer)

    def flush_if_due(self) -> None:
        """Hand the rows over once the oldest has waited the interval."""
        oldest = self._oldest
        if oldest is not None and self._monotonic() - oldest >= self._interval_s:
            self.flush()

    def flush(self) -> None:
        """Everything recorded so far, as one table, to the destination."""
        self._oldest = None
        if len(self._buffer):
            self._hand_over(self._buffer.take())

    def start(self) -> None:
        """Look for due rows periodically, so a quiet run still reaches the disk or the master."""
        if self._timer is None:
            self._timer = gevent.spawn(self._flush_when_due)

    def close(self) -> None:
        """The flush on stop: no more periodic hand-overs, and the last rows handed over now.
        A record made after it (a user still finishing) waits for the next ``flush``."""
        if self._timer is not None:
            self._timer.kill(block=False)
            self._timer = None
        self.flush()

    def _flush_when_due(self) -> None:
        while True:
            gevent.sleep(self._interval_s / 4)
            self.flush_if_due()
