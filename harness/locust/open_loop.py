"""An open-model key: a scheduler greenlet hands each arrival to a bounded pool of senders (the
load model Locust lacks: k6's constant-arrival-rate, Gatling's ``injectOpen``).

``max_in_flight`` sender greenlets take arrivals from a queue as they come due. An arrival a sender
takes at once leaves on time; one that waits in the queue (every sender busy) leaves late, its
record keeping the instant it was meant to leave, and is dropped (counted, never sent) when it has
waited past ``max_delay``. The queue holds what arrives in ``max_delay`` at the schedule's rate
(and ``max_in_flight`` more): an arrival beyond that would wait past ``max_delay`` anyway and is
dropped at once. Nothing queues without bound, and a slow target never slows the schedule; a
backlog that builds because the target holds every sender shows in the latency measured from
the intended instant (coordinated omission corrected), up to ``max_delay``. The senders
are made once per key, not per request: the schedule's own cost stays a queue hand-over.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import gevent
from gevent.pool import Group
from gevent.queue import Full, Queue

from harness.api.duration import parse_duration
from harness.load.arrivals import arrival_instants, schedule_seed
from harness.load.budget import SlotAllowance
from harness.load.scenario import Open
from harness.load.schedule import Slot
from harness.load.stages import staged_instants
from harness.locust.sender import KeySender
from harness.run.records import LATE_NS

__all__ = ["OpenKey", "sleep_until"]

NS = 1_000_000_000
PHASE = "open"
_DONE = -1  # what the scheduler queues once per sender when the schedule is over
MAX_QUEUE = 1_000_000  # arrivals waiting for a sender, at most (100 000/s × 10 s)


@dataclass
class OpenKey:
    """The schedule of one open-model slot, sent through ``sender``."""

    sender: KeySender
    slot: Slot
    behaviour: Open
    allowance: SlotAllowance
    run_id: str
    dropped: int = 0
    behind: int = 0  # arrivals the scheduler itself handed over late: this process was busy

    def run(self, deadline_ns: int) -> int:
        """Send the whole schedule, wait for what is in flight; the arrivals dropped."""
        senders = self.behaviour.max_in_flight
        max_delay_ns = parse_duration(self.behaviour.max_delay)
        rate = peak_rate(self.behaviour) or self.slot.case.arrival_rate or 0.0
        due: Queue[int] = Queue(
            maxsize=senders + min(math.ceil(rate * max_delay_ns / NS), MAX_QUEUE)
        )
        group = Group()
        try:
            for client in range(senders):
                group.spawn(self._sender, client, due, max_delay_ns)
            self._schedule(due, deadline_ns)
            for _ in range(senders):
                due.put(_DONE)  # blocks while the queue is full: the senders drain it
            group.join(raise_error=True)
        finally:
            group.kill(block=True)  # a stop: every request in flight records its cut
        return self.dropped

    def _instants(self, deadline_ns: int) -> Iterator[int]:
        """The schedule: one rate (slowed to a --max-rps share below it), or the stages (which
        the share's pacer gates arrival by arrival)."""
        behaviour, seed = self.behaviour, schedule_seed(self.run_id, self.slot.index)
        if behaviour.stages is not None:
            return staged_instants(
                time.monotonic_ns(),
                deadline_ns,
                behaviour.stages,
                behaviour.start_rate,
                behaviour.arrivals,
                seed,
            )
        rate = self.slot.case.arrival_rate
        assert rate is not None  # an open case has one
        pacer = self.allowance.pacer
        if pacer is not None:  # a --max-rps share below the schedule: the schedule slows to it
            rate = min(rate, NS / pacer.interval_ns)
        return arrival_instants(time.monotonic_ns(), deadline_ns, rate, behaviour.arrivals, seed)

    def _schedule(self, due: Queue[int], deadline_ns: int) -> None:
        ceiling = self.slot.case.max_requests_per_key
        previous: int | None = None
        for number, intended in enumerate(self._instants(deadline_ns)):
            sleep_until(intended)
            # Behind: later than 5 ms *and* than half the gap since the arrival before, so a
            # hiccup of a few ms at a slow schedule is not taken for a generator that cannot
            # keep its rate.
            gap = intended - previous if previous is not None else 0
            if time.monotonic_ns() - intended > max(LATE_NS, gap // 2):
                self.behind += 1
            previous = intended
            granted, allowed = self.allowance.take(time.monotonic_ns())
            if not granted or number >= ceiling:
                return  # the slot's share of the run's budget, or its own ceiling, is spent
            sleep_until(allowed)  # the pacer of a --max-rps share (at the schedule's rate: now)
            try:
                due.put_nowait(intended)
            except Full:
                self.dropped += 1  # every sender busy and as many waiting already

    def _sender(self, client: int, due: Queue[int], max_delay_ns: int) -> None:
        while (intended := due.get()) != _DONE:
            if time.monotonic_ns() - intended > max_delay_ns:
                self.dropped += 1  # it waited past max_delay for a free sender
                continue
            self.sender.send(PHASE, client, intended)


def sleep_until(instant_ns: int) -> None:
    # gevent's timers run on the loop's cached time and may wake early: re-checked on the clock.
    while (pause := instant_ns - time.monotonic_ns()) > 0:
        gevent.sleep(pause / NS)


def peak_rate(behaviour: Open) -> float | None:
    """A staged schedule's highest rate (what its queue is sized for); None without stages."""
    if behaviour.stages is None:
        return None
    return max(behaviour.start_rate, *(stage.target for stage in behaviour.stages))
