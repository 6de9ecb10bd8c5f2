"""The recording process's bookkeeping: every batch to the sink, every process accounted for.

The local process (or the master) hands its own batches here, and so do the workers' batches
as they arrive. At the end the writer knows, per sending process, what it said it recorded, what
arrived, what the parts hold and what was lost: ``recording.json`` (``harness.run.recording``).
While it writes, a compactor process rewrites its Arrow parts as Parquet off the sending hub
(``harness.run.compaction``); it is stopped before the sink closes and compacts the rest.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from collections.abc import Mapping

import gevent
import gevent.subprocess
import pyarrow as pa

from harness.run.compaction import lowest_priority
from harness.run.progress import Progress
from harness.run.recording import ProcessRecording, Recording
from harness.run.sink import FLUSH_INTERVAL_S, RecordSink

__all__ = ["Writer"]

log = logging.getLogger(__name__)


class Writer:
    """A ``RecordSink`` and the counts that prove it holds what each process sent."""

    def __init__(self, sink: RecordSink) -> None:
        self.sink = sink
        self.received: Counter[str] = Counter()
        self.progress = Progress()  # the load's chats so far, for the progress line
        self.reported: dict[str, int] = {}  # process → its own total, from its last report
        self._dropped: dict[str, Counter[str]] = {}  # process → open arrivals dropped, by case
        self._behind: dict[str, Counter[str]] = {}  # process → handed over late, by case
        self._timer = gevent.spawn(self._flush_when_due)
        self._compactor = _start_compactor(sink)

    def take(self, process: str, table: pa.Table) -> None:
        """A batch of ``process``'s records (a closed sink counts it lost, never drops it
        silently)."""
        self.received[process] += table.num_rows
        self.progress.add(table)
        self.sink.append_table(table)

    def report(
        self, process: str, recorded: int, dropped: Mapping[str, int], behind: Mapping[str, int]
    ) -> None:
        """``process`` has sent everything: it recorded ``recorded`` in all, dropped ``dropped``
        open-model arrivals (by case) it never sent, and its scheduler handed ``behind`` over
        late. The latest report counts."""
        self.reported[process] = recorded
        self._dropped[process] = Counter(dropped)
        self._behind[process] = Counter(behind)

    def close(self) -> None:
        """Write what is buffered; what cannot be written is counted lost."""
        self._timer.kill(block=False)
        _stop(self._compactor)
        self.sink.close()

    def _flush_when_due(self) -> None:
        while True:
            gevent.sleep(FLUSH_INTERVAL_S / 2)
            self.sink.flush_if_due()

    def recording(
        self,
        run_id: str,
        lost_workers: list[str],
        slots_not_run: list[str],
        chatbots_not_deleted: list[str],
    ) -> Recording:
        sink = self.sink
        lost = sink.lost_by_process
        processes = sorted(set(self.received) | set(self.reported))
        return Recording(
            run_id=run_id,
            parts=list(sink.parts),
            processes={
                process: ProcessRecording(
                    recorded=self.reported.get(process),
                    received=self.received[process],
                    written=sink.written_by_process[process],
                    lost=lost[process],
                )
                for process in processes
            },
            records_written=sink.written,
            records_lost=sink.lost,
            lost_workers=lost_workers,
            slots_not_run=slots_not_run,
            chatbots_not_deleted=chatbots_not_deleted,
            dropped_sends=dict(sum(self._dropped.values(), Counter())),
            behind_schedule=dict(sum(self._behind.values(), Counter())),
        )


def _start_compactor(sink: RecordSink) -> gevent.subprocess.Popen[bytes] | None:
    """The background compactor of ``sink``'s folder; without one, ``close`` compacts it all."""
    try:
        return gevent.subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness.run.compaction",
                str(sink.folder),
                sink.prefix,
                str(os.getpid()),
            ],
            stdin=gevent.subprocess.DEVNULL,
            preexec_fn=lowest_priority,
        )
    except OSError as exc:
        log.warning(
            "aisk-harness: no background compaction (%s): the parts are compacted "
            "when the run ends",
            exc,
        )
        return None


def _stop(compactor: gevent.subprocess.Popen[bytes] | None) -> None:
    """Stopped at any instant, the compactor loses nothing (``harness.run.compaction``)."""
    if compactor is not None and compactor.poll() is None:
        compactor.kill()
        compactor.wait()
