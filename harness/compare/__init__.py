"""Comparing runs: one release against the last (``compare``), and many over time (``history``).

Statistics over the runs' record frames and their models (``stats``, ``latency``, ``capacity``,
``checks``, ``cases``); I/O only at the edges (``rundir`` reads, ``result``, ``junit``, ``page``
and ``trend_page`` write).
"""

from __future__ import annotations

from harness.compare.compare import compare_runs
from harness.compare.junit import write_compare_junit
from harness.compare.page import write_compare_page
from harness.compare.result import Comparison, Thresholds, write_comparison
from harness.compare.rundir import RunData, find_runs, read_run
from harness.compare.table import case_table, headline, news_lines, sorted_gates

__all__ = [
    "Comparison",
    "RunData",
    "Thresholds",
    "case_table",
    "compare_runs",
    "find_runs",
    "headline",
    "news_lines",
    "read_run",
    "sorted_gates",
    "write_compare_junit",
    "write_compare_page",
    "write_comparison",
]
