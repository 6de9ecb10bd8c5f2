"""Report tables say their columns in words: no machine name reaches a reader."""

from __future__ import annotations

import pytest

from harness.capacity.result import StepResult
from harness.report.capacity import STEP_COLUMNS
from harness.report.headings import heading
from harness.report.open_sweep import OPEN_STEP_COLUMNS
from harness.report.stages import STAGE_COLUMNS
from harness.run.summary import COUNT_COLUMNS


@pytest.mark.parametrize(
    ("column", "words"),
    [
        ("p95_ms", "p95 (ms)"),
        ("p99_s", "p99 (s)"),
        ("p95_sent_s", "p95 from the send (s)"),
        ("throughput_rps", "throughput (req/s)"),
        ("goodput_rps", "goodput (req/s)"),
        ("ok", "admitted"),
        ("transport_error", "no answer"),
        ("empty_answer", "admitted, empty answer"),
        ("within_slo", "within the SLO"),
        ("admitted_earlier", "admitted earlier than promised"),
        ("first_refusal_t_s", "first refusal (s into the run)"),
        ("error_rate_%", "errors (%)"),
        ("in_flight", "in flight"),
        ("case", "case"),
    ],
)
def test_a_column_reads_as_words(column: str, words: str) -> None:
    assert heading(column) == words


def test_no_column_of_a_report_table_shows_an_underscore() -> None:
    columns = {
        *COUNT_COLUMNS,
        *STEP_COLUMNS,
        *OPEN_STEP_COLUMNS,
        *STAGE_COLUMNS,
        *StepResult.model_fields,
        "p50_ms",
        "reset_in_h",
        "first_refusal_t_s",
        "error_rate_%",
    }
    shown = {column: heading(column) for column in columns}
    assert not {c: w for c, w in shown.items() if "_" in w}
