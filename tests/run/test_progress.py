"""The progress line's counts, from record batches, agree with the run's summary of its records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.run.progress import Progress
from harness.run.reader import read_records
from harness.run.records import Record, records_to_table
from harness.run.sink import RecordSink
from harness.run.summary import late_sends, summarise

RecordFactory = Callable[..., Record]


def mixed(make_record: RecordFactory) -> list[Record]:
    sent = 50_000_000
    return [
        make_record(request_id="a", outcome="ok"),
        make_record(request_id="b", outcome="ok", case="open", send_mono_ns=sent,
                    intended_send_mono_ns=sent - 6_000_000),  # late: 6 ms behind
        make_record(request_id="c", outcome="ok", case="open", send_mono_ns=sent,
                    intended_send_mono_ns=sent - 1_000_000),  # on time
        make_record(request_id="d", outcome="throttled", http_status=429),
        make_record(request_id="e", outcome="throttled", http_status=429),
        make_record(request_id="f", outcome="out_of_quota", http_status=429),
        make_record(request_id="g", outcome="server_error", http_status=500),
        make_record(request_id="h", kind="create_chatbot"),  # set-up: not counted
        make_record(request_id="i", phase="access:no-token", outcome="client_error"),  # a probe
    ]  # fmt: skip


def test_the_counts_of_two_batches_agree_with_the_summary(
    make_record: RecordFactory, tmp_path: Path
) -> None:
    records = mixed(make_record)
    progress = Progress()
    progress.add(records_to_table(records[:4]))
    progress.add(records_to_table(records[4:]))
    progress.add(records_to_table([]))
    assert (progress.requests, progress.admitted, progress.throttled) == (7, 3, 2)
    assert (progress.out_of_quota, progress.late) == (1, 1)
    sink = RecordSink(tmp_path, "local")
    sink.write(records_to_table(records))
    sink.close()
    frame = read_records(tmp_path)
    summary = summarise(frame)
    assert progress.requests == summary["requests"].sum()
    assert progress.admitted == summary["ok"].sum()
    assert progress.throttled == summary["throttled"].sum()
    assert progress.out_of_quota == summary["out_of_quota"].sum()
    assert progress.late == sum(late_sends(frame).values())


def test_the_line_says_how_far_and_what_the_limiter_did() -> None:
    progress = Progress(requests=840, admitted=600, throttled=220, out_of_quota=20, late=3)
    assert progress.line(12.4, 30) == (
        "12 s of 30 s: 840 requests, 600 admitted, 220 throttled, 20 out of quota, 3 late sends"
    )
