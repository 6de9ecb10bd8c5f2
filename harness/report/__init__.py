"""The report of a run: notebooks executed headless, their figures, one self-contained HTML page.

The notebooks (``harness/analysis/*.py``, jupytext percent scripts) stay thin: they call the pure
functions of ``frames`` (tables from records), ``charts``, ``limit_charts``, ``capacity``,
``open_sweep`` and ``stages`` (figures) and show the results with ``display``. Nothing here
imports Locust.
"""

from __future__ import annotations

from harness.report.build import (
    CAPACITY_NOTEBOOK,
    REPORT_FILE,
    RUN_NOTEBOOKS,
    STAGES_NOTEBOOK,
    Report,
    ReportError,
    build_report,
)

__all__ = [
    "CAPACITY_NOTEBOOK",
    "REPORT_FILE",
    "RUN_NOTEBOOKS",
    "STAGES_NOTEBOOK",
    "Report",
    "ReportError",
    "build_report",
]
