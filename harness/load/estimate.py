"""What a run may cost before it starts: chat requests sent, and messages a target may admit.

Both are upper bounds from the schedule and the budget shares (``harness.load.budget``):
- requests: per slot, the least of its schedule's ceiling, its share of ``--max-requests`` and
  what its pacer lets through in the case's time (capacity + rate·duration);
- admitted: what a conformant target can admit, which is what the quota burns: at most ``limit``
  per key in any window, so ``limit·(⌈H/D⌉+1)`` per key over a hull H (the case's time plus the
  request timeout, for answers still in flight), capped by the requests and by the daily quota.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.load.budget import NS, SlotShare, slot_request_ceiling
from harness.load.schedule import Slot

__all__ = ["CaseEstimate", "admission_bound", "estimate_cases"]


def admission_bound(limit: int, duration_ns: int, keys: int, span_ns: int) -> int:
    """At most how many chats a conformant limiter admits to ``keys`` limiter keys over
    ``span_ns``: ``limit`` for every window the span covers, and one more window for the one that
    straddles its start (whatever the family: no window of ``duration_ns`` holds more)."""
    windows = -(-span_ns // duration_ns) + 1
    return keys * limit * windows


@dataclass(frozen=True, slots=True)
class CaseEstimate:
    case: str
    behaviour: str
    keys: int
    duration_ns: int
    max_requests: int
    max_admitted: int  # by a conformant target: the quota it can burn
    quota: int | None  # configured messages per day, None when the case has no quota
    # Only ``max_requests_per_key`` bounds what it sends: a closed loop (hammer, a polite case
    # without a rate limit) that no schedule, wait or budget holds back.
    capped: bool = False

    @property
    def may_exhaust_quota(self) -> bool:
        return self.quota is not None and self.max_requests > self.quota


def _slot_requests(slot: Slot, share: SlotShare) -> int:
    most = min(slot_request_ceiling(slot), share.requests)
    if share.rps is not None:
        most = min(most, share.capacity + math.floor(share.rps * slot.duration_ns / NS))
    return most


def estimate_cases(
    slots: list[Slot], shares: list[SlotShare], request_timeout_s: float
) -> list[CaseEstimate]:
    """One estimate per case, in the order the cases first appear among the slots."""
    by_case: dict[str, list[tuple[Slot, SlotShare]]] = {}
    for slot, share in zip(slots, shares, strict=True):
        by_case.setdefault(slot.case.name, []).append((slot, share))
    estimates = []
    for name, pairs in by_case.items():
        case = pairs[0][0].case
        duration_ns = pairs[0][0].duration_ns
        keys = sum(len(slot.keys) for slot, _ in pairs)
        requests = sum(_slot_requests(slot, share) for slot, share in pairs)
        admitted = requests
        rate = case.rate_limit
        if rate is not None:
            limiter_keys = 1 if case.vary_mode == "none" else keys
            hull_ns = duration_ns + int(request_timeout_s * NS)
            bound = admission_bound(rate.limit, rate.duration_ns, limiter_keys, hull_ns)
            admitted = min(admitted, bound)
        quota = case.quota.limit if case.quota is not None else None
        if quota is not None:
            admitted = min(admitted, quota)
        capped = all(
            _slot_requests(slot, share) >= case.max_requests_per_key * len(slot.keys)
            for slot, share in pairs
        )
        estimates.append(
            CaseEstimate(
                name, case.behaviour.kind, keys, duration_ns, requests, admitted, quota, capped
            )
        )
    return estimates
