"""Reading a run's records back: every part (Parquet, or Arrow where a run did not compact it),
or the parts that can be read and a list of those that cannot.

``read_records`` is strict (a damaged part is a one-line ``ConfigError`` naming the file): what
the reports and notebooks use. ``read_run_records`` keeps going past a damaged part and lists it,
so ``check`` can judge what is there and say what is not (``harness.run.completeness``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from harness.errors import ConfigError
from harness.run.parts import ARROW, part_paths, read_part, records_dir
from harness.run.record_masks import load_chat_mask, quota_refusal_mask
from harness.run.records import RECORD_SCHEMA

__all__ = ["DamagedPart", "RunRecords", "read_records", "read_run_records"]

# Text columns whose values rarely repeat: kept as plain strings.
_UNIQUE_TEXT = frozenset({"request_id", "m_wait", "m_wait_sec", "m_reset_in", "m_reset_in_sec"})


@dataclass(frozen=True, slots=True)
class DamagedPart:
    """A part file that could not be read, and why (its records are not in the frame)."""

    path: Path
    reason: str

    def describe(self) -> str:
        return f"{self.path} cannot be read ({self.reason}): its records are not judged"


@dataclass(frozen=True)
class RunRecords:
    """What ``read_run_records`` found: the records of the readable parts, and the others;
    ``refusals``: the columns read only on quota refusals, when some were asked for."""

    frame: pd.DataFrame
    parts: int  # part files found, damaged ones included
    damaged: tuple[DamagedPart, ...]
    refusals: pd.DataFrame | None = None


def _schema(names: list[str]) -> tuple[pa.Schema, list[str]]:
    # Repetitive text columns are read as dictionaries and become categoricals: a fraction of
    # the memory, and pandas compares and matches them per distinct value instead of per row.
    repetitive = [
        field.name
        for field in RECORD_SCHEMA
        if field.type == pa.string() and field.name not in _UNIQUE_TEXT and field.name in names
    ]
    schema = pa.schema(
        [
            field.with_type(pa.dictionary(pa.int32(), pa.string()))
            if field.name in repetitive
            else field
            for field in RECORD_SCHEMA
        ]
    )
    return schema, repetitive


def _memory_pool() -> pa.MemoryPool:
    """jemalloc where this pyarrow has it, else the system allocator: never mimalloc, pyarrow's
    default on Linux, which here spends most of a large read in the kernel (10 M records read
    in 6.5-9.0 s with it, 3.2-3.8 s with jemalloc, same files, one sitting; bench checks_scale).

    jemalloc is told to hand freed pages back at once (decay 0, for the arenas it makes from
    here on, in the whole process): an Arrow column freed once converted then leaves the
    process rather than lingering for jemalloc's decay, so a read's peak is close to the frame
    and the columns in conversion (10 M records: peak 2.36-2.41 GiB, not 2.94-3.22; the same
    time, 3 rounds each way)."""
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        return pa.system_memory_pool()
    pa.jemalloc_set_decay_ms(0)
    return pool


_POOL = _memory_pool()
# Set as the process's default too: Parquet's decoding allocates from the default pool whatever
# pool ``to_table`` is handed.
pa.set_memory_pool(_POOL)


def _read(parts: list[Path], names: list[str]) -> pa.Table:
    schema, repetitive = _schema(names)
    if not parts:
        return schema.empty_table().select(names)
    parquet_format = ds.ParquetFileFormat(read_options={"dictionary_columns": repetitive})
    arrow = [part for part in parts if part.suffix == ARROW]
    parquet = [part for part in parts if part.suffix != ARROW]
    tables = [
        ds.dataset(paths, schema=schema, format=file_format).to_table(
            columns=names, memory_pool=_POOL
        )
        for paths, file_format in ((parquet, parquet_format), (arrow, "ipc"))
        if paths
    ]
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def _readable(parts: list[Path]) -> tuple[list[Path], list[DamagedPart]]:
    """The parts whose footer and data can be read, and the others (found one by one)."""
    good: list[Path] = []
    damaged: list[DamagedPart] = []
    for path in parts:
        try:
            read_part(path, ["request_id"])
        except (pa.ArrowException, OSError) as exc:
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            damaged.append(DamagedPart(path, reason))
        else:
            good.append(path)
    return good, damaged


_CONVERTERS = min(2, os.cpu_count() or 1)  # columns converted to pandas at once
Stretches = list[tuple[int, int]]  # (offset, length) of stretches of rows, in their new order
_MOST_STRETCHES = 1_000  # more stretches than this: rows taken one by one instead


def _chats_first(table: pa.Table) -> Stretches | npt.NDArray[np.intp] | None:
    """The order that puts the load's chat requests before the set-up's, so a reader can slice
    them (no copy): stretches of rows when there are few (set-up before the load, teardown after:
    zero-copy slices), else every row's index; None when the chats already come first."""
    chat = load_chat_mask(table)
    chats = np.flatnonzero(chat)
    if len(chats) == 0 or chats[-1] == len(chats) - 1:
        return None
    edges = np.flatnonzero(np.diff(chat.astype(np.int8))) + 1
    starts, ends = np.r_[0, edges], np.r_[edges, len(chat)]
    if len(starts) > _MOST_STRETCHES:
        return np.concatenate([chats, np.flatnonzero(~chat)])
    stretches = list(zip(starts.tolist(), (ends - starts).tolist(), strict=True))
    first = [stretch for stretch in stretches if chat[stretch[0]]]
    return first + [stretch for stretch in stretches if not chat[stretch[0]]]


