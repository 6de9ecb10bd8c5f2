"""Where a process's records go: one recorder, one batch policy, one destination.

A sender appends one small tuple per request (``record``); every ``BATCH_ROWS`` rows, and at
least every ``HAND_OVER_INTERVAL_S`` once started, the rows become one Arrow table
(``harness.run.batches``) handed to the destination: the sink (local process, master) or the
master over Locust's messaging (a worker, the pattern of locust-plugins' JmeterListener).
``recorded`` counts every record made, so the writer can account for each (``recording.json``).
"""

from __future__ import annotations

from collections.abc import Callable

import gevent
import pyarrow as pa

from harness.api.answer import Answer
from harness.run.batches import Prefix, RowBuffer, prefix
from harness.run.clock import ClockOffset
from harness.run.records import RequestContext

__all__ = ["BATCH_ROWS", "HAND_OVER_INTERVAL_S", "Recorder"]

HAND_OVER_INTERVAL_S = 1.0
BATCH_ROWS = 5_000


class Recorder:
    """Records of one process (``process``: local, master, w<index>) on its clock's ``offset``."""

    def __init__(
        self, process: str, offset: ClockOffset, hand_over: Callable[[pa.Table], None]
    ) -> None:
        self._buffer = RowBuffer(process)
        self._rows = self._buffer.rows
        self._hand_over = hand_over
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
        rows = self._rows
        rows.append(
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
        if len(rows) >= BATCH_ROWS:
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

    def flush(self) -> None:
        """Everything recorded so far, as one table, to the destination."""
        if self._rows:
            self._hand_over(self._buffer.take())

    def start(self) -> None:
        """Hand records over periodically, so a quiet run still reaches the disk or the master."""
        if self._timer is None:
            self._timer = gevent.spawn(self._flush_forever)

    def stop(self) -> None:
        """No more periodic hand-overs (the last batch goes with ``flush``)."""
        if self._timer is not None:
            self._timer.kill(block=False)
            self._timer = None

    def _flush_forever(self) -> None:
        while True:
            gevent.sleep(HAND_OVER_INTERVAL_S)
            self.flush()
