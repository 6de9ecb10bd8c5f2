"""Each Start of a plain Locust run (``locust -f locustfiles/aisk.py``, no ``--aisk-settings``):
a run directory of its own, and, from the web UI, a verdict and a report once it stops.

The web UI can be started again and again in one process. Each Start is a run: it gets a fresh
directory under ``--aisk-out`` (default ``reports/runs``), named by its UTC instant
(``DIR/20261207T203000Z``, ``-2`` after it when two Starts share a second), never one that holds
a run; once it stops, a child process judges it and writes its report as ``aisk-harness run``
does (``harness.cli.after_stop``: the checks and the notebooks stay out of this gevent-patched
process, and the web UI stays responsive), and its verdict line goes to the log and the web UI's
aisk-harness tab (``harness.locust.web_ui``). Before, a second Start wrote into the first's
directory, and ``check`` judged the first run's records under the second's id.

Headless there is one Start: ``--aisk-out`` is its directory, refused in one line if it holds a
run already; the log says how to judge it (``aisk-harness check``).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import gevent
import gevent.subprocess

from harness.errors import ConfigError
from harness.load.options import API_KEY_ENV, CHATBOT_TOKEN_ENV, SECOND_API_KEY_ENV
from harness.run.parts import part_paths, records_dir
from harness.run.plan import PLAN_FILE
from harness.run.recording import RECORDING_FILE

__all__ = ["DEFAULT_PARENT", "Start", "Starts", "holds_a_run"]

log = logging.getLogger("aisk-harness")
DEFAULT_PARENT = Path("reports/runs")
MAX_SAME_SECOND = 1000  # Starts named in one second before giving up (a bounded loop)
JUDGE_COMMAND = (sys.executable, "-m", "harness.cli.after_stop")
SECRETS_ENV = (API_KEY_ENV, SECOND_API_KEY_ENV, CHATBOT_TOKEN_ENV)  # the judge needs none
RUNNING, JUDGING = "running", "judging"


@dataclass
class Start:
    """One Start and what became of it: ``state`` is ``running``, ``judging``, then the verdict
    line (or ``not judged: <why>``)."""

    number: int
    run_id: str
    run_dir: Path
    state: str = RUNNING


def holds_a_run(run_dir: Path) -> bool:
    """Whether a run was made in ``run_dir`` (its plan, its recording or a record part)."""
    made = (run_dir / PLAN_FILE).exists() or (run_dir / RECORDING_FILE).exists()
    return made or bool(part_paths(records_dir(run_dir)))


class Starts:
    """The Starts of one Locust process, the directory each was given, and their verdicts."""

    def __init__(
        self,
        *,
        web: bool,
        run_id: str = "",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._run_id = run_id
        self.web = web
        self._now = now
        self.starts: list[Start] = []
        self._judges: list[gevent.subprocess.Popen[str]] = []
        self._quitting = False

    def next(self, out: str | None) -> Start:
        """The next Start's run id and directory (``out``: ``--aisk-out`` as the form has it
        now), the directory made (``ConfigError`` if it cannot be, or headless, if it holds a
        run)."""
        stamp = self._now()
        number = len(self.starts) + 1
        run_id = self._run_id or stamp.strftime("%Y%m%dT%H%M%S%fZ")
        if self._run_id and number > 1:
            run_id = f"{self._run_id}-{number}"
        if self.web:
            run_dir = _fresh_dir(Path(out or DEFAULT_PARENT), stamp.strftime("%Y%m%dT%H%M%SZ"))
        else:
            run_dir = Path(out or DEFAULT_PARENT / stamp.strftime("%Y%m%dT%H%M%SZ"))
            if holds_a_run(run_dir):
                raise ConfigError(
                    f"--aisk-out: {str(run_dir)!r} already holds a run; choose a new directory "
                    "(from the web UI, each Start makes a directory of its own in it)"
                )
        start = Start(number, run_id, run_dir)
        self.starts.append(start)
        return start

    def forget(self, start: Start) -> None:
        """A Start whose set-up was refused: no run, and its directory gone if still empty."""
        if start in self.starts:
            self.starts.remove(start)
        if self.web:
            try:
                start.run_dir.rmdir()
            except OSError:
                pass

    def stopped(self, start: Start) -> None:
        """The Start's records are written: judge it (web UI), or say how (headless)."""
        where = start.run_dir
        if not self.web or self._quitting:
            start.state = f"not judged: `aisk-harness check {where}` judges it"
            log.info(
                "aisk-harness: run %s is in %s; `aisk-harness check %s` judges it and "
                "`aisk-harness report %s` makes its report",
                start.run_id,
                where,
                where,
                where,
            )
            return
        start.state = JUDGING
        log.info("aisk-harness: run %s stopped; judging it and writing its report", start.run_id)
        gevent.spawn(self._judge, start)

    def quitting(self) -> None:
        """Locust is quitting: no new judgement; one under way is stopped (and says how to
        finish it), never left running after Locust."""
        self._quitting = True
        for child in self._judges:
            if child.poll() is None:
                child.kill()
                child.wait()
        for start in self.starts:
            if start.state == JUDGING:
                start.state = f"not judged: Locust quit first; `aisk-harness check {start.run_dir}`"
                log.warning("aisk-harness: run %s %s", start.run_id, start.state)

    def _judge(self, start: Start) -> None:
        env = {name: value for name, value in os.environ.items() if name not in SECRETS_ENV}
        child = gevent.subprocess.Popen(
            [*JUDGE_COMMAND, str(start.run_dir)],
            stdin=gevent.subprocess.DEVNULL,
            stdout=gevent.subprocess.PIPE,
            stderr=gevent.subprocess.STDOUT,
            env={**env, "PYTHONUNBUFFERED": "1"},  # its lines in the order it wrote them
            text=True,
        )
        self._judges.append(child)
        last = ""  # relayed once the next line comes: the last one is said as the verdict
        assert child.stdout is not None  # piped above
        for line in child.stdout:
            if line.strip():
                if last:
                    log.info("aisk-harness: | %s", last)
                last = line.rstrip()
        code = child.wait()
        self._judges.remove(child)
        if self._quitting:
            return
        judged = code in (0, 1, 3) or last.startswith("not judged")
        start.state = last if judged else f"not judged: the judge ended with {code}: {last}"
        log.info("aisk-harness: run %s: %s", start.run_id, start.state)


def _fresh_dir(parent: Path, name: str) -> Path:
    """``parent/name`` made now (``name-2``, ``name-3``… if taken): a directory no run used."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for number in range(1, MAX_SAME_SECOND + 1):
            run_dir = parent / (name if number == 1 else f"{name}-{number}")
            try:
                run_dir.mkdir()
            except FileExistsError:
                continue
            return run_dir
    except OSError as exc:
        raise ConfigError(
            f"--aisk-out: cannot make a run directory in {str(parent)!r}: {exc.strerror or exc}"
        ) from None
    raise ConfigError(f"--aisk-out: {str(parent)!r} has no free name for a run at {name}")
