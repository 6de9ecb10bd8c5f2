"""Run budgets: at most N chat requests and R requests per second, for all processes together.

The budget is split into one share per slot before any user starts (max-min fair: a slot that
needs less than an equal share keeps only what it needs, the rest goes to the others). Every
process derives the same shares from the same slots, and a slot is run by exactly one user, so
the total holds however many workers there are: no message is needed while the load runs.

A slot's rate share is enforced by a ``Pacer`` (GCRA): in any window of W seconds the slot sends
at most ``capacity + share·W`` requests. The capacity is 1, except for a burst, whose requests
must leave together: its capacity is the burst's size. The run therefore sends at most
``R·W + Σ capacity`` requests in any window of W seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from harness.api.duration import parse_duration
from harness.load.scenario import Burst, Open, Paced, Polite, RateLimitSpec
from harness.load.schedule import Slot
from harness.load.stages import staged_count

__all__ = [
    "INFINITE",
    "NS",
    "Pacer",
    "RunBudget",
    "SlotAllowance",
    "SlotShare",
    "fair_split",
    "fair_split_int",
    "polite_ceiling",
    "slot_rate_need",
    "slot_request_ceiling",
    "slot_scheduled_rate",
    "split_budget",
]

NS = 1_000_000_000
INFINITE = math.inf


class RunBudget(BaseModel):
    """What the run was allowed to send (recorded in ``run.json``); None is unbounded."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    max_requests: int | None = Field(default=None, ge=1)
    max_rps: float | None = Field(default=None, gt=0)
    duration: str  # every case's length (the scenario's, or --duration)


@dataclass(frozen=True, slots=True)
class SlotShare:
    """One slot's part of the budget: ``requests`` in all, at most ``rps`` (None: unpaced)."""

    requests: int
    rps: float | None
    capacity: int


