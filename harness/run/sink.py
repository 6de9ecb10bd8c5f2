"""Records to disk, in small complete files, so a crash loses at most the batch in memory.

Each flush writes ``records/part-<writer>-<tag>-<seq>.arrow`` through a temporary name and a
rename, so a reader never sees a half-written file and a killed run leaves only whole parts behind;
Arrow IPC because the sending hub waits for the write (``harness.run.parts``). ``close`` rewrites
the parts as Parquet (``harness.run.compaction``), its own parts only: the ``tag`` is new for each
sink, so no part of another run has the name of one of this run's, and ``parts`` lists the stems
this sink wrote (``recording.json`` keeps them; ``check`` refuses a directory holding others).
Memory is bounded by ``batch_size``: the buffer is written as soon as it is full.

When a write fails (a full disk, a directory gone read-only), every part already written stays as
it is; ``on_failure`` is told once (the run stops), the batch is kept and retried only once per
flush interval, and at most ``max_pending`` records wait in memory: later ones are counted in
``dropped``, never buffered without bound. A batch that arrives once the sink is closed is not
written either: it is counted in ``late``. Every record is either written or lost, and the sink
says which per sending process (``written_by_process``, ``lost_by_process``), so a run can state
that its parts hold every record it received.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from harness.errors import ConfigError
from harness.run.compaction import compact
from harness.run.parts import ARROW, records_dir, write_arrow_part

__all__ = ["FLUSH_INTERVAL_S", "RecordSink"]

FLUSH_INTERVAL_S = 2.0
BATCH_SIZE = 20_000


class RecordSink:
    """Buffers records and writes them as Arrow parts, Parquet once closed; ``close()`` is
    idempotent."""

    def __init__(
        self,
        run_dir: Path,
        writer: str,
        *,
        batch_size: int = BATCH_SIZE,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
        max_pending: int | None = None,
        on_failure: Callable[[str], None] | None = None,
        tag: str | None = None,
    ) -> None:
        self._dir = records_dir(run_dir)
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the records directory {str(self._dir)!r}: {exc}"
            ) from None
        self.prefix = f"part-{writer}-{tag or secrets.token_hex(4)}-"
        self.parts: list[str] = []  # the stems of the parts written, in order
        self._batch_size = batch_size
        self._flush_interval_s = flush_interval_s
        self._monotonic = monotonic
        self._max_pending = max_pending if max_pending is not None else 2 * batch_size
        self._on_failure = on_failure
        self._buffer: list[pa.Table] = []
        self._pending = 0
        self._sequence = 0
        self._last_flush = monotonic()
        self._closed = False
        self.written = 0
        self.dropped = 0
        self.late = 0
        self.written_by_process: Counter[str] = Counter()
        self._unwritten: Counter[str] = Counter()  # dropped or late, by process
        self.write_error: str | None = None
        self.failed = False  # a write has failed at least once

    def append_table(self, table: pa.Table) -> None:
        """Buffer a batch (``RECORD_SCHEMA``); write once the buffer is full or old enough."""
        if self._closed:
            self.late += table.num_rows
            self._unwritten.update(_by_process(table))
            return
        room = max(self._max_pending - self._pending, 0)
        if table.num_rows > room:
            self.dropped += table.num_rows - room
            self._unwritten.update(_by_process(table.slice(room)))
            table = table.slice(0, room)
        if table.num_rows:
            self._buffer.append(table)
            self._pending += table.num_rows
        # While writes fail, only the flush interval retries (not every batch once full).
        if self._pending >= self._batch_size and self.write_error is None:
            self.flush()
        else:
            self.flush_if_due()

    @property
    def folder(self) -> Path:
        """Where the parts are written."""
        return self._dir

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def lost(self) -> int:
        """Records that never reached a part: dropped, late, or still waiting after a failed
        write."""
        return self.dropped + self.late + (self._pending if self.write_error else 0)

    @property
    def lost_by_process(self) -> Counter[str]:
        lost = Counter(self._unwritten)
        if self.write_error:
            for table in self._buffer:
                lost.update(_by_process(table))
        return lost

    def flush_if_due(self) -> None:
        if self._buffer and self._monotonic() - self._last_flush >= self._flush_interval_s:
            self.flush()

    def flush(self) -> None:
        """Write the buffer as one part. On a write error the batch stays buffered for a retry."""
        self._last_flush = self._monotonic()
        if not self._buffer:
            return
        batch = pa.concat_tables(self._buffer)
        final = self._dir / f"{self.prefix}{self._sequence:06d}{ARROW}"
        try:
            write_arrow_part(batch, final)
        except OSError as exc:
            self.write_error = f"cannot write {str(final)!r}: {exc.strerror or exc}"
            if not self.failed and self._on_failure is not None:
                self._on_failure(self.write_error)
            self.failed = True
            return
        self._sequence += 1
        self.parts.append(final.stem)
        self.written += batch.num_rows
        self.written_by_process.update(_by_process(batch))
        self._buffer = []
        self._pending = 0
        self.write_error = None

    def close(self) -> None:
        """Write what is buffered, then rewrite the parts as Parquet (what cannot be rewritten
        stays an Arrow part, as readable)."""
        if self._closed:
            return
        self.flush()
        self._closed = self.write_error is None
        compact(self._dir, self.prefix)


def _by_process(table: pa.Table) -> Counter[str]:
    """Rows of a batch by the process that sent them."""
    if not table.num_rows:
        return Counter()
    counts = pc.value_counts(table.column("process")).to_pylist()
    return Counter({str(item["values"]): int(item["counts"]) for item in counts})
