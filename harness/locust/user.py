"""The Locust user of the harness: one user per slot (a key and the clients that share it).

A user claims a slot from its process's session, runs the slot's behaviour to its end (its time,
its request ceiling or its share of the run's budget, whichever comes first), then stops; every
request goes through a ``KeySender``, which times and records it.
"""

from __future__ import annotations

from locust import User, task
from locust.env import Environment
from locust.exception import StopUser

import time
from collections.abc import Callable
from functools import partial

import gevent
from gevent.pool import Group

from harness.api.answer import Outcome
from harness.api.duration import parse_duration
from harness.load.budget import SlotAllowance, slot_request_ceiling
from harness.load.scenario import Burst, Hammer, Open, Paced, Polite
from harness.load.schedule import Slot
from harness.load.stages import staged_level, think_draws
from harness.locust.open_loop import OpenKey, sleep_until
from harness.locust.sender import KeySender
from harness.locust.session import Run, Session, session_of

__all__ = ["KeyUser"]

NS = 1_000_000_000


class KeyUser(User):
    """Claims one slot and runs its behaviour to the end, then stops."""

    abstract = False

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self._session: Session = session_of(environment)

    @task
    def run_slot(self) -> None:
        claimed = self._session.claim_slot()
        if claimed is None:
            raise StopUser
        run, slot = claimed
        deadline = time.monotonic_ns() + slot.duration_ns
        allowance = run.allowance(slot)
        behaviour = slot.case.behaviour
        if isinstance(behaviour, Burst):
            self._burst(run, slot, behaviour, allowance, deadline)
        elif isinstance(behaviour, Open):
            sender = KeySender(self, run, slot, slot.keys[0])
            key = OpenKey(sender, slot, behaviour, allowance, run.settings.run_id)
            try:
                key.run(deadline)
            finally:
                run.dropped[slot.case.name] += key.dropped
                run.behind[slot.case.name] += key.behind
        else:
            sender = KeySender(self, run, slot, slot.keys[0])
            loop = _loop(sender, slot, allowance, deadline)
            _together(loop, slot.clients)
        raise StopUser

    def _burst(
        self, run: Run, slot: Slot, burst: Burst, allowance: SlotAllowance, deadline_ns: int
    ) -> None:
        interval_ns = parse_duration(burst.interval)
        start_ns = time.monotonic_ns()
        for repetition, key in enumerate(slot.keys):
            due_ns = start_ns + repetition * interval_ns
            if due_ns >= deadline_ns:
                return  # no burst is due before the slot's end: waiting for one only delays it
            sender = KeySender(self, run, slot, key)
            if burst.concurrent:
                sender.prewarm(burst.size)
            sleep_until(due_ns)
            size = _gate(allowance, deadline_ns, burst.size)
            if size == 0:
                return  # the slot's time or its share of the budget is spent
            if burst.concurrent:
                _together(partial(sender.send, "burst"), size)
            else:
                for _ in range(size):
                    sender.send("burst", 0)


def _loop(
    sender: KeySender, slot: Slot, allowance: SlotAllowance, deadline: int
) -> Callable[[int], None]:
    """What each client of a hammer, paced or polite slot does, until the slot is done."""
    behaviour = slot.case.behaviour
    # A polite key's ceiling comes from its waits (the plan prints it): hold it to that.
    limit = (
        slot_request_ceiling(slot)
        if isinstance(behaviour, Polite)
        else slot.case.max_requests_per_key
    )

    def more() -> bool:
        return sender.sent < limit and time.monotonic_ns() < deadline

    def go() -> bool:
        """``more()``, and the slot's budget lets one more request go (now)."""
        return more() and _gate(allowance, deadline) > 0

    if isinstance(behaviour, Paced):
        start = time.monotonic_ns()
        interval_ns = NS / behaviour.rate

        def paced(client: int) -> None:
            turn = client
            while more():
                due = start + int(turn * interval_ns)
                if due >= deadline:
                    return  # the next turn falls after the slot's end: waiting only delays it
                sleep_until(due)
                if not go():
                    return
                sender.send("paced", client)
                turn += slot.clients

        return paced
    if isinstance(behaviour, Polite):
        margin_s = _seconds(behaviour.retry_margin)

        def polite(client: int) -> None:
            phase = "polite"
            while go():
                answer = sender.send(phase, client)
                phase = "polite"
                if answer.outcome == Outcome.THROTTLED and answer.wait_ns is not None:
                    pause = answer.wait_ns / NS + margin_s
                    if time.monotonic_ns() + pause * NS >= deadline:
                        return
                    gevent.sleep(pause)
                    phase = "polite-retry"

        return polite

    if isinstance(behaviour, Hammer) and (behaviour.stages or behaviour.think):
        return _staged_hammer(sender, behaviour, more, go, deadline, seed=slot.index)

    def hammer(client: int) -> None:
        while go():
            sender.send("hammer", client)

    return hammer


STAGE_POLL_S = 0.05  # how often an idle client of staged users looks whether it is wanted


def _staged_hammer(
    sender: KeySender,
    behaviour: Hammer,
    more: Callable[[], bool],
    go: Callable[[], bool],
    deadline: int,
    seed: int,
) -> Callable[[int], None]:
    """Closed-loop clients that think between requests, and (with stages) work only while the
    stages' level is above their number: client ``c`` sends while ``c < round(level)``."""
    start = time.monotonic_ns()

    def wanted(client: int) -> bool | None:
        """Whether the stages want this client now; None once they are over."""
        if behaviour.stages is None:
            return True
        level = staged_level(behaviour.stages, 0.0, time.monotonic_ns() - start)
        return None if level is None else client < round(level)

    def hammer(client: int) -> None:
        thinking = think_draws(behaviour.think, seed * 1_000 + client) if behaviour.think else None
        while more():
            state = wanted(client)
            if state is None:
                return
            if not state:
                gevent.sleep(STAGE_POLL_S)
                continue
            if not go():
                return
            sender.send("hammer", client)
            pause = next(thinking) if thinking is not None else 0.0
            if pause > 0:
                if time.monotonic_ns() + pause * NS >= deadline:
                    return
                gevent.sleep(pause)

    return hammer


def _gate(allowance: SlotAllowance, deadline_ns: int, requests: int = 1) -> int:
    """Take ``requests`` from the slot's share and wait until its pacer lets them go.

    Returns how many may be sent now: 0 once the share is spent or the pacer's instant falls
    after the slot's deadline. The wait is re-checked on the monotonic clock, since gevent's
    timers run on the loop's cached time and may wake early.
    """
    now_ns = time.monotonic_ns()
    granted, due = allowance.take(now_ns, requests)
    if granted == 0 or due >= deadline_ns:
        return 0
    if due > now_ns:  # unpaced, or the pacer has room: no wait, no second reading of the clock
        sleep_until(due)
    return granted


def _seconds(go_duration: str) -> float:
    return parse_duration(go_duration) / NS


def _together(work: Callable[[int], object], clients: int) -> None:
    """Run ``work(client)`` for each client at once; a stop kills all (each records its cut)."""
    if clients == 1:
        work(0)
        return
    group = Group()
    try:
        for client in range(clients):
            group.spawn(work, client)
        group.join(raise_error=True)
    finally:
        group.kill(block=True)
