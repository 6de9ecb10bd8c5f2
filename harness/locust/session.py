"""A Locust process's part in a run: one typed ``Session`` per process, its class its role.

- ``LocalSession`` (one process) and ``MasterSession`` lead the run (``lead.py``): set-up on the
  target, the records' sink, ``run.json``, ``recording.json``, teardown.
- ``WorkerSession`` (``worker.py``) receives the set-up in one message, claims slots, ships its
  records and reports its total when it stops.

A run exists from its set-up on: a ``Run`` is made whole (settings, chatbots, recorder) and only
then handed to the users, who wait for it. ``harness.locust.attach`` makes each process's session
when Locust starts; users find it with ``session_of(environment)``.
"""

from __future__ import annotations

from locust.env import Environment
from locust.runners import (
    STATE_CLEANUP,
    STATE_RUNNING,
    STATE_STOPPED,
    STATE_STOPPING,
    LocalRunner,
    MasterRunner,
    WorkerRunner,
)

import logging
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

import gevent
from gevent.event import Event

from harness.load.budget import SlotAllowance, SlotShare
from harness.load.schedule import Slot
from harness.load.settings import RunSettings
from harness.locust.protocol import ChatbotAccess
from harness.locust.recorder import Recorder

__all__ = ["Run", "Runner", "Session", "register_session", "session_of"]

log = logging.getLogger("aisk-harness")
SETUP_WAIT_S = 600.0  # users wait this long for the set-up (READY chatbots can take minutes)
AUTOSTOP_GRACE_S = 30.0
STOPPED = (STATE_STOPPING, STATE_STOPPED, STATE_CLEANUP)


@dataclass(frozen=True)
class Run:
    """One run as a process sees it, whole from the moment it exists. ``dropped``: the
    open-model arrivals this process dropped, by case (they were never sent); ``behind``: those
    its scheduler itself handed over late (the process, not the target, was behind)."""

    settings: RunSettings
    chatbots: dict[str, ChatbotAccess]
    recorder: Recorder
    dropped: Counter[str] = field(default_factory=Counter)
    behind: Counter[str] = field(default_factory=Counter)
    # Each running slot's allowance, by case: ``stop_case`` closes them (run --until decided).
    allowances: dict[str, list[SlotAllowance]] = field(default_factory=dict)

    @property
    def slots(self) -> list[Slot]:
        return self.settings.slots

    def share(self, slot: Slot) -> SlotShare:
        return self.settings.shares[slot.index]

    def allowance(self, slot: Slot) -> SlotAllowance:
        """The slot's share at run time, kept so that ``stop_case`` can close it."""
        allowance = SlotAllowance(self.share(slot))
        self.allowances.setdefault(slot.case.name, []).append(allowance)
        return allowance

    def stop_case(self, case: str) -> None:
        """The case is decided: its keys send nothing more (each stops at its next request)."""
        for allowance in self.allowances.get(case, []):
            allowance.close()


Runner = LocalRunner | MasterRunner | WorkerRunner


class Session(ABC):
    """What every role offers its users: the run once set up, and a slot of it."""

    def __init__(self, environment: Environment, runner: Runner) -> None:
        self.environment = environment
        self.runner = runner
        self._run: Run | None = None
        self._ready = Event()

    @property
    def run(self) -> Run | None:
        return self._run

    def begin(self, run: Run) -> None:
        """The run is set up: users may claim its slots."""
        self._run = run
        self._ready.set()

    def end(self) -> None:
        """The run is over (its records accounted for): a new user finds no run."""
        self._run = None
        self._ready.clear()

    def wait_for_run(self) -> Run | None:
        self._ready.wait(SETUP_WAIT_S)
        return self._run

    def claim_slot(self) -> tuple[Run, Slot] | None:
        """A slot for a newly started user: each slot is run by exactly one user of the run."""
        run = self.wait_for_run()
        if run is None:
            return None
        index = self.claim_index()
        return (run, run.slots[index]) if 0 <= index < len(run.slots) else None

    @abstractmethod
    def claim_index(self) -> int:
        """The next slot's index, or -1 once every slot is taken."""

    @abstractmethod
    def on_test_start(self) -> None: ...

    @abstractmethod
    def on_test_stop(self) -> None: ...

    @abstractmethod
    def on_quitting(self) -> None: ...

    def fail(self, message: str) -> None:
        """End the run with exit code 2 and a one-line reason (no traceback)."""
        log.error("aisk-harness: %s", message)
        self.environment.process_exit_code = 2
        self._ready.set()  # waiting users find no run and stop
        gevent.spawn_later(0.1, self.runner.quit)

    def users_done(self) -> bool:
        """Every user of the run has run its slot: in one process Locust's own count is exact."""
        return self.runner.state == STATE_RUNNING and self.runner.user_count == 0

    def stop_when_done(self, run: Run, quit_after: bool) -> None:
        """Stop once every user has finished its slot (or the scenario's time is long past)."""
        runner = self.runner
        limit_s = run.settings.scenario.duration_ns / 1e9 + AUTOSTOP_GRACE_S
        started = time.monotonic()
        while self._run is run:
            gevent.sleep(0.5)
            if runner.state in STOPPED:
                return
            finished = self.users_done()
            if finished or time.monotonic() - started > limit_s:
                if not finished:
                    log.warning("aisk-harness: the scenario overran its time; stopping the users")
                runner.stop()
                if quit_after:
                    runner.quit()
                return


_SESSIONS: WeakKeyDictionary[Environment, Session] = WeakKeyDictionary()


def session_of(environment: Environment) -> Session:
    session = _SESSIONS.get(environment)
    if session is None:
        raise RuntimeError("the aisk-harness session is not attached (locustfiles/aisk.py does it)")
    return session


def register_session(environment: Environment, session: Session) -> None:
    _SESSIONS[environment] = session
