"""The live judge: a child of the recording process that judges the run as it is written.

``python -m harness.cli.live RUN_DIR PARENT_PID [--fail-fast] [--interval S]`` is started by
the process that writes the records (``harness.locust.live``). Every ``--interval`` seconds it
reads the run directory's parts, judges the complete prefix of the run they hold
(``harness.conformance.live``) and prints one block to the terminal: per check, the keys judged
with power, a violation proven, what is still missing. It runs at the lowest CPU priority Linux
has, off the sending hub, so it never delays a send. With ``--fail-fast`` it exits
``VIOLATION_EXIT`` at the first proven violation, which tells its parent to stop the run; it
ends, like the compactor, when its parent does. Each round also tells its parent, on its
standard output, which cases are decided (``run --until decided`` stops their keys). The
final verdict is always the offline ``check`` of the records on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from opentelemetry.sdk.metrics import MeterProvider

from harness.cli.live_metrics import LiveMetrics, otlp_metrics
from harness.conformance import CHECK_COLUMNS, QUOTA_RESET_COLUMNS, check_input
from harness.conformance.live import LiveJudgement, complete_prefix, cutoff_ns, judge_live
from harness.load.settings import SETTINGS_FILE, read_settings
from harness.run.compaction import lowest_priority
from harness.run.parts import part_paths, records_dir
from harness.run.plan import PLAN_FILE, read_plan
from harness.run.reader import read_run_records

__all__ = ["VIOLATION_EXIT", "judge_once", "live_block", "main"]

# Not 1 (an uncaught exception) nor 2 (argparse): only a proven violation stops the run.
VIOLATION_EXIT = 5
INTERVAL_S = 2.0
DECIDED = "decided"  # a line to the parent: the word, then a JSON list of case names
CPU_SHARE = 0.05  # of one core, at most, over a run (the budget for live judging)
NS = 1_000_000_000


def _contiguous(run_dir: Path) -> int | None:
    """How many parts there are, if each writer's are numbered without a gap (a part missed
    between a compaction's rename and its removal of the Arrow file would break the prefix)."""
    parts = part_paths(records_dir(run_dir))
    seen: dict[str, list[int]] = {}
    for path in parts:
        writer, _, sequence = path.stem.removeprefix("part-").rpartition("-")
        if not sequence.isdigit():
            return None  # not a part the sink wrote: no order to vouch for
        seen.setdefault(writer, []).append(int(sequence))
    whole = all(sorted(found) == list(range(len(found))) for found in seen.values())
    return len(parts) if whole else None


def judge_once(run_dir: Path) -> LiveJudgement | None:
    """The checks over the complete prefix on disk now; None while there is none yet, or the
    parts could not be read whole this time (the next round tries again)."""
    if not (run_dir / PLAN_FILE).exists():
        return None
    listed = _contiguous(run_dir)
    if listed is None:
        return None
    found = read_run_records(
        run_dir, CHECK_COLUMNS, chats_first=True, refusal_columns=QUOTA_RESET_COLUMNS
    )
    if found.damaged or found.parts < listed:
        return None
    settings = read_settings(run_dir / SETTINGS_FILE)
    cutoff = cutoff_ns(found.frame, int(settings.request_timeout_s * NS))
    if cutoff is None:
        return None
    prefix, resets = complete_prefix(found.frame, cutoff, found.refusals)
    return judge_live(check_input(read_plan(run_dir), prefix, resets=resets), cutoff)


def live_block(judgement: LiveJudgement, elapsed_s: float, expected_s: float) -> str:
    """What the terminal shows every round: one line per check (``LiveCheck.line``)."""
    head = (
        f"aisk-harness live: {elapsed_s:.0f} s of {expected_s:.0f} s; "
        f"{judgement.judged} requests judged (all sent before the request timeout "
        "preceding the last answer on disk)"
    )
    return "\n".join([head, *(f"  {check.line}" for check in judgement.checks)])


def _run(
    run_dir: Path, parent: int, fail_fast: bool, interval_s: float, out: TextIO, tell: TextIO
) -> int:
    settings = read_settings(run_dir / SETTINGS_FILE)
    exported = otlp_metrics(settings.run_id)
    try:
        return _rounds(run_dir, parent, fail_fast, interval_s, (out, tell), exported)
    finally:
        if exported is not None:
            exported[1].shutdown()  # the last values are pushed before the judge ends


def _rounds(
    run_dir: Path,
    parent: int,
    fail_fast: bool,
    interval_s: float,
    streams: tuple[TextIO, TextIO],
    exported: tuple[LiveMetrics, MeterProvider] | None,
) -> int:
    out, tell = streams
    started = time.monotonic()
    expected_s = read_settings(run_dir / SETTINGS_FILE).scenario.duration_ns / NS
    pause_s = interval_s
    while _alive(parent):
        time.sleep(pause_s)
        began = time.process_time()
        try:
            judgement = judge_once(run_dir)
        except Exception as exc:  # a failed round is no verdict (the offline check is): go on
            print(f"aisk-harness live: not judged this time: {exc}", file=out, flush=True)
            continue
        # Rounds over a long run take longer: spaced so that judging costs at most CPU_SHARE
        # of one core (its CPU time, every thread's, whatever else the machine runs).
        pause_s = max(interval_s, (time.process_time() - began) * (1 / CPU_SHARE - 1))
        if judgement is None:
            continue
        if exported is not None:
            exported[0].update(judgement)
        print(live_block(judgement, time.monotonic() - started, expected_s), file=out, flush=True)
        # What the parent reads: the cases decided so far (harness.locust.live).
        print(f"{DECIDED} {json.dumps(sorted(judgement.decided))}", file=tell, flush=True)
        violation = judgement.violation
        if fail_fast and violation is not None:
            print(
                f"aisk-harness live: --fail-fast: {violation.result.id} violated, proven by "
                f"{', '.join(violation.proof.request_ids[:5]) if violation.proof else ''}; "
                "stopping the run",
                file=out,
                flush=True,
            )
            return VIOLATION_EXIT
    return 0


def _alive(parent: int) -> bool:
    return os.getppid() == parent  # a dead parent's child is reparented


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.cli.live")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("parent_pid", type=int)
    parser.add_argument("--fail-fast", action="store_true")
    parser.add_argument("--interval", type=float, default=INTERVAL_S)
    args = parser.parse_args(argv)
    lowest_priority()
    # Stopped by its parent (SIGTERM) at the run's end: the metrics' last push still happens.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(0))
    return _run(
        args.run_dir, args.parent_pid, args.fail_fast, args.interval, sys.stderr, sys.stdout
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
