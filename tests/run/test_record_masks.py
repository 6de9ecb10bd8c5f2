"""Masks over an Arrow table of records: the same rows as the frame's own tests pick."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.run.record_masks import load_chat_mask, quota_refusal_mask
from harness.run.records import is_load_chat

KIND_VALUES = st.sampled_from(["chat", "create_chatbot", "get_chatbot", None])
PHASE_VALUES = st.sampled_from(["hammer", "access:no-token", "access:", "polite-retry", "", None])
OUTCOME_VALUES = st.sampled_from(["ok", "throttled", "out_of_quota", "out_of_quota ", None])


def _table(columns: dict[str, list[list[str | None]]], dictionary: bool) -> pa.Table:
    """One record batch per chunk, each column plain text or dictionary-encoded."""

    def column(values: list[str | None]) -> pa.Array:
        array = pa.array(values, type=pa.string())
        return array.dictionary_encode() if dictionary else array

    chunks = len(next(iter(columns.values())))
    return pa.Table.from_batches(
        [
            pa.record_batch([column(values[n]) for values in columns.values()], names=list(columns))
            for n in range(chunks)
        ]
    )


@settings(max_examples=200, deadline=None)
@given(
    chunks=st.lists(
        st.lists(st.tuples(KIND_VALUES, PHASE_VALUES), max_size=6), min_size=1, max_size=4
    ),
    dictionary=st.booleans(),
)
def test_the_load_chat_mask_of_an_arrow_table_is_is_load_chat_of_its_frame(
    chunks: list[list[tuple[str | None, str | None]]], dictionary: bool
) -> None:
    kinds = [[k for k, _ in rows] for rows in chunks]
    phases = [[p for _, p in rows] for rows in chunks]
    table = _table({"kind": kinds, "phase": phases}, dictionary)
    expected = is_load_chat(table.to_pandas()).to_numpy(bool)
    assert load_chat_mask(table).tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(
    chunks=st.lists(st.lists(OUTCOME_VALUES, max_size=6), min_size=1, max_size=4),
    dictionary=st.booleans(),
)
def test_the_quota_refusal_mask_is_the_rows_whose_outcome_is_out_of_quota(
    chunks: list[list[str | None]], dictionary: bool
) -> None:
    table = _table({"outcome": chunks}, dictionary)
    expected = [value == "out_of_quota" for rows in chunks for value in rows]
    assert quota_refusal_mask(table).tolist() == expected
