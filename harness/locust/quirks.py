"""Locust's own shutdown races, worked around where the harness meets them.

- Its CSV writer (``--csv``) is a greenlet that rewrites the files every second; at shutdown Locust
  closes the files but leaves the greenlet alive, and with ``--processes`` the master then waits
  for its workers (a gevent sleep in an ``atexit`` hook), so the writer wakes and writes into
  closed files: a traceback at the end of a clean run. The writer is made to end quietly when it
  finds its files closed; any other error still surfaces.
- Its master redistributes the users whenever a worker joins mid-run (``--enable-rebalancing``
  or not): the users already running are stopped on the other workers and started again on the
  new one. A user of the harness runs one slot to its end, so a stopped one cuts its key's
  traffic short and the run no longer ends. During a harness run the master keeps its users
  where they are; the late worker is named and sends nothing.
- Headless without ``--run-time`` it says "No run time limit set, use CTRL+C to interrupt", but
  the harness ends the run itself once its scenario's duration is over: the line is dropped, and
  the lead says the planned duration instead.
- Its SIGTERM handler (the harness passes every interrupt on as SIGTERM) ends the process from
  ``quitting`` on, before the ``--html`` report is written, which it writes only after a run
  that ended by itself or by a KeyboardInterrupt. An interrupted run wrote no ``locust.html``;
  now the report is written at ``quitting`` when it is not there yet.
"""

from __future__ import annotations

from locust import User
from locust.env import Environment
from locust.html import get_html_report
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner
from locust.stats import StatsCSVFileWriter

import logging
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "drop_no_run_time_line",
    "html_report_if_missing",
    "keep_users_where_they_are",
    "quiet_csv_writer_at_shutdown",
]

NO_RUN_TIME = "No run time limit set"


def quiet_csv_writer_at_shutdown() -> None:
    original = StatsCSVFileWriter.stats_writer
    if getattr(original, "aisk_quiet", False):
        return

    def stats_writer(self: StatsCSVFileWriter) -> None:
        try:
            original(self)
        except ValueError:
            if not self.requests_csv_filehandle.closed:
                raise

    stats_writer.aisk_quiet = True  # type: ignore[attr-defined]
    StatsCSVFileWriter.stats_writer = stats_writer  # type: ignore[method-assign]


def _not_no_run_time(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(NO_RUN_TIME)


def drop_no_run_time_line() -> None:
    """Locust's "No run time limit set" line is not logged (once, however often called)."""
    logger = logging.getLogger("locust.main")
    if _not_no_run_time not in logger.filters:
        logger.addFilter(_not_no_run_time)


def keep_users_where_they_are(runner: MasterRunner, in_run: Callable[[], bool]) -> None:
    """While ``in_run()``, a start that only redistributes the same users is not carried out."""
    original = runner.start

    def start(
        user_count: int,
        spawn_rate: float,
        wait: bool = False,
        user_classes: list[type[User]] | None = None,
    ) -> None:
        running = runner.state in (STATE_RUNNING, STATE_SPAWNING)
        if in_run() and running and user_count == runner.target_user_count:
            return
        original(user_count, spawn_rate, wait, user_classes)

    runner.start = start  # type: ignore[method-assign]


def html_report_if_missing(environment: Environment) -> None:
    """At ``quitting``: Locust's ``--html`` report, unless Locust has written it already."""
    options = environment.parsed_options
    html_file = getattr(options, "html_file", None) if options is not None else None
    if not html_file or isinstance(environment.runner, WorkerRunner):
        return
    path = Path(html_file)
    if not path.exists():
        report = get_html_report(environment, show_download_link=False)  # type: ignore[no-untyped-call]
        path.write_text(report, encoding="utf-8")
