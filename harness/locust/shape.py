"""The stepped load of a capacity search: more closed-loop users every step, each step logged.

Each step holds ``users`` users (one slot each, hammering: a user sends its next request as soon
as its answer arrives) for ``--aisk-step-duration``. Locust ticks a shape about once a second, so
a step begins on the first tick past its planned start; the step log keeps the instants it really
began and ended, which is what the analysis measures over. The steps' clock starts at the first
tick after the run's set-up (chatbot, token, probes), so the first step is not cut short by it.
"""

from __future__ import annotations

from locust import LoadTestShape
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.event import Events

import logging
import signal
import time
from argparse import Namespace
from functools import cached_property
from pathlib import Path

import gevent

from harness.api.duration import DurationError, parse_duration
from harness.locust.events import on_event
from harness.locust.session import session_of
from harness.run.step_log import StepLog, StepSpan, write_step_log

__all__ = ["StepShape", "register_steps"]

log = logging.getLogger("aisk-harness")
# Users started per second at a step change (Locust warns above 100): 10 new users take 0.1 s.
SPAWN_RATE = 100.0


def register_steps(events: Events) -> None:
    """The step options, their check at start-up, and the end of the last step at a stop."""
    on_event(events.init_command_line_parser, _add_step_options)
    on_event(events.init, _on_init)
    on_event(events.test_stopping, _close_steps)


def _add_step_options(parser: LocustArgumentParser, **_: object) -> None:
    parser.add_argument(
        "--aisk-steps",
        default="",
        include_in_web_ui=False,
        help="Users of each step of a capacity search, comma-separated (e.g. '2,4,6,8')",
    )
    parser.add_argument(
        "--aisk-step-duration",
        default="10s",
        include_in_web_ui=False,
        help="How long each step lasts (a Go duration such as '10s')",
    )


def steps_of(options: Namespace) -> StepLog:
    """The planned steps, from ``--aisk-steps`` and ``--aisk-step-duration``."""
    try:
        users = [int(part) for part in options.aisk_steps.split(",") if part.strip()]
        duration_ns = parse_duration(options.aisk_step_duration)
    except (ValueError, DurationError) as exc:
        raise ValueError(f"--aisk-steps/--aisk-step-duration: {exc}") from None
    if not users or min(users) < 1 or duration_ns <= 0:
        raise ValueError("--aisk-steps needs user counts >= 1, and a duration > 0")
    return StepLog(step_duration_ns=duration_ns, planned_users=users)


def _on_init(environment: Environment, **_: object) -> None:
    try:
        steps_of(environment.parsed_options or Namespace())
    except (ValueError, AttributeError) as exc:
        raise SystemExit(_exit_with(str(exc))) from None
    # Headless, Locust installs its SIGTERM handler only once a shape has run to its end: until
    # then SIGTERM (how ``aisk-harness`` passes on a Ctrl-C) would kill the process before the
    # records are written and the chatbot deleted. Stopping the runner ends the shape's run, and
    # Locust's own shutdown follows.
    gevent.signal_handler(signal.SIGTERM, lambda: gevent.spawn(_stop, environment))


def _stop(environment: Environment) -> None:
    log.info("aisk-harness: SIGTERM: stopping the users")
    if environment.runner is not None:
        environment.runner.quit()


def _exit_with(message: str) -> int:
    log.error("aisk-harness: %s", message)
    return 2


class StepShape(LoadTestShape):
    """Steps of ``--aisk-steps`` users, ``--aisk-step-duration`` each, then the end of the run."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._saved = ""
        self._origin_s: float | None = None

    @cached_property
    def log(self) -> StepLog:
        assert self.runner is not None
        return steps_of(self.runner.environment.parsed_options or Namespace())

    def tick(self) -> tuple[int, float] | None:
        steps = self.log
        now_s: float = self.get_run_time()  # type: ignore[no-untyped-call]
        if self._origin_s is None:
            if not self._set_up():
                return steps.planned_users[0], SPAWN_RATE  # the first users wait for set-up
            self._origin_s = now_s
        index = int((now_s - self._origin_s) * 1e9 // steps.step_duration_ns)
        if index >= len(steps.planned_users):
            self.close()
            return None
        if not steps.steps or steps.steps[-1].index != index:
            now = time.time_ns()
            if steps.steps:
                steps.steps[-1].end_ns = now
            users = steps.planned_users[index]
            steps.steps.append(StepSpan(index=index, users=users, start_ns=now))
        self._save()
        return steps.planned_users[index], SPAWN_RATE

    def _set_up(self) -> bool:
        assert self.runner is not None
        return session_of(self.runner.environment).run is not None

    def close(self) -> None:
        """The current step ends now (the last step, a stop, or an interrupt)."""
        steps = self.log
        if steps.steps and steps.steps[-1].end_ns is None:
            steps.steps[-1].end_ns = time.time_ns()
        self._save()

    def _save(self) -> None:
        # The run directory exists once the run's set-up is done (after the first tick).
        assert self.runner is not None
        run = session_of(self.runner.environment).run
        text = self.log.model_dump_json()
        if run is not None and text != self._saved:
            write_step_log(Path(run.settings.run_dir), self.log)
            self._saved = text


def _close_steps(environment: Environment, **_: object) -> None:
    """``test_stopping``: the step running when the load stops ends there."""
    shape = environment.shape_class
    if isinstance(shape, StepShape) and shape.runner is not None:
        shape.close()
