"""Record parts on disk: Arrow while a run writes, Parquet once compacted, one part per stem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.run.parts import part_paths, part_rows, read_part, write_arrow_part
from harness.run.records import RECORD_SCHEMA, Record, records_to_table

RecordFactory = Callable[..., Record]


def table_of(make_record: RecordFactory, count: int) -> pa.Table:
    return records_to_table([make_record(request_id=f"local-{n}") for n in range(count)])


def test_an_arrow_part_reads_back_as_written(tmp_path: Path, make_record: RecordFactory) -> None:
    table = table_of(make_record, 4)
    write_arrow_part(table, tmp_path / "part-local-000000.arrow")
    back = read_part(tmp_path / "part-local-000000.arrow")
    assert back.schema == RECORD_SCHEMA
    assert back.equals(table)
    assert read_part(tmp_path / "part-local-000000.arrow", ["request_id"]).num_columns == 1
    assert part_rows(tmp_path / "part-local-000000.arrow") == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part-local-000000.arrow"]


def test_a_failed_write_leaves_no_temporary_and_says_so(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    final = tmp_path / "part-local-000000.arrow"
    final.mkdir()  # the final name is taken: the rename fails
    with pytest.raises(IsADirectoryError):
        write_arrow_part(table_of(make_record, 1), final)
    assert [p.name for p in tmp_path.iterdir()] == [final.name]


def test_a_part_in_both_forms_is_listed_once_as_parquet(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    table = table_of(make_record, 2)
    write_arrow_part(table, tmp_path / "part-local-000000.arrow")
    pq.write_table(table, tmp_path / "part-local-000000.parquet")
    write_arrow_part(table, tmp_path / "part-local-000001.arrow")
    (tmp_path / ".part-local-000002.arrow.tmp").write_bytes(b"half a part")
    assert [p.name for p in part_paths(tmp_path)] == [
        "part-local-000000.parquet",
        "part-local-000001.arrow",
    ]
    assert [part_rows(p) for p in part_paths(tmp_path)] == [2, 2]


def test_no_folder_is_no_parts(tmp_path: Path) -> None:
    assert part_paths(tmp_path / "absent") == []
