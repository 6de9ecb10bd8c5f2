"""``aisk-harness check RUN_DIR``: judge a run's saved records (again), offline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.conformance import (
    CHECK_COLUMNS,
    Outcome,
    Verdict,
    check_input,
    evaluate,
    write_junit,
    write_verdict,
)
from harness.errors import ConfigError
from harness.load.plan import read_plan
from harness.load.results import read_records

MARKS = {
    Outcome.PASS: "pass",
    Outcome.FAIL: "FAIL",
    Outcome.INCONCLUSIVE: "inconclusive",
    Outcome.SKIPPED: "skipped",
}


def judge(run_dir: Path) -> Verdict:
    """Run every check on the run directory and write verdict.json and junit.xml there."""
    if not run_dir.is_dir():
        raise ConfigError(f"RUN_DIR {str(run_dir)!r} is not a directory")
    plan = read_plan(run_dir)
    verdict = evaluate(
        check_input(plan, read_records(run_dir, CHECK_COLUMNS, chats_first=True)), plan.target
    )
    write_verdict(run_dir, verdict)
    write_junit(run_dir, verdict)
    return verdict


def print_verdict(verdict: Verdict, run_dir: Path) -> None:
    print(f"\nlimiter: {verdict.algorithm} ({verdict.algorithm_reason})")
    for name, value in verdict.algorithm_parameters.items():
        print(f"  {name}: {value}")
    width = max(len(check.id) for check in verdict.checks)
    for check in verdict.checks:
        print(f"  {MARKS[check.outcome]:<12} {check.id:<{width}}  {check.summary}")
        if check.outcome is Outcome.FAIL and check.evidence:
            print(f"  {'':<12} {'':<{width}}  evidence: {', '.join(check.evidence[:5])}")
    state = "CONFORMANT" if verdict.conformant else "NOT CONFORMANT"
    print(f"\n{state}: {len(verdict.failed)} of {len(verdict.checks)} checks failed")
    print(f"verdict: {run_dir / 'verdict.json'}  junit: {run_dir / 'junit.xml'}")


def _handle(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    verdict = judge(run_dir)
    print_verdict(verdict, run_dir)
    return 0 if verdict.conformant else 1


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="re-run the conformance checks on a saved run",
        description="Judge a run's records: exit 0 conformant, 1 a check failed, 2 error.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (reports/runs/...)")
    parser.set_defaults(handler=_handle)


__all__ = ["add_parser", "judge", "print_verdict"]