def _reordered(column: pa.ChunkedArray, order: Stretches | npt.NDArray[np.intp]) -> pa.ChunkedArray:
    if isinstance(order, np.ndarray):
        return pc.take(column, order, memory_pool=_POOL)
    pieces = [chunk for offset, length in order for chunk in column.slice(offset, length).chunks]
    return pa.chunked_array(pieces, type=column.type)


def _frame(table: pa.Table, order: Stretches | npt.NDArray[np.intp] | None = None) -> pd.DataFrame:
    """The records as a frame, in ``order`` when one is given.

    Column by column, letting each Arrow column go once converted (and reordered): the peak is
    one frame plus the columns being converted, not two copies of millions of records.
    (Reordering the whole table first cost a second table: a run's few set-up requests took the
    read of 10 M records from 2.8 GB to 4.7 GB.) ``_CONVERTERS`` columns at a time, in threads:
    Arrow's conversion releases the GIL (10 M records' 37 columns: 3.8-4.5 s one at a time,
    1.8-2.2 s two at a time).
    """
    names = list(table.column_names)
    columns = {name: table.column(name) for name in names}
    del table  # the columns are all that hold the data now, and each goes once converted

    def convert(name: str) -> pd.Series:
        column = columns.pop(name)
        if order is not None:
            column = _reordered(column, order)
        if pa.types.is_string(column.type) and column.num_chunks > 1:
            # Text stays Arrow-backed in pandas, and Arrow takes rows from a chunked column by
            # joining its chunks first: 50 ms per row filter of 10 M records, even of no rows.
            column = pa.chunked_array([column.combine_chunks(memory_pool=_POOL)])
        series: pd.Series = column.to_pandas(memory_pool=_POOL)
        return series

    with ThreadPoolExecutor(_CONVERTERS, thread_name_prefix="convert") as converters:
        data = dict(zip(names, converters.map(convert, names), strict=True))
    frame = pd.DataFrame(data, copy=False)
    _POOL.release_unused()  # give the Arrow buffers back, not just to the pool
    return frame


def _table_rows(order: Stretches | npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """The table row of each place in ``order`` (which has at least one stretch)."""
    if isinstance(order, np.ndarray):
        return order
    return np.concatenate([np.arange(offset, offset + length) for offset, length in order])


def _refusals(
    table: pa.Table, order: Stretches | npt.NDArray[np.intp] | None, names: list[str]
) -> pd.DataFrame:
    """The ``names`` columns of the quota refusals alone, indexed by the refusals' places in the
    frame: what no check reads on any other row (a quota answer's reset metadata), so a run of
    millions of throttles does not convert millions of rows of nothing (10 M records: 0.5 GiB)."""
    refused = quota_refusal_mask(table)
    places = np.flatnonzero(refused)
    rows = places
    if order is not None and len(places):
        in_table = _table_rows(order)
        places = np.flatnonzero(refused[in_table])
        rows = in_table[places]
    frame: pd.DataFrame = table.select(names).take(rows).to_pandas(memory_pool=_POOL)
    frame.index = pd.Index(places)
    return frame


def read_run_records(
    run_dir: Path,
    columns: Sequence[str] | None = None,
    *,
    chats_first: bool = False,
    refusal_columns: Sequence[str] = (),
) -> RunRecords:
    """Every record of the readable parts, in ``RECORD_SCHEMA`` or only ``columns``.

    ``chats_first`` puts the load's chat requests before the set-up's requests, so a reader can
    take them as one slice (no copy of millions of rows). ``refusal_columns`` (among
    ``columns``) are read only on the quota refusals' rows, apart (``RunRecords.refusals``).
    """
    parts = part_paths(records_dir(run_dir))
    names = list(columns) if columns is not None else list(RECORD_SCHEMA.names)
    damaged: list[DamagedPart] = []
    # The table is handed on, not kept here (popped from its list into ``_frame``, which then
    # holds its only reference), so each column's Arrow memory goes once converted: a peak of
    # one frame, not a frame and a table.
    table = [_table(parts, names, damaged)]
    order = _chats_first(table[0]) if chats_first and {"kind", "phase"} <= set(names) else None
    refusals = None
    if refusal_columns:
        apart = list(refusal_columns)
        if not {*apart, "outcome"} <= set(names) or "outcome" in apart:
            raise ValueError(
                f"refusal_columns {apart} must be among the columns read, beside 'outcome'"
            )
        refusals = _refusals(table[0], order, apart)
        table[0] = table[0].drop_columns(apart)
    frame = _frame(table.pop(), order)
    return RunRecords(frame, len(parts), tuple(damaged), refusals)


def _table(parts: list[Path], names: list[str], damaged: list[DamagedPart]) -> pa.Table:
    """The readable parts' records; the others are added to ``damaged``."""
    try:
        table = _read(parts, names)
    except (pa.ArrowException, OSError):
        readable, unreadable = _readable(parts)
        damaged.extend(unreadable)
        table = _read(readable, names)
    return table


def read_records(
    run_dir: Path, columns: Sequence[str] | None = None, *, chats_first: bool = False
) -> pd.DataFrame:
    """Every record of a run; a part that cannot be read is a ``ConfigError`` naming it."""
    found = read_run_records(run_dir, columns, chats_first=chats_first)
    if found.damaged:
        more = f" (and {len(found.damaged) - 1} more)" if len(found.damaged) > 1 else ""
        raise ConfigError(found.damaged[0].describe() + more)
    return found.frame
