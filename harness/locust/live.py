"""The live judge as the recording process sees it: a child to start, watch and stop.

The judging itself (reading the parts, the checks over a complete prefix of the run, the
terminal's block) happens in ``python -m harness.cli.live``, a child at the lowest CPU
priority, never on this process's gevent hub: a send is never delayed by a judgement. This
process only reads what the child tells it: the cases decided so far (``--until decided``
stops their keys), and its end with a proven violation (``--fail-fast``), which stops the run
as a full disk does: every record received is still written and counted.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import gevent
import gevent.subprocess

from harness.run.compaction import lowest_priority

__all__ = ["LiveJudge"]

log = logging.getLogger(__name__)

# harness.cli.live's VIOLATION_EXIT and DECIDED (the CLI is not imported here).
VIOLATION_EXIT = 5
DECIDED = "decided"
STOP_GRACE_S = 3.0


class LiveJudge:
    """``python -m harness.cli.live`` over ``run_dir``, until the run ends; ``on_violation``
    is called (on the hub) when it proves a violation and ``fail_fast`` asked it to stop."""

    def __init__(
        self,
        run_dir: Path,
        fail_fast: bool,
        on_violation: Callable[[], None],
        on_decided: Callable[[frozenset[str]], None],
    ) -> None:
        command = [sys.executable, "-m", "harness.cli.live", str(run_dir), str(os.getpid())]
        self._child: gevent.subprocess.Popen[bytes] | None = None
        try:
            self._child = gevent.subprocess.Popen(
                [*command, *(["--fail-fast"] if fail_fast else [])],
                stdin=gevent.subprocess.DEVNULL,
                stdout=gevent.subprocess.PIPE,
                preexec_fn=lowest_priority,
            )
        except OSError as exc:
            log.warning("aisk-harness: no live judging (%s): the verdict comes at the end", exc)
        self._on_violation = on_violation
        self._on_decided = on_decided
        self._watch = gevent.spawn(self._watch_child) if self._child is not None else None

    def _watch_child(self) -> None:
        """Each line the child says (the cases decided), until it ends; then its exit code."""
        child = self._child
        if child is None or child.stdout is None:
            return
        for line in child.stdout:
            word, _, cases = line.decode(errors="replace").partition(" ")
            if word == DECIDED:
                try:
                    self._on_decided(frozenset(json.loads(cases)))
                except ValueError:
                    log.warning("aisk-harness: the live judge said %r", line[:200])
        if child.wait() == VIOLATION_EXIT:
            self._on_violation()

    def stop(self) -> None:
        """The run is over: the child goes (it writes nothing, so it can stop at any instant;
        it is given ``STOP_GRACE_S`` to push its last metrics)."""
        if self._watch is not None:
            self._watch.kill(block=False)
        child = self._child
        if child is None or child.poll() is not None:
            return
        child.terminate()  # it pushes its last metrics, if it exports any, then ends
        try:
            child.wait(timeout=STOP_GRACE_S)
        except gevent.subprocess.TimeoutExpired:
            child.kill()
            child.wait()
