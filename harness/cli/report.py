"""``aisk-harness report RUN_DIR``: a run's notebooks executed, their figures, one report.html."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.report import Report


def _build(run_dir: Path) -> Report:
    # Imported when used: the notebook machinery (nbclient, jupytext, matplotlib) takes a second
    # to import, which every other subcommand would pay.
    from harness.report import build_report

    return build_report(run_dir)


def _handle(args: argparse.Namespace) -> int:
    report = _build(Path(args.run_dir))
    print(f"figures: {len(report.figures)} in {report.path.parent / 'figures'}")
    print(f"notebooks: {', '.join(str(path) for path in report.notebooks)}")
    print(f"report: {report.path}")
    return 0


def report_after_run(run_dir: Path) -> None:
    """The report at the end of ``run``: its path, or why it is missing, never a lost verdict.

    Whatever goes wrong here is printed in one line; the run's exit code stays the verdict's.
    """
    try:
        report = _build(run_dir)
    except HarnessError as exc:
        print(f"report: not complete: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("report: interrupted; `aisk-harness report RUN_DIR` makes it later", file=sys.stderr)
    except Exception as exc:  # a bug of the report must not cost the run its verdict
        print(f"report: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    else:
        print(f"report: {report.path}")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="execute the analysis notebooks on a run and write report.html",
        description="Execute the analysis notebooks on a run directory and write the executed "
        "notebooks (notebooks/), one PNG per figure (figures/) and a self-contained report.html "
        "with the verdict on top. Exit 0 written, 2 bad input or a notebook failed.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (reports/runs/...)")
    parser.set_defaults(handler=_handle)


__all__ = ["add_parser", "report_after_run"]
