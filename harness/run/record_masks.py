"""Masks over an Arrow table of records, without a frame: what the reader needs to decide
before converting millions of records to pandas (which rows come first, which carry a quota
refusal's columns). Each chunk of a dictionary column is judged once per distinct value."""

from __future__ import annotations

import typing

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from harness.api.answer import Outcome
from harness.run.records import PROBE_PHASE_PREFIX

__all__ = ["load_chat_mask", "quota_refusal_mask"]


def load_chat_mask(table: pa.Table) -> npt.NDArray[np.bool_]:
    """``is_load_chat`` of an Arrow table's records, without a frame: each chunk of a dictionary
    column judged once per distinct value (10 M records: 0.14 s, 0.4-0.7 s through pandas)."""
    kind = _matches(table.column("kind"), lambda values: pc.equal(values, "chat"))
    probe = _matches(
        table.column("phase"), lambda values: pc.starts_with(values, PROBE_PHASE_PREFIX)
    )
    return kind & ~probe


def quota_refusal_mask(table: pa.Table) -> npt.NDArray[np.bool_]:
    """Which of an Arrow table's records are quota refusals (outcome ``out_of_quota``)."""
    return _matches(
        table.column("outcome"), lambda values: pc.equal(values, Outcome.OUT_OF_QUOTA.value)
    )


def _matches(
    column: pa.ChunkedArray, test: typing.Callable[[pa.Array], pa.Array]
) -> npt.NDArray[np.bool_]:
    """Which rows' values pass ``test`` (a missing value does not)."""
    parts = [np.zeros(0, dtype=bool)]
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            hits = pc.take(test(chunk.dictionary), chunk.indices)  # a missing index: null
            parts.append(np.asarray(hits.fill_null(False), dtype=bool))
        else:
            parts.append(np.asarray(test(chunk).fill_null(False), dtype=bool))
    return np.concatenate(parts)
