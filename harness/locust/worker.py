"""A worker of a distributed run: it sends the load of the slots it claims, and ships the records.

It learns the run from the master's ``SetUp`` (before any of its users starts: the master sends it
before it spawns them), measures its clock's offset to the master's (the best of a few pings, as
NTP does), and from then on its users claim slots one at a time. Every batch goes to the master;
once every user it was given has ended it says ``UsersDone`` (the master ends the run on that,
not on Locust's lagging reports of its users); when the worker stops (the master's stop,
``FlushNow``, or its own quit) its last batch goes, then ``Flushed`` with its total, so the master
knows it has everything.
"""

from __future__ import annotations

from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING, WorkerRunner

import logging
import time
import uuid
from functools import partial

import gevent
from gevent.event import AsyncResult

from harness.load.sources import worker_sources
from harness.locust.protocol import (
    Claim,
    FlushNow,
    Hello,
    Ping,
    Pong,
    SetUp,
    SlotGrant,
    Sources,
    UsersDone,
    listen,
    send,
)
from harness.locust.recorder import Recorder
from harness.locust.session import STOPPED, Run, Session
from harness.locust.shipping import Shipper
from harness.run.clock import ClockOffset, estimate_offset

__all__ = ["WorkerSession"]

log = logging.getLogger("aisk-harness")
CLOCK_SAMPLES = 8
CLOCK_WAIT_S = 2.0
CLAIM_WAIT_S = 30.0
USERS_POLL_S = 0.2  # how often a worker looks whether its users are all done


class WorkerSession(Session):
    def __init__(self, environment: Environment, runner: WorkerRunner) -> None:
        super().__init__(environment, runner)
        self.worker = runner
        self._claims: dict[str, AsyncResult] = {}
        self._pongs: list[tuple[int, int, int]] = []
        self._reported = False
        self._shipper = Shipper(partial(send, runner))
        listen(runner, SetUp, self._set_up, concurrent=True)
        listen(runner, SlotGrant, self._granted)
        listen(runner, Pong, self._pong)
        listen(runner, FlushNow, self._flush_now)
        options = environment.parsed_options
        sources = worker_sources(getattr(options, "aisk_source_ip", ""), "--aisk-source-ip")
        send(runner, Sources(addresses=sources))  # before any run: the master plans with them

    @property
    def process(self) -> str:
        return f"w{self.worker.worker_index}"

    def on_test_start(self) -> None:
        if self.run is None:
            send(self.worker, Hello())  # joined after the set-up went out: ask for it

    def on_test_stop(self) -> None:
        self._report()

    def on_quitting(self) -> None:
        if self.worker.state in (STATE_RUNNING, STATE_SPAWNING):
            self.worker.stop()  # its test_stop reports
        self._report()

    def claim_index(self) -> int:
        nonce = uuid.uuid4().hex
        result: AsyncResult = AsyncResult()
        self._claims[nonce] = result
        send(self.worker, Claim(nonce=nonce))
        try:
            return int(result.get(timeout=CLAIM_WAIT_S))
        except gevent.Timeout:
            log.error("aisk-harness: the master did not answer a slot claim in %g s", CLAIM_WAIT_S)
            return -1
        finally:
            self._claims.pop(nonce, None)

    # -- messages ------------------------------------------------------------------------------

    def _set_up(self, set_up: SetUp, _: str) -> None:
        recorder = Recorder(self.process, self._clock_offset(), self._shipper.ship)
        recorder.start()
        self._reported = False
        run = Run(set_up.settings, set_up.chatbots, recorder)
        self.begin(run)
        gevent.spawn(self._say_when_users_done, run)

    def _say_when_users_done(self, run: Run) -> None:
        """``UsersDone`` once this worker's users have all run their slots (a worker given none
        says it as soon as its spawn is complete); nothing if the run stops first. The set-up
        can come while the runner is still stopped from a previous Start (the web UI): a stopped
        state ends the wait only once this run's users have been seen spawning or running."""
        started = False
        while self.run is run:
            state = self.worker.state
            started = started or state in (STATE_SPAWNING, STATE_RUNNING)
            if started and state in STOPPED:
                return
            if state == STATE_RUNNING and self.worker.user_count == 0:
                send(self.worker, UsersDone())
                return
            gevent.sleep(USERS_POLL_S)

    def _clock_offset(self) -> ClockOffset:
        self._pongs = []
        for _sample in range(CLOCK_SAMPLES):
            send(self.worker, Ping(sent_ns=time.time_ns()))
            gevent.sleep(0.02)
        deadline = time.monotonic() + CLOCK_WAIT_S
        while len(self._pongs) < CLOCK_SAMPLES and time.monotonic() < deadline:
            gevent.sleep(0.01)
        if not self._pongs:
            log.warning("aisk-harness: no clock sample from the master; offset taken as 0 ± 0")
            return ClockOffset(0, 0)
        return estimate_offset(self._pongs)

    def _pong(self, pong: Pong, _: str) -> None:
        self._pongs.append((pong.sent_ns, pong.master_ns, time.time_ns()))

    def _granted(self, grant: SlotGrant, _: str) -> None:
        result = self._claims.get(grant.nonce)
        if result is not None:
            result.set(grant.index)

    def _flush_now(self, _: FlushNow, __: str) -> None:
        if self.worker.state in (STATE_RUNNING, STATE_SPAWNING):
            gevent.spawn(self.worker.stop)  # its test_stop reports
        else:
            self._reported = False  # the master has not had it: say it again
            self._report()

    def _report(self) -> None:
        """The last batch, then the total: once per stop."""
        run = self.run
        if run is None or self._reported:
            return
        self._reported = True
        self._shipper.report(run.recorder, run.dropped, run.behind)
