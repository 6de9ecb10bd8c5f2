"""``aisk-harness compare BASE CANDIDATE``: did this release move from the last one?

Offline, from the two run directories' records and verdicts. Prints the verdict, what changed
and a table per case; writes ``compare.json``, ``junit.xml`` and ``compare.html`` into ``--out``.
Exit 0: no regression (no significant change, or an improvement); 1: a regression; 3:
inconclusive (no admitted p95 nor the capacity could be told: too few answers to resolve the
threshold, named with the answers each would need); 2: the runs cannot be compared (different
scenarios, nothing measured, bad input). ``--explain`` adds, per gate, the smallest change it
could detect with the runs given.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.cli.capacity import parse_percentage
from harness.compare import (
    Comparison,
    Thresholds,
    case_table,
    compare_runs,
    headline,
    news_lines,
    read_run,
    sorted_gates,
    write_compare_junit,
    write_compare_page,
    write_comparison,
)
from harness.compare.power import resolution_words
from harness.compare.table import MARKS
from harness.errors import ConfigError

__all__ = ["add_parser"]


def _out_dir(out: str | None, base: Path, candidate: Path) -> Path:
    folder = Path(out) if out else Path("reports/compare") / f"{base.name}-vs-{candidate.name}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out: cannot write to {str(folder)!r}: {exc.strerror}") from None
    return folder


def _cases(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ConfigError("--cases: expected case names separated by commas")
    return names


def explain_lines(comparison: Comparison) -> list[str]:
    """Per measured gate: the smallest change it can detect, and what its threshold needs."""
    lines = []
    for gate in comparison.gates:
        if gate.outcome == "not compared" or gate.subject.startswith("check "):
            continue
        needed = "" if gate.needed is None else f"; {gate.needed} answers per run resolve it"
        weight = "" if gate.decisive else " (weighs only if it moves)"
        lines.append(f"  {gate.subject}: {resolution_words(gate)}{needed}{weight}")
    return lines


def print_comparison(comparison: Comparison, explain: bool = False) -> None:
    base, candidate = comparison.base, comparison.candidate
    print(f"base:      {base.run_dir} ({base.label or base.run_id}, {base.created_at})")
    print(
        f"candidate: {candidate.run_dir} ({candidate.label or candidate.run_id}, "
        f"{candidate.created_at})"
    )
    print(f"\n{headline(comparison)}")
    for line in news_lines(comparison):
        print(f"  ! {line}")
    width = max(len(gate.subject) for gate in comparison.gates)
    for gate in sorted_gates(comparison):
        print(f"  {MARKS[gate.outcome]:<12} {gate.subject:<{width}}  {gate.summary}")
    table = case_table(comparison)
    if not table.empty:
        print()
        print(table.to_string(index=False))
        print("(shift [95 % interval]; * the interval excludes 0)")
    capacity = comparison.capacity
    if capacity is not None:
        knees = f"knee {capacity.base_knee} → {capacity.candidate_knee}"
        print(f"\ncapacity search: {knees}")
    if explain:
        print("\nwhat each gate can detect with these runs (95 % order-statistic intervals):")
        for line in explain_lines(comparison):
            print(line)


def _handle(args: argparse.Namespace) -> int:
    thresholds = Thresholds(
        max_p95_increase=parse_percentage(args.max_p95_increase, "--max-p95-increase"),
        max_capacity_drop=parse_percentage(args.max_capacity_drop, "--max-capacity-drop"),
        max_refusal_increase=parse_percentage(args.max_refusal_increase, "--max-refusal-increase"),
    )
    cases = _cases(args.cases)
    base_dir, candidate_dir = Path(args.base), Path(args.candidate)
    base, candidate = read_run(base_dir), read_run(candidate_dir)
    comparison = compare_runs(base, candidate, thresholds, cases)
    folder = _out_dir(args.out, base_dir, candidate_dir)
    print_comparison(comparison, args.explain)
    try:
        paths = [
            write_comparison(folder, comparison),
            write_compare_junit(folder, comparison),
            write_compare_page(folder, comparison, base, candidate),
        ]
    except OSError as exc:
        raise ConfigError(f"cannot write the comparison into {str(folder)!r}: {exc}") from None
    print(f"\nwritten: {'  '.join(str(path) for path in paths)}")
    return comparison.exit_code


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare two runs (or capacity searches): regression, improvement or no change",
        description="Compare a CANDIDATE run with a BASE run offline: checks whose outcome "
        "changed, the limiter family, latency percentiles per case with 95% bootstrap "
        "intervals and a Mann-Whitney U test, throughput, outcome shares and error rates, and "
        "for capacity searches capacity and knee. A regression is a check that went from pass "
        "to fail, or a p95 (of admitted answers), a p50 or p95 of throttles or out-of-quota "
        "answers, or a capacity that moved significantly and beyond its threshold. A gate whose "
        "runs hold too few answers to resolve its threshold is inconclusive and names the "
        "answers it needs. Exit 0 no regression, 1 regression, 3 inconclusive (no admitted p95 "
        "nor the capacity could tell), 2 cannot compare.",
    )
    parser.add_argument("base", metavar="BASE", help="the run to compare with (the last release)")
    parser.add_argument("candidate", metavar="CANDIDATE", help="the run under test")
    parser.add_argument(
        "--max-p95-increase",
        default="10%",
        metavar="P",
        help="the p95 increase of admitted answers a case may show, e.g. '10%%' (default: 10%%)",
    )
    parser.add_argument(
        "--max-capacity-drop",
        default="5%",
        metavar="P",
        help="the capacity drop a capacity search may show (default: 5%%)",
    )
    parser.add_argument(
        "--max-refusal-increase",
        default="10%",
        metavar="P",
        help="the increase a case's throttles and out-of-quota answers may show in their p50 "
        "and p95 (default: 10%%)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print, per gate, the smallest change it can detect with the runs given",
    )
    parser.add_argument(
        "--cases",
        metavar="NAME,...",
        help="compare only these cases (each must be configured alike in both runs)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="where compare.json, junit.xml and compare.html go "
        "(default: reports/compare/<BASE>-vs-<CANDIDATE>)",
    )
    parser.set_defaults(handler=_handle)
