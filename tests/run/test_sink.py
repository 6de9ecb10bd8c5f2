"""RecordSink: whole parts (Arrow while open, Parquet once closed), flushed by size and by an
injected clock, errors kept."""

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


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def append(sink: RecordSink, record: Record) -> None:
    sink.append_table(records_to_table([record]))


def extend(sink: RecordSink, records: list[Record]) -> None:
    """One batch per record, as a stream of small batches reaches the sink."""
    for record in records:
        append(sink, record)


def batch(make_record: RecordFactory, count: int, start: int = 0) -> list[Record]:
    return [make_record(request_id=f"local-{start + n}") for n in range(count)]


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


def test_a_flush_writes_one_whole_part_and_no_temporary(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    sink = RecordSink(tmp_path, "w3", tag="t")
    extend(sink, batch(make_record, 3))
    assert sink.pending == 3
    assert parts(tmp_path) == []
    sink.flush()
    assert [p.name for p in parts(tmp_path)] == ["part-w3-t-000000.arrow"]
    assert ids_in(parts(tmp_path)[0]) == ["local-0", "local-1", "local-2"]
    assert (sink.pending, sink.written, sink.write_error) == (0, 3, None)


def test_close_rewrites_the_parts_as_parquet(tmp_path: Path, make_record: RecordFactory) -> None:
    sink = RecordSink(tmp_path, "w3", batch_size=2, tag="t")
    extend(sink, batch(make_record, 3))
    assert [p.name for p in parts(tmp_path)] == ["part-w3-t-000000.arrow"]
    sink.close()
    assert [p.name for p in parts(tmp_path)] == [
        "part-w3-t-000000.parquet",
        "part-w3-t-000001.parquet",
    ]
    assert [ids_in(p) for p in parts(tmp_path)] == [["local-0", "local-1"], ["local-2"]]
    assert (sink.written, sink.lost) == (3, 0)


def test_an_empty_flush_writes_nothing(tmp_path: Path) -> None:
    sink = RecordSink(tmp_path, "local")
    sink.flush()
    sink.close()
    assert parts(tmp_path) == []


def test_the_buffer_is_written_when_batch_size_is_reached(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    sink = RecordSink(tmp_path, "local", batch_size=2, tag="t")
    extend(sink, batch(make_record, 5))
    assert [p.name for p in parts(tmp_path)] == [
        "part-local-t-000000.arrow",
        "part-local-t-000001.arrow",
    ]
    assert [ids_in(p) for p in parts(tmp_path)] == [["local-0", "local-1"], ["local-2", "local-3"]]
    assert (sink.pending, sink.written) == (1, 4)


def test_flush_if_due_follows_the_injected_clock(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    clock = FakeClock()
    sink = RecordSink(tmp_path, "local", flush_interval_s=2.0, monotonic=clock)
    append(sink, make_record())
    clock.now += 1.999
    sink.flush_if_due()
    assert (sink.pending, parts(tmp_path)) == (1, [])
    clock.now += 0.001
    sink.flush_if_due()
    assert sink.pending == 0
    assert len(parts(tmp_path)) == 1
    # The interval restarts at the flush: a record appended now waits another two seconds.
    append(sink, make_record(request_id="local-1"))
    clock.now += 1.5
    sink.flush_if_due()
    assert sink.pending == 1
    clock.now += 0.5
    sink.flush_if_due()
    assert sink.pending == 0
    assert len(parts(tmp_path)) == 2


def test_appending_writes_the_buffer_once_it_is_older_than_the_interval(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    clock = FakeClock()
    sink = RecordSink(tmp_path, "local", batch_size=1000, flush_interval_s=2.0, monotonic=clock)
    append(sink, make_record())
    clock.now += 1.0
    append(sink, make_record(request_id="local-1"))
    assert (sink.pending, parts(tmp_path)) == (2, [])
    clock.now += 1.0
    append(sink, make_record(request_id="local-2"))
    # A busy run is written every two seconds, not only every batch_size records.
    assert sink.pending == 0
    assert [ids_in(p) for p in parts(tmp_path)] == [["local-0", "local-1", "local-2"]]


def test_flush_if_due_with_nothing_buffered_writes_nothing(tmp_path: Path) -> None:
    clock = FakeClock()
    sink = RecordSink(tmp_path, "local", flush_interval_s=1.0, monotonic=clock)
    clock.now += 10
    sink.flush_if_due()
    assert parts(tmp_path) == []


def test_close_flushes_once_and_is_idempotent(tmp_path: Path, make_record: RecordFactory) -> None:
    sink = RecordSink(tmp_path, "local")
    extend(sink, batch(make_record, 2))
    sink.close()
    sink.close()
    assert len(parts(tmp_path)) == 1
    assert sink.written == 2


def test_a_failed_rename_keeps_the_batch_for_a_retry(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    sink = RecordSink(tmp_path, "local", tag="t")
    extend(sink, batch(make_record, 2))
    blocker = records_dir(tmp_path) / "part-local-t-000000.arrow"
    blocker.mkdir()  # the final name is taken by a directory: the rename fails
    sink.close()
    assert sink.write_error is not None
    assert str(blocker) in sink.write_error
    assert (sink.pending, sink.written) == (2, 0)
    assert [p.name for p in parts(tmp_path)] == [blocker.name]  # the temporary is gone
    blocker.rmdir()
    sink.close()  # not closed yet: close retries
    assert sink.write_error is None
    assert (sink.pending, sink.written) == (0, 2)
    assert [p.name for p in parts(tmp_path)] == ["part-local-t-000000.parquet"]
    assert ids_in(parts(tmp_path)[0]) == ["local-0", "local-1"]


def test_a_failed_write_keeps_the_batch_and_says_why(
    tmp_path: Path, make_record: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    sink = RecordSink(tmp_path, "local", tag="t")
    append(sink, make_record())
    monkeypatch.setattr(sink_module, "write_arrow_part", full_disk)
    sink.flush()
    assert sink.write_error is not None
    assert sink.write_error.endswith("No space left on device")
    assert sink.pending == 1
    assert parts(tmp_path) == []
    monkeypatch.undo()
    sink.flush()
    assert sink.write_error is None
    assert [p.name for p in parts(tmp_path)] == ["part-local-t-000000.arrow"]


def test_an_unusable_run_directory_is_a_config_error(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "run"
    not_a_directory.write_text("a file where the run directory should be")
    with pytest.raises(ConfigError, match="cannot create the records directory"):
        RecordSink(not_a_directory, "local")


class FullDisk:
    """A part writer that fails like a full disk, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        raise OSError(28, "No space left on device")


def test_while_writes_keep_failing_memory_stays_bounded_and_written_parts_stay(
    tmp_path: Path, make_record: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    failures: list[str] = []
    sink = RecordSink(
        tmp_path, "local", batch_size=3, max_pending=5, flush_interval_s=2.0, monotonic=clock,
        on_failure=failures.append,
    )  # fmt: skip
    extend(sink, batch(make_record, 3))  # one whole part before the disk fills
    full = FullDisk()
    monkeypatch.setattr(sink_module, "write_arrow_part", full)
    extend(sink, batch(make_record, 100, start=3))
    # The first full batch failed once; later records neither retried nor grew the buffer.
    assert full.calls == 1
    assert (sink.pending, sink.dropped, sink.written) == (5, 95, 3)
    assert failures == [sink.write_error]
    assert sink.write_error is not None
    assert "No space left on device" in sink.write_error
    clock.now += 2.0
    append(sink, make_record(request_id="late"))  # a retry per flush interval, no more
    assert full.calls == 2
    sink.close()
    assert full.calls == 3
    assert len(failures) == 1  # told once
    assert sink.lost == 96 + 5
    assert [ids_in(p) for p in parts(tmp_path)] == [["local-0", "local-1", "local-2"]]


def test_after_the_disk_recovers_the_kept_batch_is_written(
    tmp_path: Path, make_record: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = RecordSink(tmp_path, "local", batch_size=2, max_pending=4)
    monkeypatch.setattr(sink_module, "write_arrow_part", FullDisk())
    extend(sink, batch(make_record, 6))
    assert (sink.pending, sink.dropped) == (4, 2)
    monkeypatch.undo()
    sink.close()
    assert sink.write_error is None
    assert (sink.written, sink.lost) == (4, 2)
    assert ids_in(parts(tmp_path)[0]) == ["local-0", "local-1", "local-2", "local-3"]


def test_each_sink_names_its_parts_apart_and_lists_them(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    first, second = RecordSink(tmp_path, "local"), RecordSink(tmp_path, "local")
    assert first.prefix != second.prefix  # a tag of its own: no part can take another's name
    extend(first, batch(make_record, 2))
    first.flush()
    assert first.parts == [p.stem for p in parts(tmp_path)]
    assert first.parts[0].startswith(first.prefix)


def test_a_second_sink_in_the_same_directory_loses_none_of_its_records_nor_the_firsts(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    # Locust's web UI started twice into one directory: run 2's Arrow part 0 was taken for the
    # twin of run 1's Parquet part 0 and deleted by compaction.
    first = RecordSink(tmp_path, "local")
    extend(first, batch(make_record, 3))
    first.close()
    second = RecordSink(tmp_path, "local")
    extend(second, batch(make_record, 2, start=10))
    second.close()
    assert (first.written, second.written) == (3, 2)
    ids = sorted(i for path in parts(tmp_path) for i in ids_in(path))
    assert ids == sorted([f"local-{n}" for n in (0, 1, 2, 10, 11)])
    assert {p.suffix for p in parts(tmp_path)} == {".parquet"}
    assert sorted(first.parts + second.parts) == [p.stem for p in parts(tmp_path)]
