"""The write path without Locust: a recorder's batches (or a worker's, over a fake transport)
written off the hub by the ``Writer``, the flush on stop, and the accounting of
``recording.json``."""

from __future__ import annotations

import logging
import threading
from functools import partial
from pathlib import Path
from typing import Any

import gevent
import msgpack
import pyarrow as pa
import pytest
from write_fakes import FakeClock, record_some

from harness.locust.protocol import Flushed, Message, Records
from harness.locust.recorder import Recorder
from harness.locust.shipping import Shipper
from harness.locust.writer import Writer
from harness.run import sink as sink_module
from harness.run.clock import ClockOffset
from harness.run.reader import read_records
from harness.run.recording import ProcessRecording, read_recording, write_recording
from harness.run.sink import RecordSink


def writer_of(run_dir: Path, failures: list[str] | None = None) -> Writer:
    sink = RecordSink(run_dir, "local")
    told = failures.append if failures is not None else _never
    return Writer(sink, told, compactor=False)


def _never(error: str) -> None:
    raise AssertionError(f"no write should fail: {error}")


def local_recorder(writer: Writer, clock: FakeClock, batch_rows: int = 1000) -> Recorder:
    return Recorder(
        "local",
        ClockOffset(0, 0),
        partial(writer.take, "local"),
        batch_rows=batch_rows,
        monotonic=clock,
    )


def test_the_last_rows_reach_the_disk_at_the_stop_and_every_record_is_accounted_for(
    tmp_path: Path,
) -> None:
    writer = writer_of(tmp_path)
    recorder = local_recorder(writer, FakeClock(), batch_rows=4)
    record_some(recorder, 10)  # two full batches; two rows still in the buffer at the stop
    writer.finish(recorder, {"case-a": 3}, {"case-a": 1})
    recording = writer.recording("run", [], [], [])
    assert recording.processes == {
        "local": ProcessRecording(recorded=10, received=10, written=10, lost=0)
    }
    assert recording.invariant_holds
    assert (recording.records_written, recording.records_lost) == (10, 0)
    assert (recording.dropped_sends, recording.behind_schedule) == ({"case-a": 3}, {"case-a": 1})
    write_recording(tmp_path, recording)
    assert read_recording(tmp_path) == recording
    records = read_records(tmp_path)
    assert sorted(records["request_id"]) == sorted(f"local-{n}" for n in range(10))


def test_a_run_quieter_than_a_batch_is_on_disk_after_the_stop(tmp_path: Path) -> None:
    writer = writer_of(tmp_path)
    recorder = local_recorder(writer, FakeClock())
    record_some(recorder, 3)
    assert writer.received["local"] == 0  # still in the recorder's buffer
    writer.finish(recorder, {}, {})
    recording = writer.recording("run", [], [], [])
    assert recording.processes["local"].written == 3
    assert recording.invariant_holds
    assert len(read_records(tmp_path)) == 3


def test_the_write_runs_off_the_hub_which_goes_on_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written_on: list[int] = []
    hub_ran = threading.Event()  # a real event: set by a greenlet, awaited by the writing thread
    original = sink_module.write_arrow_part

    def slow_write(table: pa.Table, final: Path) -> None:
        written_on.append(threading.get_ident())
        # On the hub this would wait out its timeout: the greenlet below could not run.
        assert hub_ran.wait(timeout=30)
        original(table, final)

    monkeypatch.setattr(sink_module, "write_arrow_part", slow_write)
    writer = writer_of(tmp_path)
    recorder = local_recorder(writer, FakeClock(), batch_rows=2)
    record_some(recorder, 2)  # handed over at once; take() does not wait for the write
    gevent.spawn(hub_ran.set)
    writer.wait()
    assert written_on
    assert written_on != [threading.get_ident()]
    writer.finish(recorder, {}, {})
    assert writer.recording("run", [], [], []).processes["local"].written == 2


class FullDisk:
    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")


def test_a_failed_write_is_told_once_on_the_hub_and_its_records_counted_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[tuple[str, int]] = []
    writer = Writer(
        RecordSink(tmp_path, "local"),
        lambda error: told.append((error, threading.get_ident())),
        compactor=False,
    )
    recorder = local_recorder(writer, FakeClock(), batch_rows=2)
    record_some(recorder, 2)
    writer.wait()  # written
    monkeypatch.setattr(sink_module, "write_arrow_part", FullDisk())
    record_some(recorder, 5)
    writer.finish(recorder, {}, {})
    assert len(told) == 1
    error, thread = told[0]
    assert error.endswith("No space left on device")
    assert thread == threading.get_ident()
    recording = writer.recording("run", [], [], [])
    assert recording.processes["local"] == ProcessRecording(
        recorded=7, received=7, written=2, lost=5
    )
    assert recording.invariant_holds  # every record written or counted lost
    assert (recording.records_written, recording.records_lost) == (2, 5)


