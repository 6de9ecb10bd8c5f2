"""What a locustfile calls: the harness's options, and each process's session when Locust starts."""

from __future__ import annotations

from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.event import Events
from locust.runners import LocalRunner, MasterRunner, WorkerRunner

import gc
import logging

from harness.errors import HarnessError
from harness.locust.events import on_event
from harness.locust.lead import LocalSession
from harness.locust.master import MasterSession
from harness.locust.options import add_locust_options
from harness.locust.quirks import (
    drop_no_run_time_line,
    html_report_if_missing,
    quiet_csv_writer_at_shutdown,
)
from harness.locust.session import Session, register_session
from harness.locust.worker import WorkerSession

__all__ = ["attach"]


def _make_session(environment: Environment) -> Session:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        return WorkerSession(environment, runner)
    if isinstance(runner, MasterRunner):
        return MasterSession(environment, runner)
    if isinstance(runner, LocalRunner):
        return LocalSession(environment, runner)
    raise RuntimeError(f"aisk-harness cannot run under {type(runner).__name__}")


def attach(events: Events) -> None:
    """Add the harness's options and make every process's session when Locust starts."""

    def on_parser(parser: LocustArgumentParser, **_: object) -> None:
        add_locust_options(parser)

    def on_init(environment: Environment, **_: object) -> None:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per set-up call is noise
        try:
            session = _make_session(environment)
        except HarnessError as exc:  # a bad option or settings file: one line, exit code 2
            logging.getLogger("aisk-harness").error("aisk-harness: %s", exc)
            raise SystemExit(2) from None
        register_session(environment, session)
        # Everything made so far (Locust, pandas, pyarrow, the settings) lives as long as the
        # process: out of the collector's sight, a full collection no longer walks it, and an
        # open-model schedule is not held up by one.
        gc.collect()
        gc.freeze()
        on_event(events.test_start, lambda **_: session.on_test_start())
        on_event(events.test_stop, lambda **_: session.on_test_stop())
        # Before the session's: ``quitting`` runs its listeners last first, so the report is
        # written once the session has ended the run.
        on_event(events.quitting, lambda **_: html_report_if_missing(environment))
        on_event(events.quitting, lambda **_: session.on_quitting())

    quiet_csv_writer_at_shutdown()
    drop_no_run_time_line()
    on_event(events.init_command_line_parser, on_parser)
    on_event(events.init, on_init)
