"""The per-case summary of a run: outcomes and latency percentiles from every chat."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from harness.run.reader import read_records
from harness.run.records import RECORD_COLUMNS, Record, records_to_table
from harness.run.sink import RecordSink
from harness.run.summary import COUNT_COLUMNS, RefusedChats, refused_chats, summarise

RecordFactory = Callable[..., Record]
SUMMARY_COLUMNS = ["case", "requests", *COUNT_COLUMNS, "p50_ms", "p95_ms", "p99_ms"]


def frame_of(records: list[Record]) -> pd.DataFrame:
    return pd.DataFrame([record.row() for record in records], columns=list(RECORD_COLUMNS))


def write(run_dir: Path, writer: str, records: list[Record]) -> None:
    sink = RecordSink(run_dir, writer)
    sink.write(records_to_table(records))
    sink.close()


def chat(make_record: RecordFactory, case: str, outcome: str, latency_ms: float) -> Record:
    return make_record(case=case, outcome=outcome, latency_ms=latency_ms)


def test_summarise_counts_outcomes_per_case(make_record: RecordFactory) -> None:
    rows = [
        chat(make_record, "a", "ok", 1.0),
        chat(make_record, "a", "ok", 2.0),
        chat(make_record, "a", "throttled", 3.0),
        chat(make_record, "b", "transport_error", 4.0),
        chat(make_record, "b", "server_error", 5.0),
        make_record(case="a", kind="create_chatbot", outcome="ok"),  # set-up: not counted
    ]
    summary = summarise(frame_of(rows))
    assert list(summary.columns) == SUMMARY_COLUMNS
    by_case = summary.set_index("case")
    assert by_case.loc["a", "requests"] == 3
    assert by_case.loc["a", ["ok", "throttled", "out_of_quota"]].tolist() == [2, 1, 0]
    assert by_case.loc["b", "requests"] == 2
    assert by_case.loc["b", ["ok", "server_error", "transport_error"]].tolist() == [0, 1, 1]


def test_summarise_latency_percentiles_match_numpy(make_record: RecordFactory) -> None:
    rng = np.random.default_rng(7)
    # Whole nanoseconds, as a record's instants are.
    latencies = {
        "a": np.round(rng.exponential(20.0, 500) * 1e6) / 1e6,
        "b": np.round(rng.uniform(1.0, 9.0, 37) * 1e6) / 1e6,
    }
    rows = [
        chat(make_record, case, "ok", float(value))
        for case, values in latencies.items()
        for value in values
    ]
    summary = summarise(frame_of(rows)).set_index("case")
    for case, values in latencies.items():
        expected = np.percentile(values, [50, 95, 99])
        actual = summary.loc[case, ["p50_ms", "p95_ms", "p99_ms"]].to_numpy(dtype=float)
        np.testing.assert_allclose(actual, expected, rtol=1e-12)


def test_summarise_of_records_read_back(tmp_path: Path, make_record: RecordFactory) -> None:
    write(tmp_path, "local", [chat(make_record, "a", "out_of_quota", 3.0)])
    summary = summarise(read_records(tmp_path))
    assert summary.to_dict("records") == [
        {
            "case": "a",
            "requests": 1,
            "ok": 0,
            "empty_answer": 0,
            "throttled": 0,
            "out_of_quota": 1,
            "client_error": 0,
            "server_error": 0,
            "transport_error": 0,
            "p50_ms": 3.0,
            "p95_ms": 3.0,
            "p99_ms": 3.0,
        }
    ]


def test_summarise_of_no_chat_requests_is_empty(tmp_path: Path) -> None:
    summary = summarise(read_records(tmp_path))
    assert summary.empty
    assert list(summary.columns) == SUMMARY_COLUMNS


def test_refused_chats_are_named_per_case_status_code_and_message(
    make_record: RecordFactory,
) -> None:
    training = {"http_status": 400, "grpc_code": 9, "message": "chatbot is training"}
    rows = [
        make_record(case="a", outcome="client_error", **training),
        make_record(case="a", outcome="client_error", **training),
        make_record(case="a", outcome="client_error", http_status=404, grpc_code=5, message="x"),
        make_record(
            case="b", outcome="client_error", http_status=413, grpc_code=None, message=None
        ),
        make_record(case="b", outcome="throttled", http_status=429),
        make_record(case="b", outcome="ok", http_status=200),
        # A probe's refusal is the probe's business (the access check), not the load's.
        make_record(case="b", phase="access:no-key", outcome="client_error", http_status=401),
    ]
    assert refused_chats(frame_of(rows)) == [
        RefusedChats(
            case="a", http_status=400, grpc_code=9, message="chatbot is training", count=2
        ),
        RefusedChats(case="a", http_status=404, grpc_code=5, message="x", count=1),
        RefusedChats(case="b", http_status=413, grpc_code=None, message="", count=1),
    ]
    assert refused_chats(frame_of(rows[4:6])) == []
    first = refused_chats(frame_of(rows))[0]
    assert first.describe() == "case 'a': 2 × 400 code 9 ('chatbot is training')"
