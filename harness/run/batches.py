"""The hot path's record batches: one small tuple per request in, one Arrow table per batch out.

A request's record is mostly made of parts that repeat request after request: its kind and
phase, the client's context and the clock offset (one ``Prefix``), and for every success the same
classified answer object. Appending them by reference costs one tuple per request; when the
batch is taken, the distinct combinations are converted once and repeated with ``take``, and
only the timestamps are per-row arrays.
The table equals ``records_to_table`` of the same records, column for column. Workers ship
their batches to the master as Arrow IPC streams (``table_to_bytes``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harness.api.answer import Answer
from harness.run.clock import ClockOffset
from harness.run.records import RECORD_COLUMNS, RECORD_SCHEMA, RequestContext, Times

__all__ = [
    "Prefix",
    "Row",
    "RowBuffer",
    "prefix",
    "table_from_bytes",
    "table_to_bytes",
]


# The part of a record that repeats, flat: kind, phase, the RequestContext fields, then the clock
# offset and its error. A sender builds it once per client and phase (``prefix``).
Prefix = tuple[object, ...]
# A row: the prefix, send_wall, recv_wall, send_mono, recv_mono, intended_send_mono (an open
# model's, else None), and the classified answer.
Row = tuple[Prefix, int, int, int, int, int | None, Answer]


def prefix(kind: str, phase: str, context: RequestContext, offset: ClockOffset) -> Prefix:
    return (kind, phase, *context, *offset)


_REPEATED_COLUMNS = (
    "kind",
    "phase",
    *RequestContext._fields,
    *ClockOffset._fields,
    *Answer._fields,
)
_REPEATED_SCHEMA = pa.schema([RECORD_SCHEMA.field(name) for name in _REPEATED_COLUMNS])

# pyarrow imports pandas on its first conversion from Python objects, which takes most of a second:
# paid here, at start-up, rather than by the first batch, which would stall every request in flight.
pa.array([0], pa.int64())


class RowBuffer:
    """Rows of one process; ``take()`` numbers them ``<process>-<seq>`` in the order added."""

    def __init__(self, process: str) -> None:
        self.process = process
        self._rows: list[Row] = []
        self._next_sequence = 0

    def __len__(self) -> int:
        return len(self._rows)

    def append(self, row: Row) -> None:
        self._rows.append(row)

    def take(self) -> pa.Table:
        """Every buffered row as a table in ``RECORD_SCHEMA``; the buffer is left empty."""
        rows, self._rows = self._rows, []
        if not rows:
            return RECORD_SCHEMA.empty_table()
        first = self._next_sequence
        self._next_sequence += len(rows)
        prefixes, *times, answers = zip(*rows, strict=True)
        distinct: dict[tuple[int, int], int] = {}
        examples: list[int] = []
        indices: list[int] = []
        # Rows hold their parts alive, so an id() names one object for the whole batch.
        keys = zip(map(id, prefixes), map(id, answers), strict=True)
        for position, key in enumerate(keys):
            index = distinct.get(key)
            if index is None:
                index = distinct[key] = len(examples)
                examples.append(position)
            indices.append(index)
        repeated = _repeated_table([(*prefixes[p], *answers[p]) for p in examples]).take(
            pa.array(indices, pa.int32())
        )
        columns = {name: repeated.column(name) for name in _REPEATED_COLUMNS}
        for name, values in zip(Times._fields, times, strict=True):
            columns[name] = pa.array(values, pa.int64())
        sequence = pa.array(np.arange(first, first + len(rows), dtype=np.int64))
        columns["request_id"] = pc.binary_join_element_wise(
            pa.scalar(f"{self.process}-"), pc.cast(sequence, pa.string()), ""
        )
        columns["process"] = pa.repeat(pa.scalar(self.process, pa.string()), len(rows))
        elapsed = pc.subtract(columns["recv_mono_ns"], columns["send_mono_ns"])
        columns["latency_ms"] = pc.divide(pc.cast(elapsed, pa.float64()), 1e6)
        return pa.Table.from_arrays(
            [columns[name] for name in RECORD_COLUMNS], schema=RECORD_SCHEMA
        )


def _repeated_table(rows: list[tuple[object, ...]]) -> pa.Table:
    arrays = [
        pa.array(column, type=field.type)
        for column, field in zip(zip(*rows, strict=True), _REPEATED_SCHEMA, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=_REPEATED_SCHEMA)


def table_to_bytes(table: pa.Table) -> bytes:
    """A batch as an Arrow IPC stream: what a worker ships to the master."""
    out = pa.BufferOutputStream()
    with pa.ipc.new_stream(out, table.schema) as writer:
        writer.write_table(table)
    data: bytes = out.getvalue().to_pybytes()
    return data


def table_from_bytes(data: bytes) -> pa.Table:
    """A shipped batch back as a table; anything but a batch of records is a ``ValueError``."""
    try:
        table: pa.Table = pa.ipc.open_stream(data).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"not an Arrow record batch: {exc}") from None
    if not table.schema.equals(RECORD_SCHEMA):
        raise ValueError("the batch's columns are not the record schema")
    return table
