"""Compaction: Arrow parts become Parquet parts of the same rows, and nothing is lost on the way."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from harness.run import compaction
from harness.run.compaction import compact
from harness.run.parts import part_paths, read_part, records_dir, write_arrow_part
from harness.run.reader import read_records
from harness.run.records import Record, records_to_table
from harness.run.sink import RecordSink

RecordFactory = Callable[..., Record]
PREFIX = "part-local-"  # the test's parts: part-local-<seq>


def arrow_parts(folder: Path, make_record: RecordFactory, sizes: list[int]) -> list[pa.Table]:
    tables = []
    for number, size in enumerate(sizes):
        table = records_to_table(
            [make_record(request_id=f"local-{number}-{n}") for n in range(size)]
        )
        write_arrow_part(table, folder / f"part-local-{number:06d}.arrow")
        tables.append(table)
    return tables


def test_each_arrow_part_becomes_the_parquet_part_of_the_same_rows(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    tables = arrow_parts(tmp_path, make_record, [3, 1])
    assert compact(tmp_path, PREFIX) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "part-local-000000.parquet",
        "part-local-000001.parquet",
    ]
    assert [read_part(p).equals(t) for p, t in zip(part_paths(tmp_path), tables, strict=True)] == [
        True,
        True,
    ]
    assert compact(tmp_path, PREFIX) == 0  # nothing left to do


def test_a_parquet_write_that_fails_keeps_the_arrow_part(
    tmp_path: Path, make_record: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    (table,) = arrow_parts(tmp_path, make_record, [2])

    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(compaction.pq, "write_table", full_disk)
    assert compact(tmp_path, PREFIX) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["part-local-000000.arrow"]
    assert read_part(part_paths(tmp_path)[0]).equals(table)


def test_a_parquet_part_that_does_not_hold_every_row_is_not_kept(
    tmp_path: Path, make_record: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrow_parts(tmp_path, make_record, [3])
    monkeypatch.setattr(compaction, "part_rows", lambda path: 2)
    assert compact(tmp_path, PREFIX) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["part-local-000000.arrow"]


def test_a_compaction_stopped_after_its_rename_is_finished_by_the_next(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    arrow_parts(tmp_path, make_record, [2])
    compact(tmp_path, PREFIX)
    # As if stopped between the rename and the removal: both forms, and a stale temporary.
    write_arrow_part(read_part(tmp_path / "part-local-000000.parquet"),
                     tmp_path / "part-local-000000.arrow")  # fmt: skip
    arrow_parts(tmp_path, make_record, [2, 1])  # and part 1 only as Arrow
    (tmp_path / ".part-local-000001.parquet.tmp").write_bytes(b"half a part")
    assert compact(tmp_path, PREFIX) == 1  # part 1; part 0's Arrow twin is only removed
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "part-local-000000.parquet",
        "part-local-000001.parquet",
    ]
    assert read_part(tmp_path / "part-local-000001.parquet").num_rows == 1


def test_a_run_with_parts_in_both_forms_reads_every_record_once(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    folder = records_dir(tmp_path)
    folder.mkdir()
    arrow_parts(folder, make_record, [3, 2])
    compact(folder, PREFIX)
    arrow_parts(folder, make_record, [3, 2, 4])  # 0 and 1 again as Arrow twins, 2 only as Arrow
    frame = read_records(tmp_path)
    assert len(frame) == 9
    assert frame["request_id"].is_unique


def test_the_background_compactor_compacts_while_its_parent_lives(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    sink = RecordSink(tmp_path, "local")
    for pair in ((0, 1), (2, 3)):
        sink.write(records_to_table([make_record(request_id=f"local-{n}") for n in pair]))
    folder = records_dir(tmp_path)
    assert {p.suffix for p in part_paths(folder)} == {".arrow"}
    child = subprocess.Popen(
        [sys.executable, "-m", "harness.run.compaction", str(folder), sink.prefix, str(os.getpid())]
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(p.suffix == ".arrow" for p in part_paths(folder)):
            time.sleep(0.05)
        assert [p.name for p in part_paths(folder)] == [
            f"{sink.prefix}000000.parquet",
            f"{sink.prefix}000001.parquet",
        ]
    finally:
        child.kill()
        child.wait()
    assert sorted(read_records(tmp_path)["request_id"]) == [f"local-{n}" for n in range(4)]


def test_the_background_compactor_ends_without_its_parent(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    done = subprocess.run(
        [sys.executable, "-m", "harness.run.compaction", str(tmp_path), PREFIX,
         str(gone.pid)],
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0


def test_compaction_never_touches_a_part_of_another_prefix(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    # Another run's parts in the folder: its Arrow part 0 beside its own Parquet twin, and an
    # Arrow part 1 alone. A compaction of this run's prefix leaves both as they are.
    other = "part-other-"
    table = records_to_table([make_record(request_id="other-0")])
    write_arrow_part(table, tmp_path / f"{other}000000.arrow")
    compact(tmp_path, other)
    write_arrow_part(table, tmp_path / f"{other}000000.arrow")
    write_arrow_part(table, tmp_path / f"{other}000001.arrow")
    arrow_parts(tmp_path, make_record, [2])
    assert compact(tmp_path, PREFIX) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "part-local-000000.parquet",
        f"{other}000000.arrow",
        f"{other}000000.parquet",
        f"{other}000001.arrow",
    ]
