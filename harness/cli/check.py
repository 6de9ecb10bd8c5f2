"""``aisk-harness check RUN_DIR``: judge a run's saved records (again), offline.

Before any verdict the records read are held to ``recording.json`` (``harness.run.completeness``):
a verdict over missing records could pass a violation it never saw, so missing or damaged parts,
fewer rows than written, lost workers and slots that never ran make it inconclusive, and say why.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from harness.conformance import (
    CHECK_COLUMNS,
    PROFILE_COLUMNS,
    QUOTA_RESET_COLUMNS,
    CheckInput,
    Outcome,
    Verdict,
    check_input,
    evaluate,
    write_junit,
    write_verdict,
)
from harness.errors import ConfigError
from harness.run.completeness import completeness, parts_of_another_run
from harness.run.interruption import Interruption, read_interruption
from harness.run.parts import part_paths, records_dir
from harness.run.plan import RunPlan, read_plan
from harness.run.reader import RunRecords, read_run_records
from harness.run.recording import RECORDING_FILE, Recording, read_recording
from harness.run.records import is_load_chat
from harness.run.summary import REFUSAL_COLUMNS, RefusedChats, refused_chats
from harness.versions import harness_version

NS = 1_000_000_000
MARKS = {
    Outcome.PASS: "pass",
    Outcome.FAIL: "FAIL",
    Outcome.INCONCLUSIVE: "inconclusive",
    Outcome.SKIPPED: "skipped",
}


def _recording(run_dir: Path) -> Recording | None:
    """recording.json, or None when the run never wrote one (killed): the reader says so."""
    return read_recording(run_dir) if (run_dir / RECORDING_FILE).exists() else None


def _refused_chats(run_dir: Path, frame: pd.DataFrame) -> list[RefusedChats]:
    """The load's chats refused with another 4xx, with their messages (which the checks do not
    read, so they are read only when there are any: the access probes' 401s are not)."""
    if not (is_load_chat(frame) & (frame["outcome"] == "client_error")).any():
        return []
    return refused_chats(read_run_records(run_dir, REFUSAL_COLUMNS).frame)


def _interruption(run_dir: Path, plan: RunPlan, frame: pd.DataFrame) -> Interruption | None:
    """The run's interruption (None: it was not), placed in its load: from the first load
    request's send, against the load's planned length."""
    interruption = read_interruption(run_dir)
    if interruption is None:
        return None
    sends = frame.loc[is_load_chat(frame), "send_wall_ns"]
    start = int(sends.min()) if len(sends) else None
    return interruption.placed(start, plan.scenario.duration_ns / NS)


def read_check_input(run_dir: Path, plan: RunPlan) -> tuple[CheckInput, RunRecords]:
    """A run's records as the checks read them, and what was found reading them: only the
    checks' columns, the load's chats first, a quota answer's reset columns on its refusals
    alone (``QUOTA_RESET_COLUMNS``: no check reads them on any other row)."""
    columns = CHECK_COLUMNS if plan.profile == "chatbot" else (*CHECK_COLUMNS, *PROFILE_COLUMNS)
    found = read_run_records(
        run_dir, columns, chats_first=True, refusal_columns=QUOTA_RESET_COLUMNS
    )
    return check_input(plan, found.frame, resets=found.refusals), found


def _refuse_another_runs_parts(
    run_dir: Path, run_id: str, rows: dict[str, int], recording: Recording | None
) -> None:
    """No verdict over records the run did not write: judged under its id, they would pass or
    fail it for another run's traffic."""
    if recording is None:
        return
    stems = [path.stem for path in part_paths(records_dir(run_dir))]
    reason = parts_of_another_run(run_id, stems, rows, recording)
    if reason is not None:
        raise ConfigError(f"{str(run_dir)!r} is not one run: {reason}; no verdict")


