"""``aisk-harness check RUN_DIR``: judge a run's saved records (again), offline."""

from __future__ import annotations

import argparse
import json
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
from harness.load.plan import RECORDING_FILE, read_plan
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
        check_input(plan, read_records(run_dir, CHECK_COLUMNS, chats_first=True)),
        plan.target,
        tuple(recording(run_dir).get("lost_workers", ())),
    )
    try:
        write_verdict(run_dir, verdict)
        write_junit(run_dir, verdict)
    except OSError as exc:
        raise ConfigError(f"cannot write the verdict in {str(run_dir)!r}: {exc.strerror}") from None
    return verdict


def recording(run_dir: Path) -> dict[str, Any]:
    """recording.json (how each process's records arrived); {} when absent or unreadable."""
    try:
        data = json.loads((run_dir / RECORDING_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def print_verdict(verdict: Verdict, run_dir: Path) -> None:
    print(f"\nlimiter: {verdict.algorithm} ({verdict.algorithm_reason})")
    for name, value in verdict.algorithm_parameters.items():
        print(f"  {name}: {value}")
    width = max(len(check.id) for check in verdict.checks)
    for check in verdict.checks:
        print(f"  {MARKS[check.outcome]:<12} {check.id:<{width}}  {check.summary}")
        if check.outcome is Outcome.FAIL and check.evidence:
            print(f"  {'':<12} {'':<{width}}  evidence: {', '.join(check.evidence[:5])}")
    state = f"{verdict.state.upper()}: {len(verdict.failed)} of {len(verdict.checks)} checks failed"
    if verdict.unanswered:
        # A failure stands whatever is missing; without one, missing answers leave it open.
        judged = "" if verdict.failed else ": the checks judged only the answers that came"
        state += f"; {verdict.unanswered_summary}{judged}"
    if verdict.lost_processes:
        lost = ", ".join(verdict.lost_processes)
        state += f"; worker {lost} lost mid-run: its last requests are not recorded"
    print(f"\n{state}")
    print(f"verdict: {run_dir / 'verdict.json'}  junit: {run_dir / 'junit.xml'}")


def _handle(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    verdict = judge(run_dir)
    print_verdict(verdict, run_dir)
    return verdict.exit_code


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="re-run the conformance checks on a saved run",
        description="Judge a run's records: exit 0 conformant, 1 a check failed, 2 error, "
        "3 inconclusive (no check failed, but the target left requests without a whole answer).",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (reports/runs/...)")
    parser.set_defaults(handler=_handle)


__all__ = ["add_parser", "judge", "print_verdict", "recording"]
