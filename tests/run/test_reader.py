"""Reading a run's records back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from harness.run.parts import records_dir
from harness.run.reader import read_records
from harness.run.records import RECORD_COLUMNS, Record, records_to_table
from harness.run.sink import RecordSink

RecordFactory = Callable[..., Record]


def write(run_dir: Path, writer: str, records: list[Record]) -> None:
    sink = RecordSink(run_dir, writer)
    sink.append_table(records_to_table(records))
    sink.close()


def test_read_records_returns_every_part(tmp_path: Path, make_record: RecordFactory) -> None:
    write(tmp_path, "w0", [make_record(request_id=f"w0-{n}") for n in range(3)])
    write(tmp_path, "w1", [make_record(request_id=f"w1-{n}", wait_ns=n) for n in range(2)])
    assert len(list(records_dir(tmp_path).glob("part-*.parquet"))) == 2
    frame = read_records(tmp_path)
    assert list(frame.columns) == list(RECORD_COLUMNS)
    assert sorted(frame["request_id"]) == ["w0-0", "w0-1", "w0-2", "w1-0", "w1-1"]
    waits = frame.set_index("request_id")["wait_ns"]
    assert waits["w1-1"] == 1
    assert pd.isna(waits["w0-0"])


def test_read_records_ignores_temporaries(tmp_path: Path, make_record: RecordFactory) -> None:
    write(tmp_path, "local", [make_record()])
    (records_dir(tmp_path) / ".part-local-000001.parquet.tmp").write_bytes(b"half a file")
    assert len(read_records(tmp_path)) == 1


@pytest.mark.parametrize("make_dir", [True, False])
def test_no_records_is_an_empty_frame_with_every_column(tmp_path: Path, make_dir: bool) -> None:
    if make_dir:
        records_dir(tmp_path).mkdir()
    frame = read_records(tmp_path)
    assert frame.empty
    assert list(frame.columns) == list(RECORD_COLUMNS)
