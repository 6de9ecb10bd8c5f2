"""``aisk-harness history DIR...``: a trend across many runs, and where it changed for good.

Each DIR is a run directory, or a folder of them (``reports/runs``). Prints one row per run in
order and the change points, and says where the runs are too few to search or to confirm a step
of ``--min-magnitude``; writes ``history.csv`` and ``history.html`` into ``--out``. Exit 0
written, 3 no series had the runs a search needs (nothing could have been found), 2 bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.cli.capacity import parse_percentage
from harness.compare import find_runs, read_run
from harness.compare.changepoints import MAX_PVALUE, MIN_MAGNITUDE
from harness.compare.history import History, build_history, power_lines, run_point
from harness.compare.trend import change_lines, write_history_csv
from harness.compare.trend_page import shown_columns, write_history_page
from harness.errors import ConfigError

__all__ = ["add_parser"]

DEFAULT_OUT = Path("reports/history")


def print_history(history: History) -> None:
    frame = shown_columns(history)
    print(frame.to_string(index=False, na_rep="-", float_format=lambda value: f"{value:.1f}"))
    lines = change_lines(history)
    print(f"\n{len(lines)} change point(s) in {len(history.runs)} runs")
    for line in lines:
        print(f"  ! {line}")
    for line in power_lines(history):
        print(f"  too few: {line}")


def _max_pvalue(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise ConfigError(f"--max-pvalue {text!r}: expected a probability between 0 and 1")
    return value


def _handle(args: argparse.Namespace) -> int:
    max_pvalue = _max_pvalue(args.max_pvalue)
    min_magnitude = parse_percentage(args.min_magnitude, "--min-magnitude")
    directories = find_runs([Path(path) for path in args.dirs])
    # One run's records at a time: only its point is kept.
    points = [run_point(read_run(directory)) for directory in directories]
    history = build_history(points, args.order, max_pvalue, min_magnitude)
    folder = Path(args.out) if args.out else DEFAULT_OUT
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = [write_history_csv(folder, history), write_history_page(folder, history)]
    except OSError as exc:
        raise ConfigError(f"--out: cannot write to {str(folder)!r}: {exc}") from None
    print_history(history)
    print(f"\nwritten: {'  '.join(str(path) for path in paths)}")
    if not any(metric.searched for metric in history.metrics):
        print("INCONCLUSIVE: no series had the runs a change-point search needs")
        return 3
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="a trend across many runs (one per release) with its change points",
        description="Order runs by start time or by their --label, and show per run the p95 of "
        "admitted answers per case, the capacity, the verdict and the limiter family; find "
        "change points in each series (ruptures PELT, confirmed by a t-test and a minimum "
        "change). Writes history.csv and history.html. Exit 0 written, 3 too few runs for any "
        "search, 2 bad input.",
    )
    parser.add_argument(
        "dirs", nargs="+", metavar="DIR", help="run directories, or folders holding them"
    )
    parser.add_argument(
        "--order",
        choices=("time", "label"),
        default="time",
        help="order runs by start time or by label, naturally: v1.9 before v1.10 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-pvalue",
        default=str(MAX_PVALUE),
        metavar="P",
        help="a change must pass a t-test at this level (default: %(default)s)",
    )
    parser.add_argument(
        "--min-magnitude",
        default=f"{MIN_MAGNITUDE * 100:g}%",
        metavar="P",
        help="a change must move the mean by at least this much (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help=f"where history.csv and history.html go (default: {DEFAULT_OUT})",
    )
    parser.set_defaults(handler=_handle)
