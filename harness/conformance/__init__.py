"""Conformance: sound checks of the target's 429 answers over a run's records, and the verdict.

Pure functions of the records and the run's configuration: no I/O, no clock (ARCHITECTURE.md).
Each check is registered once (``registry.check``) and the verdict iterates the registry.
"""

from __future__ import annotations

from harness.conformance.checks import CHECK_IDS, CHECKS, evaluate, require_checks
from harness.conformance.context import CheckContext
from harness.conformance.findings import Evidence, Finding, Outcome, contrast
from harness.conformance.registry import UnknownCheckError
from harness.conformance.spec import (
    CHECK_COLUMNS,
    PROFILE_COLUMNS,
    QUOTA_RESET_COLUMNS,
    CheckInput,
    Tolerance,
    check_input,
)
from harness.conformance.verdict import Verdict, write_junit, write_verdict

__all__ = [
    "CHECKS",
    "CHECK_COLUMNS",
    "CHECK_IDS",
    "PROFILE_COLUMNS",
    "QUOTA_RESET_COLUMNS",
    "CheckContext",
    "CheckInput",
    "Evidence",
    "Finding",
    "Outcome",
    "Tolerance",
    "UnknownCheckError",
    "Verdict",
    "check_input",
    "contrast",
    "evaluate",
    "require_checks",
    "write_junit",
    "write_verdict",
]
