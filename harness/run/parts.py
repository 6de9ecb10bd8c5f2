"""A run's record parts on disk: Arrow IPC as the recording process writes them, Parquet once
compacted.

The process that writes the records is also the one that sends (Locust's gevent hub). Its writes
run in a thread beside the hub (``harness.locust.writer``), but a thread still shares the
interpreter: a Parquet part of 4 000 records takes 6–8 ms to encode (a cost per column, whatever
the compression), an Arrow IPC file (lz4) of the same batch 1–2 ms. So a batch lands as
``part-<writer>-<tag>-<seq>.arrow`` and is rewritten as ``part-<writer>-<tag>-<seq>.parquet``
(a quarter of the size, what the notebooks and other tools expect) by
``harness.run.compaction``, off the hub; ``<tag>`` is new for each run (``harness.run.sink``).
Both are written under a temporary name and renamed, so a reader never sees half a part.

A part is its stem: where both forms exist (a compaction stopped between its rename and its
removal of the Arrow file), they hold the same rows and the Parquet one is read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "ARROW",
    "PARQUET",
    "part_paths",
    "part_rows",
    "read_part",
    "records_dir",
    "remove_quietly",
    "temporary_for",
    "write_arrow_part",
]

ARROW = ".arrow"
PARQUET = ".parquet"
_ARROW_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


def records_dir(run_dir: Path) -> Path:
    return run_dir / "records"


def part_paths(folder: Path) -> list[Path]:
    """Every part of ``folder`` once, by stem (Parquet where both forms exist), in name order."""
    if not folder.is_dir():
        return []
    parquet = {path.stem: path for path in folder.glob(f"part-*{PARQUET}")}
    arrow = {path.stem: path for path in folder.glob(f"part-*{ARROW}")}
    return [parquet.get(stem) or arrow[stem] for stem in sorted(parquet.keys() | arrow.keys())]


def temporary_for(final: Path) -> Path:
    """Where a part is written before its rename: a dot name no reader's glob matches."""
    return final.with_name(f".{final.name}.tmp")


def write_arrow_part(table: pa.Table, final: Path) -> None:
    """``table`` as an Arrow IPC file at ``final``, whole or not at all (``OSError`` on
    failure, the temporary removed where the directory allows)."""
    temporary = temporary_for(final)
    try:
        with (
            pa.OSFile(str(temporary), "wb") as out,
            pa.ipc.new_file(out, table.schema, options=_ARROW_OPTIONS) as writer,
        ):
            writer.write_table(table)
        os.replace(temporary, final)
    except (OSError, pa.ArrowException) as exc:
        remove_quietly(temporary)
        if isinstance(exc, OSError):
            raise
        raise OSError(str(exc)) from None


def read_part(path: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """One part's rows (``OSError`` or ``ArrowException`` if it cannot be read)."""
    names = list(columns) if columns is not None else None
    if path.suffix == ARROW:
        with pa.memory_map(str(path)) as source:
            table: pa.Table = pa.ipc.open_file(source).read_all()
        return table.select(names) if names is not None else table
    return pq.read_table(path, columns=names)


def part_rows(path: Path) -> int:
    """How many records a part holds, from its footer or batch headers (no column decoded)."""
    if path.suffix == ARROW:
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_file(source)
            return sum(
                reader.get_batch(index).num_rows for index in range(reader.num_record_batches)
            )
    return int(pq.ParquetFile(path).metadata.num_rows)


def remove_quietly(path: Path) -> None:
    """``path`` gone if the directory allows; a read-only one keeps it (and is read as it is)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
