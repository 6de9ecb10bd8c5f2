"""RecordSink: each batch one whole part at once (Arrow while open, Parquet once closed), a
batch a failed write left kept and retried, memory bounded, every record written or lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.run import sink as sink_module
from harness.run.parts import read_part, records_dir
from harness.run.records import RECORD_SCHEMA, Record, records_to_table
from harness.run.sink import RecordSink

RecordFactory = Callable[..., Record]


def write(sink: RecordSink, records: list[Record]) -> None:
    sink.write(records_to_table(records))


def batch(
    make_record: RecordFactory, count: int, start: int = 0, process: str = "local"
) -> list[Record]:
    return [make_record(request_id=f"{process}-{start + n}", process=process) for n in range(count)]


def parts(run_dir: Path) -> list[Path]:
    return sorted(records_dir(run_dir).iterdir())


def ids_in(path: Path) -> list[str]:
    table = read_part(path)
    assert table.schema == RECORD_SCHEMA
    ids: list[str] = table.column("request_id").to_pylist()
    return ids


def test_the_records_directory_is_created(tmp_path: Path) -> None:
    RecordSink(tmp_path / "run", "local")
    assert records_dir(tmp_path / "run").is_dir()


def test_a_batch_is_written_at_once_as_one_whole_part_and_no_temporary(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    sink = RecordSink(tmp_path, "w3", tag="t")
    write(sink, batch(make_record, 3))
    assert [p.name for p in parts(tmp_path)] == ["part-w3-t-000000.arrow"]
    assert ids_in(parts(tmp_path)[0]) == ["local-0", "local-1", "local-2"]
    assert (sink.pending, sink.written, sink.write_error) == (0, 3, None)
    write(sink, batch(make_record, 2, start=3))
    assert [ids_in(p) for p in parts(tmp_path)] == [
        ["local-0", "local-1", "local-2"],
        ["local-3", "local-4"],
    ]


def test_close_rewrites_the_parts_as_parquet(tmp_path: Path, make_record: RecordFactory) -> None:
    sink = RecordSink(tmp_path, "w3", tag="t")
    write(sink, batch(make_record, 2))
    write(sink, batch(make_record, 1, start=2))
    sink.close()
    assert [p.name for p in parts(tmp_path)] == [
        "part-w3-t-000000.parquet",
        "part-w3-t-000001.parquet",
    ]
    assert [ids_in(p) for p in parts(tmp_path)] == [["local-0", "local-1"], ["local-2"]]
    assert (sink.written, sink.lost) == (3, 0)


def test_an_empty_batch_writes_nothing(tmp_path: Path) -> None:
    sink = RecordSink(tmp_path, "local", tag="t")
    sink.write(RECORD_SCHEMA.empty_table())
    sink.close()
    assert parts(tmp_path) == []


def test_the_written_records_are_counted_by_process(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    sink = RecordSink(tmp_path, "master", tag="t")
    write(sink, batch(make_record, 2, process="w0") + batch(make_record, 3, process="w1"))
    write(sink, batch(make_record, 1, start=2, process="w0"))
    sink.close()
    assert dict(sink.written_by_process) == {"w0": 3, "w1": 3}
    assert (sink.written, sink.lost, dict(sink.lost_by_process)) == (6, 0, {})


def test_close_is_idempotent_and_a_batch_after_it_is_counted_late(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    sink = RecordSink(tmp_path, "local", tag="t")
    write(sink, batch(make_record, 2))
    sink.close()
    sink.close()
    write(sink, batch(make_record, 4, start=2, process="w1"))
    assert len(parts(tmp_path)) == 1
    assert (sink.written, sink.late, sink.lost) == (2, 4, 4)
    assert dict(sink.lost_by_process) == {"w1": 4}


def test_a_failed_rename_keeps_the_batch_for_a_retry(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    sink = RecordSink(tmp_path, "local", tag="t")
    blocker = records_dir(tmp_path) / "part-local-t-000000.arrow"
    blocker.mkdir()  # the final name is taken by a directory: the rename fails
    write(sink, batch(make_record, 2))
    sink.close()
    assert sink.write_error is not None
    assert str(blocker) in sink.write_error
    assert (sink.pending, sink.written, sink.lost) == (2, 0, 2)
    assert [p.name for p in parts(tmp_path)] == [blocker.name]  # the temporary is gone
    blocker.rmdir()
    sink.close()  # not closed yet: close retries
    assert sink.write_error is None
    assert (sink.pending, sink.written, sink.lost) == (0, 2, 0)
    assert [p.name for p in parts(tmp_path)] == ["part-local-t-000000.parquet"]
    assert ids_in(parts(tmp_path)[0]) == ["local-0", "local-1"]


class FullDisk:
    """A part writer that fails like a full disk, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        raise OSError(28, "No space left on device")


