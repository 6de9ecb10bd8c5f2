"""RowBuffer: the column-wise table of the hot path equals the reference ``records_to_table``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.api.answer import Answer, ErrorClass, classify_answer, transport_answer
from harness.run.batches import (
    Row,
    RowBuffer,
    prefix,
    table_from_bytes,
    table_to_bytes,
)
from harness.run.clock import ClockOffset
from harness.run.records import (
    RECORD_SCHEMA,
    Origin,
    Record,
    RequestContext,
    Times,
    records_to_table,
)

Fixture = Callable[[str], bytes]

API_FIXTURES = Path(__file__).parent.parent / "api" / "fixtures"

CONTEXTS = [
    RequestContext("case-a", "bot-1", "ip", "127.10.0.1", "127.10.0.1", "dev-1", "", "0.0"),
    RequestContext("case-a", "bot-1", "ip", "127.10.0.2", "127.10.0.2", "dev-2", "", "1.0"),
    RequestContext("case-b", "bot-2", "device", "dev-9", "", "dev-9", "10.0.0.7", "0.3"),
]
OFFSETS = [ClockOffset(0, 0), ClockOffset(-1_234_567, 89_000)]
KINDS, PHASES = ["chat", "create_chatbot"], ["hammer", "burst", "setup"]
PREFIXES = {
    (kind, phase, context, offset): prefix(kind, phase, CONTEXTS[context], OFFSETS[offset])
    for kind in KINDS
    for phase in PHASES
    for context in range(len(CONTEXTS))
    for offset in range(len(OFFSETS))
}


def answers(api_fixture: Fixture) -> list[Answer]:
    return [
        classify_answer("chat", 200, b'{"answer":"hi","citations":[]}'),
        classify_answer("chat", 429, api_fixture("seed_429_throttling.json")),
        classify_answer("chat", 429, api_fixture("seed_429_out_of_quota.json")),
        transport_answer(ErrorClass.TIMEOUT, "timed out"),
        classify_answer("chat", 500, b"<html>oops</html>"),
    ]


def reference(process: str, first: int, rows: list[Row]) -> pa.Table:
    """What the rows are as plain ``Record``s, numbered from ``first``."""
    records = [
        Record(
            Origin(f"{process}-{number}", process, str(head[0]), str(head[1])),
            RequestContext(*head[2:10]),  # type: ignore[arg-type]
            Times(sw, rw, sm, rm, intended),
            ClockOffset(*head[10:]),  # type: ignore[arg-type]
            answer,
        )
        for number, (head, sw, rw, sm, rm, intended, answer) in enumerate(rows, start=first)
    ]
    return records_to_table(records)


row_choices = st.tuples(
    st.sampled_from(KINDS),
    st.sampled_from(PHASES),
    st.integers(0, len(CONTEXTS) - 1),
    st.integers(0, len(OFFSETS) - 1),
    st.integers(0, 4),
    st.integers(1_700_000_000_000_000_000, 1_800_000_000_000_000_000),
    st.integers(0, 10**12),
    st.integers(0, 10**10),
)


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.lists(row_choices, max_size=30), min_size=1, max_size=3))
def test_the_table_equals_the_reference_records(
    batches: list[list[tuple[str, str, int, int, int, int, int, int]]],
) -> None:
    choices = answers(lambda name: (API_FIXTURES / name).read_bytes())
    buffer = RowBuffer("w2")
    first = 0
    for batch in batches:
        rows: list[Row] = []
        for kind, phase, context, offset, answer, wall, mono, elapsed in batch:
            head = PREFIXES[(kind, phase, context, offset)]
            intended = None if elapsed % 3 else mono - elapsed // 7  # open-model rows, some
            row: Row = (head, wall, wall + elapsed, mono, mono + elapsed, intended, choices[answer])
            rows.append(row)
            buffer.append(row)
        table = buffer.take()
        assert table.schema == RECORD_SCHEMA
        assert table.equals(reference("w2", first, rows))
        assert len(buffer) == 0
        first += len(rows)


def test_equal_parts_that_are_distinct_objects_give_equal_columns(api_fixture: Fixture) -> None:
    buffer = RowBuffer("local")
    twin = RequestContext(*CONTEXTS[0])
    assert twin is not CONTEXTS[0]
    ok = answers(api_fixture)[0]
    buffer.append((prefix("chat", "hammer", CONTEXTS[0], OFFSETS[0]), 1, 2, 3, 5, None, ok))
    buffer.append((prefix("chat", "hammer", twin, OFFSETS[0]), 1, 2, 3, 6, None, ok))
    table = buffer.take()
    assert table.column("key").to_pylist() == ["127.10.0.1", "127.10.0.1"]
    assert table.column("latency_ms").to_pylist() == [2e-6, 3e-6]
    assert table.column("request_id").to_pylist() == ["local-0", "local-1"]


def test_an_empty_buffer_gives_an_empty_table_and_keeps_numbering() -> None:
    buffer = RowBuffer("local")
    assert buffer.take().equals(RECORD_SCHEMA.empty_table())
    buffer.append((prefix("chat", "hammer", CONTEXTS[0], OFFSETS[0]), 1, 2, 3, 4, None, _ok()))
    assert buffer.take().column("request_id").to_pylist() == ["local-0"]


def test_the_process_name_at_take_time_names_the_rows() -> None:
    buffer = RowBuffer("w?")
    buffer.append((prefix("chat", "hammer", CONTEXTS[0], OFFSETS[0]), 1, 2, 3, 4, None, _ok()))
    buffer.process = "w4"
    table = buffer.take()
    assert table.column("process").to_pylist() == ["w4"]
    assert table.column("request_id").to_pylist() == ["w4-0"]


def test_a_batch_survives_the_wire(api_fixture: Fixture) -> None:
    buffer = RowBuffer("w1")
    for index, answer in enumerate(answers(api_fixture)):
        head = prefix("chat", "burst", CONTEXTS[2], OFFSETS[1])
        buffer.append((head, index, index + 9, index, index + 9, index - 1, answer))
    table = buffer.take()
    assert table_from_bytes(table_to_bytes(table)).equals(table)


@pytest.mark.parametrize("data", [b"", b"not arrow", table_to_bytes(pa.table({"x": [1, 2]}))])
def test_anything_but_a_record_batch_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"Arrow record batch|record schema"):
        table_from_bytes(data)


def _ok() -> Answer:
    return classify_answer("chat", 200, b'{"answer":"hi","citations":[]}')
