"""Recorder: the one buffer between a record and the disk, with one size and one time limit,
on a fake clock; ``close`` is the flush on stop."""

from __future__ import annotations

import gevent
import pyarrow as pa
from write_fakes import CONTEXT, OK, FakeClock, record_some

from harness.locust.recorder import Recorder
from harness.run.clock import ClockOffset
from harness.run.records import RECORD_SCHEMA


def recorder_of(
    clock: FakeClock, handed: list[pa.Table], *, batch_rows: int = 3, interval_s: float = 1.0
) -> Recorder:
    return Recorder(
        "w2",
        ClockOffset(7, 2),
        handed.append,
        batch_rows=batch_rows,
        interval_s=interval_s,
        monotonic=clock,
    )


def ids(tables: list[pa.Table]) -> list[list[str]]:
    return [table.column("request_id").to_pylist() for table in tables]


def test_a_full_buffer_is_handed_over_as_one_table() -> None:
    handed: list[pa.Table] = []
    recorder = recorder_of(FakeClock(), handed)
    record_some(recorder, 7)
    assert ids(handed) == [["w2-0", "w2-1", "w2-2"], ["w2-3", "w2-4", "w2-5"]]
    assert (recorder.recorded, recorder.buffered) == (7, 1)
    assert all(table.schema == RECORD_SCHEMA for table in handed)
    assert handed[0].column("clock_offset_ns").to_pylist() == [7, 7, 7]
    assert handed[0].column("latency_ms").to_pylist() == [5.0, 5.0, 5.0]


def test_rows_leave_once_the_oldest_has_waited_the_interval() -> None:
    clock = FakeClock()
    handed: list[pa.Table] = []
    recorder = recorder_of(clock, handed, batch_rows=100)
    record_some(recorder, 1)
    clock.now += 0.6
    record_some(recorder, 1)  # a younger row does not restart the wait
    clock.now += 0.399
    recorder.flush_if_due()
    assert (handed, recorder.buffered) == ([], 2)
    clock.now += 0.001
    recorder.flush_if_due()
    assert [table.num_rows for table in handed] == [2]
    assert recorder.buffered == 0
    # The interval starts again at the next row, however long the buffer stayed empty.
    clock.now += 10.0
    recorder.flush_if_due()
    record_some(recorder, 1)
    clock.now += 0.999
    recorder.flush_if_due()
    assert [table.num_rows for table in handed] == [2]
    clock.now += 0.001
    recorder.flush_if_due()
    assert [table.num_rows for table in handed] == [2, 1]


def test_nothing_is_handed_over_when_nothing_was_recorded() -> None:
    clock = FakeClock()
    handed: list[pa.Table] = []
    recorder = recorder_of(clock, handed)
    clock.now += 60.0
    recorder.flush_if_due()
    recorder.flush()
    recorder.close()
    assert handed == []


def test_close_hands_over_the_last_rows() -> None:
    handed: list[pa.Table] = []
    recorder = recorder_of(FakeClock(), handed, batch_rows=100)
    record_some(recorder, 4)
    assert handed == []
    recorder.close()
    assert ids(handed) == [["w2-0", "w2-1", "w2-2", "w2-3"]]
    assert (recorder.recorded, recorder.buffered) == (4, 0)


def test_the_set_up_records_go_through_the_same_buffer() -> None:
    handed: list[pa.Table] = []
    recorder = recorder_of(FakeClock(), handed, batch_rows=2)
    recorder.add("create_chatbot", "setup", CONTEXT, (1, 2, 3, 4), OK)
    record_some(recorder, 1)
    assert ids(handed) == [["w2-0", "w2-1"]]
    assert handed[0].column("kind").to_pylist() == ["create_chatbot", "chat"]
    assert handed[0].column("intended_send_mono_ns").to_pylist() == [None, None]


def test_the_timer_hands_over_a_quiet_runs_rows_until_closed() -> None:
    clock = FakeClock()
    handed: list[pa.Table] = []
    recorder = recorder_of(clock, handed, batch_rows=100, interval_s=0.02)
    recorder.start()
    record_some(recorder, 2)
    clock.now += 0.05  # due on the fake clock: the timer looks every 5 ms of real time
    with gevent.Timeout(10):
        while not handed:
            gevent.sleep(0.001)
    assert [table.num_rows for table in handed] == [2]
    recorder.close()
    record_some(recorder, 1)
    clock.now += 1.0
    gevent.sleep(0.05)  # ten of the timer's looks, had it not stopped
    assert [table.num_rows for table in handed] == [2]
    assert recorder.buffered == 1
