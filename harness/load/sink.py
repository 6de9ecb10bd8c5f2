"""Records to Parquet, in small complete files, so a crash loses at most the batch in memory.

Each flush writes ``records/part-<writer>-<seq>.parquet`` through a temporary name and a rename, so
a reader never sees a half-written file and a killed run leaves only whole parts behind. Memory is
bounded by ``batch_size``: the buffer is written as soon as it is full.

When a write fails (a full disk, a directory gone read-only), every part already written stays as
it is; ``on_failure`` is told once (the run stops), the batch is kept and retried only once per
flush interval, and at most ``max_pending`` records wait in memory: later ones are counted in
``dropped``, never buffered without bound.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from harness.errors import ConfigError

__all__ = ["RecordSink", "records_dir"]


def records_dir(run_dir: Path) -> Path:
    return run_dir / "records"


class RecordSink:
    """Buffers records and writes them as Parquet parts; ``close()`` is idempotent."""

    def __init__(
        self,
        run_dir: Path,
        writer: str,
        *,
        batch_size: int = 20_000,
        flush_interval_s: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        max_pending: int | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._dir = records_dir(run_dir)
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the records directory {str(self._dir)!r}: {exc}"
            ) from None
        self._writer = writer
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
        self.write_error: str | None = None
        self.failed = False  # a write has failed at least once

    def append_table(self, table: pa.Table) -> None:
        """Buffer a batch (``RECORD_SCHEMA``); write once the buffer is full or old enough."""
        room = self._max_pending - self._pending
        if table.num_rows > room:
            self.dropped += table.num_rows - max(room, 0)
            table = table.slice(0, max(room, 0))
        if table.num_rows:
            self._buffer.append(table)
            self._pending += table.num_rows
        # While writes fail, only the flush interval retries (not every batch once full).
        if self._pending >= self._batch_size and self.write_error is None:
            self.flush()
        else:
            self.flush_if_due()

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def lost(self) -> int:
        """Records that never reached a part: dropped, or still waiting after a failed write."""
        return self.dropped + (self._pending if self.write_error else 0)

    def flush_if_due(self) -> None:
        if self._buffer and self._monotonic() - self._last_flush >= self._flush_interval_s:
            self.flush()

    def flush(self) -> None:
        """Write the buffer as one part. On a write error the batch stays buffered for a retry."""
        self._last_flush = self._monotonic()
        if not self._buffer:
            return
        batch = pa.concat_tables(self._buffer)
        name = f"part-{self._writer}-{self._sequence:06d}.parquet"
        final = self._dir / name
        temporary = self._dir / f".{name}.tmp"
        try:
            pq.write_table(batch, temporary, compression="zstd")
            os.replace(temporary, final)
        except OSError as exc:
            self.write_error = f"cannot write {str(final)!r}: {exc.strerror or exc}"
            try:
                temporary.unlink(missing_ok=True)
            except OSError:
                pass  # a read-only directory: nothing was created there either
            if not self.failed and self._on_failure is not None:
                self._on_failure(self.write_error)
            self.failed = True
            return
        self._sequence += 1
        self.written += batch.num_rows
        self._buffer = []
        self._pending = 0
        self.write_error = None

    def close(self) -> None:
        if self._closed:
            return
        self.flush()
        self._closed = self.write_error is None
