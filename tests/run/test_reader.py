"""Reading a run's records back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from unittest.mock import patch

import pandas as pd
import pytest

from harness.run import reader
from harness.run.parts import records_dir
from harness.run.reader import read_records
from harness.run.records import RECORD_COLUMNS, Record, is_load_chat, records_to_table
from harness.run.sink import RecordSink

RecordFactory = Callable[..., Record]


def write(run_dir: Path, writer: str, records: list[Record]) -> None:
    sink = RecordSink(run_dir, writer)
    sink.write(records_to_table(records))
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


def _mixed_run(run_dir: Path, make_record: RecordFactory) -> None:
    """Set-up before the load, a probe and a teardown among it, in two processes' parts."""

    def chat(name: str, n: int) -> Record:
        return make_record(request_id=name, send_mono_ns=n, wait_ns=n)

    write(run_dir, "w0", [
        make_record(request_id="setup-0", kind="create_chatbot", phase="setup"),
        make_record(request_id="setup-1", kind="create_token", phase="setup"),
        chat("w0-0", 0), chat("w0-1", 1), chat("w0-2", 2),
        make_record(request_id="probe", phase="access:no-token", http_status=401),
        chat("w0-3", 3), chat("w0-4", 4),
        make_record(request_id="teardown", kind="delete_chatbot", phase="teardown"),
    ])  # fmt: skip
    write(run_dir, "w1", [chat("w1-0", 10), chat("w1-1", 11)])


@pytest.mark.parametrize("most_stretches", [1_000, 1])  # zero-copy stretches, or row by row
def test_chats_first_puts_the_load_chats_before_the_rest_and_keeps_every_record_whole(
    tmp_path: Path, make_record: RecordFactory, most_stretches: int
) -> None:
    _mixed_run(tmp_path, make_record)
    as_written = read_records(tmp_path)
    chat = is_load_chat(as_written)
    expected = pd.concat([as_written[chat], as_written[~chat]]).reset_index(drop=True)
    with patch.object(reader, "_MOST_STRETCHES", most_stretches):
        found = read_records(tmp_path, chats_first=True)
    pd.testing.assert_frame_equal(found, expected)
    assert list(found["request_id"][:7]) == ["w0-0", "w0-1", "w0-2", "w0-3", "w0-4", "w1-0", "w1-1"]
    assert list(found["request_id"][7:]) == ["setup-0", "setup-1", "probe", "teardown"]
    assert found["wait_ns"][:7].tolist() == [0, 1, 2, 3, 4, 10, 11]


RESETS = ["m_reset_at", "reset_at_ns", "reset_in_ns", "m_reset_in"]


@pytest.mark.parametrize("chats_first", [False, True])
@pytest.mark.parametrize("most_stretches", [1_000, 1])
def test_refusal_columns_are_read_on_the_quota_refusals_alone_at_their_places_in_the_frame(
    tmp_path: Path, make_record: RecordFactory, chats_first: bool, most_stretches: int
) -> None:
    def refusal(name: str, n: int) -> Record:
        return make_record(
            request_id=name, outcome="out_of_quota", m_reset_at=f"day {n}",
            reset_at_ns=10**18 + n, reset_in_ns=n, m_reset_in=f"{n}s",
        )  # fmt: skip

    write(tmp_path, "w0", [
        make_record(request_id="setup-0", kind="create_chatbot", phase="setup"),
        make_record(request_id="w0-0"), refusal("w0-1", 1), make_record(request_id="w0-2"),
        make_record(request_id="probe", phase="access:no-token", http_status=401),
        refusal("w0-3", 3),
        make_record(request_id="teardown", kind="delete_chatbot", phase="teardown"),
    ])  # fmt: skip
    write(tmp_path, "w1", [refusal("w1-0", 10), make_record(request_id="w1-1")])
    whole = read_records(tmp_path, chats_first=chats_first)
    with patch.object(reader, "_MOST_STRETCHES", most_stretches):
        found = reader.read_run_records(tmp_path, chats_first=chats_first, refusal_columns=RESETS)
    assert found.refusals is not None
    rest = [name for name in RECORD_COLUMNS if name not in RESETS]
    pd.testing.assert_frame_equal(found.frame, whole[rest])
    refused = whole[whole["outcome"] == "out_of_quota"]
    assert found.refusals.index.tolist() == refused.index.tolist()
    assert sorted(refused["request_id"]) == ["w0-1", "w0-3", "w1-0"]
    pd.testing.assert_frame_equal(found.refusals, refused[RESETS], check_dtype=False)
    # No refusal without its reset among the rows read: whole nanoseconds, not float64's.
    assert sorted(found.refusals["reset_at_ns"]) == [10**18 + 1, 10**18 + 3, 10**18 + 10]


def test_no_quota_refusal_reads_the_refusal_columns_as_no_rows(
    tmp_path: Path, make_record: RecordFactory
) -> None:
    write(tmp_path, "w0", [make_record(request_id=f"w0-{n}") for n in range(3)])
    found = reader.read_run_records(tmp_path, chats_first=True, refusal_columns=RESETS)
    assert found.refusals is not None
    assert list(found.refusals.columns) == RESETS
    assert found.refusals.empty
    assert not set(RESETS) & set(found.frame.columns)


@pytest.mark.parametrize(
    ("columns", "apart"),
    [(["request_id", "outcome"], ["m_reset_in"]), (["request_id", "m_reset_in"], ["m_reset_in"]),
     (None, ["outcome"])],
)  # fmt: skip
def test_refusal_columns_outside_the_columns_read_are_refused_by_name(
    tmp_path: Path, make_record: RecordFactory, columns: list[str] | None, apart: list[str]
) -> None:
    write(tmp_path, "w0", [make_record()])
    with pytest.raises(ValueError, match="refusal_columns"):
        reader.read_run_records(tmp_path, columns, refusal_columns=apart)