def slot_request_ceiling(slot: Slot) -> int:
    """The most chat requests the slot's own schedule can send (before any budget)."""
    behaviour = slot.case.behaviour
    seconds = slot.duration_ns / NS
    if isinstance(behaviour, Burst):
        interval_ns = _interval_ns(behaviour)
        repetitions = min(len(slot.keys), -(-slot.duration_ns // interval_ns))
        return behaviour.size * repetitions
    ceiling = slot.case.max_requests_per_key
    if isinstance(behaviour, Polite) and slot.case.rate_limit is not None:
        return min(ceiling, polite_ceiling(slot.case.rate_limit, slot.duration_ns, slot.clients))
    if isinstance(behaviour, Open) and behaviour.stages is not None:  # Λ over the slot's time
        expected = staged_count(behaviour.stages, behaviour.start_rate, slot.duration_ns)
        return min(ceiling, math.floor(expected) + 1)
    rate = slot_scheduled_rate(slot)
    if rate is not None:
        ceiling = min(ceiling, math.floor(rate * seconds) + 1)
    return ceiling


def polite_ceiling(rate: RateLimitSpec, duration_ns: int, clients: int) -> int:
    """The most requests a polite key's ``clients`` send in ``duration_ns`` against a correct
    limiter: its waits bound them, not the answers' latency (the polite loop stops there).

    A correct limiter admits at most A = L·(⌈T/D⌉+1) of one limiter key in T. A polite client
    sends its next request at once after an admission, and after a throttle only once the
    promised wait has passed, when the budget it waited for is free: that retry is refused only
    if another client took the budget first (an admission), or once more if the wait was rounded
    down. So each client is refused at most twice per admission of the key, plus twice at its
    start: requests ≤ A + 2·C·(A + 1). A target that breaks its promises meets this ceiling
    instead of sending as fast as it answers (wait-honesty fails it anyway).
    """
    admitted = rate.limit * (-(-duration_ns // rate.duration_ns) + 1)
    return admitted + 2 * clients * (admitted + 1)


def slot_scheduled_rate(slot: Slot) -> float | None:
    """The requests per second a paced or open slot's schedule sends (None: it waits for
    answers, or bursts)."""
    behaviour = slot.case.behaviour
    if isinstance(behaviour, Paced):
        return behaviour.rate
    return slot.case.arrival_rate


def slot_rate_need(slot: Slot) -> float:
    """The request rate the slot's schedule asks for on average (infinite for hammer, polite)."""
    behaviour = slot.case.behaviour
    rate = slot_scheduled_rate(slot)
    if rate is not None:
        return rate
    if isinstance(behaviour, Burst):
        return behaviour.size * NS / _interval_ns(behaviour)
    return INFINITE


def _interval_ns(burst: Burst) -> int:
    return parse_duration(burst.interval)


def fair_split(total: float, needs: Sequence[float]) -> list[float]:
    """Max-min fair shares of ``total``: nobody gets more than it needs; the sum is ≤ total."""
    shares = [0.0] * len(needs)
    left = total
    pending = sorted(range(len(needs)), key=lambda index: needs[index])
    while pending:
        equal = left / len(pending)
        index = pending[0]
        if needs[index] <= equal:
            shares[index] = needs[index]
            left -= needs[index]
            pending.pop(0)
            continue
        for index in pending:
            shares[index] = equal
        break
    return shares


def fair_split_int(total: int, needs: list[int]) -> list[int]:
    """``fair_split`` in whole requests: the remainder goes one each to the earliest slots."""
    shares = [
        min(need, math.floor(share))
        for need, share in zip(needs, fair_split(total, needs), strict=True)
    ]
    spare = total - sum(shares)
    for index, need in enumerate(needs):
        if spare <= 0:
            break
        if shares[index] < need:
            shares[index] += 1
            spare -= 1
    return shares


def split_budget(
    slots: list[Slot], max_requests: int | None, max_rps: float | None
) -> list[SlotShare]:
    """Every slot's share of the run's budget, in slot order (the same on every process)."""
    ceilings = [slot_request_ceiling(slot) for slot in slots]
    requests = ceilings if max_requests is None else fair_split_int(max_requests, ceilings)
    rates: list[float | None] = [None] * len(slots)
    if max_rps is not None:
        rates = list(fair_split(max_rps, [slot_rate_need(slot) for slot in slots]))
    return [
        SlotShare(
            requests=count,
            rps=rate,
            capacity=slot.case.behaviour.size if isinstance(slot.case.behaviour, Burst) else 1,
        )
        for slot, count, rate in zip(slots, requests, rates, strict=True)
    ]


class Pacer:
    """GCRA: ``capacity`` requests at once, refilled at ``rps``; reservations never overlap.

    ``reserve`` books tokens at once (no yield between check and booking, so clients of one
    slot cannot both take the last token) and says when they may be sent. The emission interval
    is rounded up to a whole nanosecond so the real rate never exceeds ``rps``.
    """

    def __init__(self, rps: float, capacity: int) -> None:
        self.interval_ns = math.ceil(NS / rps)
        self.capacity = capacity
        self._tat_ns: int | None = None  # theoretical arrival time of the next token

    def reserve(self, now_ns: int, tokens: int = 1) -> int:
        """The earliest instant (≥ now) the ``tokens`` may be sent; they are booked."""
        tokens = min(tokens, self.capacity)
        tat = now_ns if self._tat_ns is None else max(self._tat_ns, now_ns)
        due = max(now_ns, tat - (self.capacity - tokens) * self.interval_ns)
        self._tat_ns = max(tat, due) + tokens * self.interval_ns
        return due


class SlotAllowance:
    """A slot's share at run time: requests left, and the pacer when a rate is set."""

    def __init__(self, share: SlotShare) -> None:
        self.left = share.requests
        self.pacer = None if share.rps is None else Pacer(share.rps, share.capacity)

    def take(self, now_ns: int, tokens: int = 1) -> tuple[int, int]:
        """(requests granted, instant they may be sent); 0 granted once the share is spent."""
        granted = min(tokens, self.left)
        if self.pacer is not None:
            granted = min(granted, self.pacer.capacity)
        if granted <= 0:
            return 0, now_ns
        self.left -= granted
        due = now_ns if self.pacer is None else self.pacer.reserve(now_ns, granted)
        return granted, due

    def close(self) -> None:
        """Nothing more is granted: the slot's case is decided (run --until decided)."""
        self.left = 0
