"""Reading a run's records back, and the per-case summary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.load.records import RECORD_COLUMNS, Record, records_to_table
from harness.load.results import OUTCOMES, read_records, summarise
from harness.load.sink import RecordSink, records_dir

RecordFactory = Callable[..., Record]
SUMMARY_COLUMNS = ["case", "requests", *OUTCOMES, "p50_ms", "p95_ms", "p99_ms"]


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
    summary = summarise(pd.DataFrame(rows, columns=list(RECORD_COLUMNS)))
    assert list(summary.columns) == SUMMARY_COLUMNS
    by_case = summary.set_index("case")
    assert by_case.loc["a", "requests"] == 3
    assert by_case.loc["a", ["ok", "throttled", "out_of_quota"]].tolist() == [2, 1, 0]
    assert by_case.loc["b", "requests"] == 2
    assert by_case.loc["b", ["ok", "server_error", "transport_error"]].tolist() == [0, 1, 1]


def test_summarise_latency_percentiles_match_numpy(make_record: RecordFactory) -> None:
    rng = np.random.default_rng(7)
    latencies = {"a": rng.exponential(20.0, 500), "b": rng.uniform(1.0, 9.0, 37)}
    rows = [
        chat(make_record, case, "ok", float(value))
        for case, values in latencies.items()
        for value in values
    ]
    summary = summarise(pd.DataFrame(rows, columns=list(RECORD_COLUMNS))).set_index("case")
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
