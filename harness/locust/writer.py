"""The recording process's writes, off its sending hub, and the counts that account for them.

The local process (or the master) hands its recorder's batches here (``take``), and so do the
workers' batches as they arrive (``take_shipped``). Each batch is written at once as one part by
the ``RecordSink`` in one native thread of gevent's thread pool, in the order taken: the hub
goes on sending while Arrow encodes, compresses and writes (pyarrow lets go of the GIL). A
batch taken while the previous one is still being written waits for it in the greenlet that
handed it over (never in the hub): a slow disk holds that sender back rather than letting
batches pile up in memory. At the
end the writer knows, per sending process, what it said it recorded, what arrived, what the
parts hold and what was lost: ``recording.json`` (``harness.run.recording``).
While it writes, a compactor process rewrites its Arrow parts as Parquet
(``harness.run.compaction``); it is stopped before the sink closes and compacts the rest.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from collections.abc import Callable, Mapping

import gevent
import gevent.subprocess
import pyarrow as pa
from gevent.event import AsyncResult
from gevent.threadpool import ThreadPool

from harness.locust.recorder import Recorder
from harness.run.batches import table_from_bytes
from harness.run.compaction import lowest_priority
from harness.run.progress import Progress
from harness.run.recording import ProcessRecording, Recording
from harness.run.sink import RecordSink

__all__ = ["Writer"]

log = logging.getLogger("aisk-harness")


class Writer:
    """A ``RecordSink`` written off the hub, and the counts that prove it holds what each
    process sent. ``on_failure`` hears of the first failed write, on the hub."""

    def __init__(
        self, sink: RecordSink, on_failure: Callable[[str], None], *, compactor: bool = True
    ) -> None:
        self.sink = sink
        self.received: Counter[str] = Counter()
        self.progress = Progress()  # the load's chats so far, for the progress line
        self.reported: dict[str, int] = {}  # process → its own total, from its last report
        self._dropped: dict[str, Counter[str]] = {}  # process → open arrivals dropped, by case
        self._behind: dict[str, Counter[str]] = {}  # process → handed over late, by case
        self._on_failure = on_failure
        self._told = False
        self._closed = False
        self._thread = ThreadPool(1)  # one thread: parts are written in the order taken
        self._writes: set[AsyncResult] = set()
        self._compactor = _start_compactor(sink) if compactor else None

    def take(self, process: str, table: pa.Table) -> None:
        """A batch of ``process``'s records, written as one part off the hub (once closed, the
        sink counts it lost, never drops it silently)."""
        self.received[process] += table.num_rows
        self.progress.add(table)
        if self._closed:
            self.sink.refuse(table)  # after the close: counted late, never written
            return
        write: AsyncResult = self._thread.spawn(self.sink.write, table)
        self._writes.add(write)
        write.rawlink(self._written)

    def take_shipped(self, process: str, data: bytes) -> None:
        """A worker's batch as it arrived (Arrow IPC); an unreadable one is said and skipped."""
        try:
            table = table_from_bytes(data)
        except ValueError as exc:
            log.error("aisk-harness: a record batch from %s was unreadable: %s", process, exc)
            return
        if self._closed:
            log.error(
                "aisk-harness: %d records from %s arrived after the run was written: they "
                "are not in it",
                table.num_rows,
                process,
            )
        self.take(process, table)

    def report(
        self, process: str, recorded: int, dropped: Mapping[str, int], behind: Mapping[str, int]
    ) -> None:
        """``process`` has sent everything: it recorded ``recorded`` in all, dropped ``dropped``
        open-model arrivals (by case) it never sent, and its scheduler handed ``behind`` over
        late. The latest report counts."""
        self.reported[process] = recorded
        self._dropped[process] = Counter(dropped)
        self._behind[process] = Counter(behind)

    def finish(
        self, recorder: Recorder, dropped: Mapping[str, int], behind: Mapping[str, int]
    ) -> None:
        """The recording process's own stop: its last rows flushed and reported, then
        ``close``. Call it once every worker's last batch has arrived."""
        recorder.close()
        self.report(recorder.process, recorder.recorded, dropped, behind)
        self.close()

    def wait(self) -> None:
        """Until every batch taken so far is written (or has failed)."""
        for write in list(self._writes):
            write.wait()
            self._written(write)  # now, not when the hub gets to its callback

    def close(self) -> None:
        """Write what was taken; what cannot be written is counted lost. The sink's close
        (its last compaction) runs in the thread too, so the hub still answers (heartbeats)."""
        if self._closed:
            return
        self.wait()
        _stop(self._compactor)
        self._thread.apply(self.sink.close)
        self._closed = True
        self._thread.kill()

    def _written(self, write: AsyncResult) -> None:
        """On the hub, once a batch's write is over: a failure is told once."""
        if write not in self._writes:
            return
        self._writes.discard(write)
        if not write.successful():
            log.error("aisk-harness: a record batch could not be written: %r", write.exception)
        error = self.sink.write_error
        if error is not None and not self._told:
            self._told = True
            self._on_failure(error)

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
