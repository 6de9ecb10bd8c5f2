"""Records as Arrow tables in RECORD_SCHEMA."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import pyarrow as pa
import pytest

from harness.api.answer import ErrorClass, classify_answer, transport_answer
from harness.run import records as records_module
from harness.run.records import (
    RECORD_COLUMNS,
    RECORD_SCHEMA,
    Record,
    is_load_chat,
    records_to_table,
    starts_with,
)

RecordFactory = Callable[..., Record]
Fixture = Callable[[str], bytes]


def mixed_batch(make_record: RecordFactory, api_fixture: Fixture) -> list[Record]:
    throttled = classify_answer("chat", 429, api_fixture("seed_429_throttling.json"))
    quota = classify_answer("chat", 429, api_fixture("seed_429_out_of_quota.json"))
    lost = transport_answer(ErrorClass.TIMEOUT, "timed out")
    ok = make_record(request_id="local-0")
    return [
        ok,
        replace(ok, answer=throttled).replace(request_id="local-1"),
        replace(ok, answer=quota).replace(request_id="local-2"),
        replace(ok, answer=lost).replace(request_id="local-3"),
    ]


def test_every_column_is_documented() -> None:
    documentation = records_module.__doc__
    assert documentation is not None
    for column in RECORD_COLUMNS:
        assert f"``{column}``" in documentation, column


def test_the_schema_has_one_field_per_record_column() -> None:
    assert RECORD_SCHEMA.names == list(RECORD_COLUMNS)
    assert RECORD_SCHEMA.field("send_mono_ns").type == pa.int64()
    assert RECORD_SCHEMA.field("http_status").type == pa.int32()
    assert RECORD_SCHEMA.field("body_valid").type == pa.bool_()
    assert RECORD_SCHEMA.field("wait_sec").type == pa.float64()
    assert RECORD_SCHEMA.field("m_limit").type == pa.string()


def test_a_batch_becomes_a_table_in_the_schema(
    make_record: RecordFactory, api_fixture: Fixture
) -> None:
    batch = mixed_batch(make_record, api_fixture)
    table = records_to_table(batch)
    assert table.schema == RECORD_SCHEMA
    assert table.num_rows == 4
    rows = table.to_pylist()
    assert [Record.from_columns(row) for row in rows] == batch
    assert table.column("outcome").to_pylist() == ["ok", "throttled", "out_of_quota",
                                                   "transport_error"]  # fmt: skip
    assert table.column("wait_ns").to_pylist() == [None, 36_581_786_000, None, None]
    assert table.column("reset_at_offset_s").to_pylist() == [None, None, 28_800, None]


def test_an_empty_batch_is_an_empty_table_in_the_schema() -> None:
    table = records_to_table([])
    assert table.schema == RECORD_SCHEMA
    assert table.num_rows == 0


PHASES = ["hammer", "access:no-token", None, "access:other-org", "roundtrip", "access:no-token"]


@pytest.mark.parametrize("dtype", ["category", "object", "str"])
def test_starts_with_tests_each_value_and_a_missing_one_is_false(dtype: str) -> None:
    values = pd.Series(PHASES, index=[5, 4, 3, 2, 1, 0], dtype=dtype)
    hits = starts_with(values, "access:")
    assert hits.tolist() == [False, True, False, True, False, True]
    assert hits.index.tolist() == [5, 4, 3, 2, 1, 0]


def test_a_load_chat_is_a_chat_outside_the_access_probes() -> None:
    records = pd.DataFrame(
        {"kind": ["chat", "chat", "chat", "create", "update"], "phase": PHASES[:5]}
    ).astype("category")
    assert is_load_chat(records).tolist() == [True, False, True, False, False]
