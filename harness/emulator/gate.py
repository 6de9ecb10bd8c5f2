"""The emulated language model's capacity: at most ``limit`` answers generated at once.

Requests beyond the limit wait in arrival (FIFO) order; with a ``max_waiting`` bound, a request
that finds every slot busy and the queue full is refused at once (the service answers 503, code
14), as an overloaded backend would. With ``limit`` slots of ``latency`` each, the emulator serves
at most ``limit / latency`` requests per second: a known capacity for the capacity search to find.

That capacity holds on a busy machine too: a slot handed to a waiter starts its answer at the
instant the previous answer was planned to end (``enter``/``leave``), not when the event loop gets
round to waking the waiter, so a loop running late (another process on the cores) does not
stretch every answer by its lateness. (It did: the emulator's 100 req/s measured 94 while a
second test ran beside it.)
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["ConcurrencyGate"]


class ConcurrencyGate:
    """A fair (first come, first served) semaphore that can also say "the queue is full".

    Not thread-safe: used from the one event loop that serves the emulator. ``full()`` and the
    entry that follows it must run with no ``await`` in between, so no other request slips in.
    """

    def __init__(self, limit: int, max_waiting: int | None = None) -> None:
        if limit < 1:
            raise ValueError("a concurrency limit must be at least 1")
        if max_waiting is not None and max_waiting < 0:
            raise ValueError("a queue bound cannot be negative")
        self.limit = limit
        self.max_waiting = max_waiting
        self.active = 0
        self.peak_active = 0
        self._waiters: deque[asyncio.Future[int]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def full(self) -> bool:
        """Every slot is busy and no place is left in the queue: a new request is refused."""
        if self.active < self.limit or self.max_waiting is None:
            return False
        return len(self._waiters) >= self.max_waiting

    async def enter(self, arrival_ns: int) -> int:
        """Take a slot (waiting in turn); the instant its answer starts: ``arrival_ns`` when a slot
        was free, else the instant its previous holder planned to leave (``leave``)."""
        if self.active < self.limit and not self._waiters:
            self._take()
            return arrival_ns
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            # A leaving holder hands its slot over: ``active`` already counts us.
            return max(arrival_ns, await waiter)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())  # handed a slot, then cancelled: pass it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def leave(self, planned_end_ns: int) -> None:
        """Give the slot up; a waiter handed it starts its answer at ``planned_end_ns``."""
        self._release(planned_end_ns)

    def _take(self) -> None:
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)

    def _release(self, planned_end_ns: int) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(planned_end_ns)  # the slot moves to the longest waiter
                return
        self.active -= 1
