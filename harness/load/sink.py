"""Records to Parquet, in small complete files, so a crash loses at most the batch in memory.

Each flush writes ``records/part-<writer>-<seq>.parquet`` through a temporary name and a rename, so
a reader never sees a half-written file and a killed run leaves only whole parts behind. Memory is
bounded by ``batch_size``: the buffer is written as soon as it is full.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from harness.errors import ConfigError
from harness.load.records import Record, records_to_table

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
        self._buffer: list[pa.Table] = []
        self._pending = 0
        self._sequence = 0
        self._last_flush = monotonic()
        self._closed = False
        self.written = 0
        self.write_error: str | None = None

    def append_table(self, table: pa.Table) -> None:
        """Buffer a batch (``RECORD_SCHEMA``); write once the buffer is full or old enough."""
        if table.num_rows == 0:
            return
        self._buffer.append(table)
        self._pending += table.num_rows
        if self._pending >= self._batch_size:
            self.flush()
        else:
            self.flush_if_due()

    def append(self, record: Record) -> None:
        self.append_table(records_to_table([record]))

    def extend(self, records: Iterable[Record]) -> None:
        for record in records:
            self.append(record)

    @property
    def pending(self) -> int:
        return self._pending

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
            temporary.unlink(missing_ok=True)
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