def judge(run_dir: Path) -> Verdict:
    """Run every check on the run directory and write verdict.json and junit.xml there."""
    if not run_dir.is_dir():
        raise ConfigError(f"RUN_DIR {str(run_dir)!r} is not a directory")
    plan = read_plan(run_dir)
    recording = _recording(run_dir)
    started = time.monotonic()
    data, found = read_check_input(run_dir, plan)
    read_s = time.monotonic() - started
    for part in found.damaged:
        print(f"aisk-harness check: error: {part.describe()}", file=sys.stderr)
    refused = _refused_chats(run_dir, found.frame)
    counts = found.frame["process"].astype(str).value_counts()
    rows = {str(process): int(count) for process, count in counts.items()}
    _refuse_another_runs_parts(run_dir, plan.run_id, rows, recording)
    whole = completeness(rows, found.damaged, recording)
    verdict = evaluate(
        data,
        plan.target,
        completeness=whole,
        run_id=plan.run_id,
        harness_version=harness_version(),
        dropped_sends=recording.dropped_sends if recording is not None else None,
        refused=refused,
        planned_away=plan.planned_away,
    )
    interruption = _interruption(run_dir, plan, found.frame)
    if interruption is not None:
        verdict = verdict.model_copy(update={"interrupted": True, "interruption": interruption})
    judged_s = time.monotonic() - started - read_s
    print(f"judged {len(found.frame)} records: read in {read_s:.1f} s, checks in {judged_s:.1f} s")
    try:
        write_verdict(run_dir, verdict)
        write_junit(run_dir, verdict)
    except OSError as exc:
        raise ConfigError(f"cannot write the verdict in {str(run_dir)!r}: {exc.strerror}") from None
    return verdict


def verdict_line(verdict: Verdict) -> str:
    """The verdict in one line: its state, what failed, and what kept it from deciding."""
    state = f"{verdict.headline}: {len(verdict.failed)} of {len(verdict.checks)} checks failed"
    roots = verdict.root_causes
    explained = [check for check in verdict.failed if check.explained_by]
    if roots and explained:
        named = ", ".join(roots)
        them = "it" if len(roots) == 1 else "them"
        state += f" (root cause: {named}; the other {len(explained)} explained by {them})"
    if verdict.unanswered:
        # A failure stands whatever is missing; without one, missing answers leave it open.
        judged = "" if verdict.failed else ": the checks judged only the answers that came"
        state += f"; {verdict.unanswered_summary}{judged}"
    for reason in verdict.incomplete:
        state += f"; {reason}"
    away = [c.id for c in verdict.checks if c.outcome is Outcome.SKIPPED and "/" in c.id]
    if away:
        state += f"; skipped for want of source addresses: {', '.join(away)}"
    undecided = [check.id for check in verdict.checks if check.outcome is Outcome.INCONCLUSIVE]
    if undecided and not verdict.failed:
        state += (
            f"; {len(undecided)} checks could not decide ({', '.join(undecided)}): the traffic "
            "could not have shown a violation there"
        )
    return state


def print_verdict(verdict: Verdict, run_dir: Path) -> None:
    print(f"\nlimiter: {verdict.algorithm} ({verdict.algorithm_reason})")
    for name, value in verdict.algorithm_parameters.items():
        print(f"  {name}: {value}")
    width = max(len(check.id) for check in verdict.checks)
    for check in verdict.checks:
        print(f"  {MARKS[check.outcome]:<12} {check.id:<{width}}  {check.summary}")
        if check.keys_without_power and check.keys_with_power is not None:
            keys = check.keys_with_power + check.keys_without_power
            print(
                f"  {'':<12} {'':<{width}}  judged with power: {check.keys_with_power} of "
                f"{keys} keys"
            )
        if check.outcome is not Outcome.FAIL:
            continue
        if check.explanation:
            family = f" (assumed: {check.assumed_family})" if check.assumed_family else ""
            print(f"  {'':<12} {'':<{width}}  {check.explanation}{family}")
        if check.evidence:
            print(f"  {'':<12} {'':<{width}}  evidence: {', '.join(check.evidence[:5])}")
        if check.proofs:
            print(f"  {'':<12} {'':<{width}}  {check.proofs[0].contrast()}")
    if verdict.refused_chats:
        refused = sum(group.count for group in verdict.refused_chats)
        print(f"\nrefused chats (a 4xx, neither throttle nor quota): {refused}")
        for group in verdict.refused_chats[:10]:
            print(f"  {group.describe()}")
    print(f"\n{verdict_line(verdict)}")
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
        description="Judge a run's records: exit 0 conformant (every check passed with power), 1 a "
        "check failed, 2 error (or a damaged record file), 3 inconclusive (a check whose traffic "
        "could not have shown a violation, requests without a whole answer, or records of the "
        "run are missing).",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (reports/runs/...)")
    parser.set_defaults(handler=_handle)


__all__ = ["add_parser", "judge", "print_verdict", "verdict_line"]
