"""Slots: the unit of work one Locust user takes, so that every key is sent by one process.

A slot is one key of a case (a burst's slot holds one fresh key per repetition) with the clients
that share it. Users claim slots by index from the master, so however Locust spreads users over
workers, all traffic of a key shares one process and one monotonic clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.load.keys import KeyPlan
from harness.load.scenario import Burst, Case, Open, Scenario

__all__ = [
    "Slot",
    "SlotDispenser",
    "build_slots",
    "slot_connections",
    "slot_count",
    "slot_sender",
]


@dataclass(frozen=True, slots=True)
class Slot:
    index: int
    case: Case
    keys: tuple[KeyPlan, ...]  # one, or one per burst repetition
    clients: int  # simulated clients sharing the key, each one request at a time
    duration_ns: int


def build_slots(scenario: Scenario, plans: dict[str, list[KeyPlan]]) -> list[Slot]:
    """Every slot of the run, cases in file order, keys in index order."""
    slots: list[Slot] = []
    for case in scenario.cases:
        keys = plans[case.name]
        duration_ns = scenario.case_duration_ns(case)
        if isinstance(case.behaviour, Burst):
            repeat = case.behaviour.repeat
            groups = [
                tuple(keys[i * repeat : (i + 1) * repeat]) for i in range(len(keys) // repeat)
            ]
            clients = 1
        else:
            groups = [(key,) for key in keys]
            clients = case.population.users_per_key
        for group in groups:
            slots.append(Slot(len(slots), case, group, clients, duration_ns))
    return slots


def slot_count(scenario: Scenario) -> int:
    """How many slots (Locust users) the scenario needs: one per key, a burst's keys per
    repetition counted once (``build_slots`` without planning the keys)."""
    return sum(case.population.keys for case in scenario.cases)


def slot_connections(slot: Slot) -> int:
    """How many requests of the slot can be in flight at once: its clients, a concurrent
    burst's size, an open key's in-flight bound (the connections its pools keep)."""
    behaviour = slot.case.behaviour
    if isinstance(behaviour, Burst):
        return max(slot.clients, behaviour.size)
    if isinstance(behaviour, Open):
        return behaviour.max_in_flight
    return slot.clients


class SlotDispenser:
    """Hands out every slot once, in slot order: a sender's own slots first (a slot whose source
    addresses are one worker's can only be sent by that worker), then the slots anyone may send.
    ``senders[i]`` is slot i's sender, None for any. A claim costs O(1), whatever the slots."""

    def __init__(self, senders: Sequence[str | None]) -> None:
        self._free: dict[str | None, deque[int]] = {}
        for index, sender in enumerate(senders):
            self._free.setdefault(sender, deque()).append(index)
        self.taken: set[int] = set()

    def next(self, sender: str | None) -> int:
        """The next slot for a user of ``sender`` (None: any), marked taken; -1 when none is
        left for it."""
        for owner in (sender, None) if sender is not None else (None,):
            free = self._free.get(owner)
            if free:
                index = free.popleft()
                self.taken.add(index)
                return index
        return -1


def slot_sender(keys: Sequence[KeyPlan], senders: Mapping[str, Sequence[str]] | None) -> str | None:
    """The worker that must send a slot's keys (it owns their source addresses); None: any."""
    if not senders:
        return None
    owners = {address: name for name, addresses in senders.items() for address in addresses}
    for key in keys:
        for address in key.source_ips:
            if address in owners:
                return owners[address]
    return None
