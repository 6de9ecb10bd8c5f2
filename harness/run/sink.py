"""Record batches to disk, each as one small complete file, so a crash loses at most what a
process still holds in memory.

The sink has no buffer of its own: the recorder's (``harness.locust.recorder``) is the only one
between a record and the disk, and each batch it hands over (or a worker's, shipped to the
master) is written at once as ``records/part-<writer>-<tag>-<seq>.arrow``, through a temporary
name and a rename, so a reader never sees a half-written file and a killed run leaves only whole
parts behind; Arrow IPC because it is cheap to write (``harness.run.parts``). ``close`` rewrites
the parts as Parquet (``harness.run.compaction``), its own parts only: the ``tag`` is new for each
sink, so no part of another run has the name of one of this run's, and ``parts`` lists the stems
this sink wrote (``recording.json`` keeps them; ``check`` refuses a directory holding others).
The sink is synchronous and calls nothing back: the recording process calls ``write`` off its
sending hub (``harness.locust.writer``).

When a write fails (a full disk, a directory gone read-only), every part already written stays as
it is, ``write_error`` says why (the recording process stops the run), and the batch is kept: it
is retried with the next batch and at ``close``, and at most ``max_kept`` records wait in memory;
later ones are counted in ``dropped``, never kept without bound. A batch that arrives once the
sink is closed is not written either: it is counted in ``late``. Every record is either written
or lost, and the sink says which per sending process (``written_by_process``,
``lost_by_process``), so a run can state that its parts hold every record it received.
"""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from harness.errors import ConfigError
from harness.run.compaction import compact
from harness.run.parts import ARROW, records_dir, write_arrow_part

__all__ = ["MAX_KEPT", "RecordSink"]

# Records kept in memory while the disk refuses them: ten of a recorder's full batches.
MAX_KEPT = 50_000


class RecordSink:
    """Writes each batch as an Arrow part, the parts as Parquet once closed; ``close()`` is
    idempotent."""

    def __init__(
        self, run_dir: Path, writer: str, *, max_kept: int = MAX_KEPT, tag: str | None = None
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
        self._max_kept = max_kept
        self._kept: list[pa.Table] = []  # batches a failed write left unwritten, oldest first
        self._pending = 0
        self._sequence = 0
        self._closed = False
        self.written = 0
        self.dropped = 0
        self.late = 0
        self.written_by_process: Counter[str] = Counter()
        self._unwritten: Counter[str] = Counter()  # dropped or late, by process
        self.write_error: str | None = None
        self.failed = False  # a write has failed at least once

    def write(self, table: pa.Table) -> None:
        """``table`` (``RECORD_SCHEMA``) as one part now, with any batch a failed write kept."""
        if self._closed:
            self.refuse(table)
            return
        if table.num_rows:
            self._kept.append(table)
            self._pending += table.num_rows
        self._write_kept()
        if self.write_error is not None:
            self._bound_kept()

    def refuse(self, table: pa.Table) -> None:
        """``table`` counted late, never written: it came after the run's close, when a part
        written now would be missing from ``recording.json``'s list of the run's parts (even where
        the close's own retry failed and a later write could succeed)."""
        self.late += table.num_rows
        self._unwritten.update(_by_process(table))

    @property
    def folder(self) -> Path:
        """Where the parts are written."""
        return self._dir

    @property
    def pending(self) -> int:
        """Records kept after a failed write, waiting for a retry."""
        return self._pending

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def lost(self) -> int:
        """Records that never reached a part: dropped, late, or still kept after a failed
        write."""
        return self.dropped + self.late + self._pending

    @property
    def lost_by_process(self) -> Counter[str]:
        lost = Counter(self._unwritten)
        for table in self._kept:
            lost.update(_by_process(table))
        return lost

    def close(self) -> None:
        """Retry what a failed write kept, then rewrite the parts as Parquet (what cannot be
        rewritten stays an Arrow part, as readable). Closed only once nothing is kept."""
        if self._closed:
            return
        self._write_kept()
        self._closed = self.write_error is None
        compact(self._dir, self.prefix)

    def _write_kept(self) -> None:
        """Everything kept as one part; on a write error it stays kept for the next try."""
        if not self._kept:
            return
        batch = pa.concat_tables(self._kept)
        final = self._dir / f"{self.prefix}{self._sequence:06d}{ARROW}"
        try:
            write_arrow_part(batch, final)
        except OSError as exc:
            self.write_error = f"cannot write {str(final)!r}: {exc.strerror or exc}"
            self.failed = True
            return
        self._sequence += 1
        self.parts.append(final.stem)
        self.written += batch.num_rows
        self.written_by_process.update(_by_process(batch))
        self._kept = []
        self._pending = 0
        self.write_error = None

    def _bound_kept(self) -> None:
        """At most ``max_kept`` records wait for the disk: the oldest stay, the newest are
        dropped (and counted)."""
        room = self._max_kept
        kept: list[pa.Table] = []
        for table in self._kept:
            if table.num_rows > room:
                self.dropped += table.num_rows - room
                self._unwritten.update(_by_process(table.slice(room)))
                table = table.slice(0, room)
            if table.num_rows:
                kept.append(table)
            room -= table.num_rows
        self._kept = kept
        self._pending = sum(table.num_rows for table in kept)


def _by_process(table: pa.Table) -> Counter[str]:
    """Rows of a batch by the process that sent them."""
    if not table.num_rows:
        return Counter()
    counts = pc.value_counts(table.column("process")).to_pylist()
    return Counter({str(item["values"]): int(item["counts"]) for item in counts})