def test_a_kept_batch_is_retried_with_the_next_one_in_one_part(
    tmp_path: Path, make_record: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = RecordSink(tmp_path, "local", tag="t")
    monkeypatch.setattr(sink_module, "write_arrow_part", FullDisk())
    write(sink, batch(make_record, 1))
    assert sink.write_error is not None
    assert sink.write_error.endswith("No space left on device")
    assert (sink.pending, sink.failed, parts(tmp_path)) == (1, True, [])
    monkeypatch.undo()
    write(sink, batch(make_record, 2, start=1))
    assert sink.write_error is None
    assert [p.name for p in parts(tmp_path)] == ["part-local-t-000000.arrow"]
    assert ids_in(parts(tmp_path)[0]) == ["local-0", "local-1", "local-2"]
    assert (sink.pending, sink.written, sink.lost, sink.failed) == (0, 3, 0, True)


def test_while_writes_keep_failing_memory_stays_bounded_and_written_parts_stay(
    tmp_path: Path, make_record: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = RecordSink(tmp_path, "local", max_kept=5, tag="t")
    write(sink, batch(make_record, 3))  # one whole part before the disk fills
    full = FullDisk()
    monkeypatch.setattr(sink_module, "write_arrow_part", full)
    for start in range(3, 103, 10):
        write(sink, batch(make_record, 10, start=start))
    # One try per batch, each with what is kept; the oldest five kept, the rest dropped.
    assert full.calls == 10
    assert (sink.pending, sink.dropped, sink.written) == (5, 95, 3)
    sink.close()
    assert full.calls == 11
    assert not sink.closed  # a later close retries
    assert (sink.lost, dict(sink.lost_by_process)) == (100, {"local": 100})
    assert [ids_in(p) for p in parts(tmp_path)] == [["local-0", "local-1", "local-2"]]
    monkeypatch.undo()
    sink.close()
    assert (sink.written, sink.lost, sink.closed) == (8, 95, True)
    assert ids_in(parts(tmp_path)[1]) == [f"local-{n}" for n in range(3, 8)]


def test_an_unusable_run_directory_is_a_config_error(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "run"
    not_a_directory.write_text("a file where the run directory should be")
    with pytest.raises(ConfigError, match="cannot create the records directory"):
        RecordSink(not_a_directory, "local")


def test_each_sink_names_its_parts_apart_and_lists_them(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    first, second = RecordSink(tmp_path, "local"), RecordSink(tmp_path, "local")
    assert first.prefix != second.prefix  # a tag of its own: no part can take another's name
    write(first, batch(make_record, 2))
    assert first.parts == [p.stem for p in parts(tmp_path)]
    assert first.parts[0].startswith(first.prefix)


def test_a_second_sink_in_the_same_directory_loses_none_of_its_records_nor_the_firsts(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    # Locust's web UI started twice into one directory: run 2's Arrow part 0 was taken for the
    # twin of run 1's Parquet part 0 and deleted by compaction.
    first = RecordSink(tmp_path, "local")
    write(first, batch(make_record, 3))
    first.close()
    second = RecordSink(tmp_path, "local")
    write(second, batch(make_record, 2, start=10))
    second.close()
    assert (first.written, second.written) == (3, 2)
    ids = sorted(i for path in parts(tmp_path) for i in ids_in(path))
    assert ids == sorted([f"local-{n}" for n in (0, 1, 2, 10, 11)])
    assert {p.suffix for p in parts(tmp_path)} == {".parquet"}
    assert sorted(first.parts + second.parts) == [p.stem for p in parts(tmp_path)]
