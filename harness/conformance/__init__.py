"""Conformance: sound checks of the target's 429 answers over a run's records, and the verdict.

Pure functions of the records and the run's configuration: no I/O, no clock (ARCHITECTURE.md).
"""

from __future__ import annotations

from harness.conformance.checks import CHECK_IDS, evaluate
from harness.conformance.findings import Finding, Outcome
from harness.conformance.spec import CHECK_COLUMNS, CheckInput, Tolerance, check_input
from harness.conformance.verdict import Verdict, write_junit, write_verdict

__all__ = [
    "CHECK_COLUMNS",
    "CHECK_IDS",
    "CheckInput",
    "Finding",
    "Outcome",
    "Tolerance",
    "Verdict",
    "check_input",
    "evaluate",
    "write_junit",
    "write_verdict",
]