def test_a_batch_after_the_close_is_counted_lost_not_dropped(tmp_path: Path) -> None:
    writer = writer_of(tmp_path)
    recorder = local_recorder(writer, FakeClock())
    record_some(recorder, 2)
    writer.finish(recorder, {}, {})
    late = Recorder("w1", ClockOffset(0, 0), partial(writer.take, "w1"))
    record_some(late, 3)
    late.close()
    recording = writer.recording("run", [], [], [])
    assert recording.processes["w1"] == ProcessRecording(
        recorded=None, received=3, written=0, lost=3
    )
    assert recording.records_lost == 3
    assert not recording.invariant_holds


class Wire:
    """A fake transport: each message packed as Locust packs it, kept in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def send(self, message: Message) -> None:
        self.sent.append((message.kind, msgpack.packb(message.wire(), use_bin_type=True)))

    def deliver(self, writer: Writer, process: str) -> None:
        """What the master does with each message of ``process`` (``master.MasterSession``)."""
        for kind, packed in self.sent:
            data = msgpack.unpackb(packed, raw=False)
            if kind == Records.kind:
                writer.take_shipped(process, Records.model_validate(data).table)
            elif kind == Flushed.kind:
                flushed = Flushed.model_validate(data)
                writer.report(process, flushed.recorded, flushed.dropped, flushed.behind)
        self.sent.clear()


def worker_recorder(process: str, shipper: Shipper, clock: FakeClock) -> Recorder:
    return Recorder(process, ClockOffset(5, 1), shipper.ship, batch_rows=4, monotonic=clock)


def test_a_workers_batches_and_its_total_account_for_every_record_at_the_master(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    master = RecordSink(tmp_path, "master")
    writer = Writer(master, _never, compactor=False)
    wires = {"w0": Wire(), "w1": Wire()}
    recorders = {
        name: worker_recorder(name, Shipper(wire.send), clock) for name, wire in wires.items()
    }
    record_some(recorders["w0"], 9)
    record_some(recorders["w1"], 2)
    for name, wire in wires.items():
        wire.deliver(writer, name)
    assert dict(writer.received) == {"w0": 8}  # full batches only, until the stop
    for name, wire in wires.items():
        Shipper(wire.send).report(recorders[name], {"case-a": 1}, {})
        assert wire.sent[-1][0] == Flushed.kind  # the total follows the last batch
        wire.deliver(writer, name)
    own = Recorder("master", ClockOffset(0, 0), partial(writer.take, "master"), monotonic=clock)
    writer.finish(own, {}, {})
    recording = writer.recording("run", [], [], [])
    assert recording.processes == {
        "master": ProcessRecording(recorded=0, received=0, written=0, lost=0),
        "w0": ProcessRecording(recorded=9, received=9, written=9, lost=0),
        "w1": ProcessRecording(recorded=2, received=2, written=2, lost=0),
    }
    assert recording.invariant_holds
    assert recording.dropped_sends == {"case-a": 2}
    records = read_records(tmp_path)
    assert set(records["clock_offset_ns"]) == {5}
    assert sorted(records["request_id"]) == sorted([f"w0-{n}" for n in range(9)] + ["w1-0", "w1-1"])


def test_a_worker_that_never_reports_leaves_the_run_incomplete(tmp_path: Path) -> None:
    writer = Writer(RecordSink(tmp_path, "master"), _never, compactor=False)
    wire = Wire()
    recorder = worker_recorder("w0", Shipper(wire.send), FakeClock())
    record_some(recorder, 5)
    wire.deliver(writer, "w0")  # one batch arrived; then the worker was lost
    writer.close()
    recording = writer.recording("run", ["w0"], [], [])
    assert recording.processes["w0"] == ProcessRecording(
        recorded=None, received=4, written=4, lost=0
    )
    assert not recording.invariant_holds
    assert recording.lost_workers == ["w0"]


def test_an_unreadable_shipped_batch_is_said_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = writer_of(tmp_path)
    with caplog.at_level(logging.ERROR, logger="aisk-harness"):
        writer.take_shipped("w3", b"not arrow")
    writer.close()
    assert "a record batch from w3 was unreadable" in caplog.text
    assert dict(writer.received) == {}
