"""Whether a case's traffic can reach its limit, given how long the target answers.

A check can only prove a violation where a key offered more than its limit within one window
(``harness/conformance/power.py`` says afterwards whether it did); this says beforehand whether it
can, from the calibrated time of an admitted answer (``admitted_s``) and of a refusal:

- an open key offers its arrival rate whatever the latency, and needs about ``rate x admitted``
  requests in flight to keep its schedule before its first throttle;
- a closed loop (hammer, polite, paced) waits for each answer: until it is throttled, a key of
  ``c`` clients offers at most ``c / admitted`` per second, so it reaches a limit of ``L`` per
  ``D`` only when ``c x D > L x admitted``;
- a concurrent burst of ``size`` reaches it when ``size > L``; a back-to-back one needs its first
  ``L + 1`` requests answered one after the other within ``D``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.load.scenario import Burst, Case, Open, Paced

__all__ = ["Reach", "reach"]

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Reach:
    """A case's offered rate per key (None: a burst), the requests it needs in flight, and why
    it cannot reach its limit ("" when it can, or has none)."""

    offered_rps: float | None
    in_flight: int
    warning: str


def _closed(case: Case, clients: int, admitted_s: float, per_s: float | None) -> Reach:
    offered = clients / admitted_s if admitted_s > 0 else math.inf
    if per_s is not None:
        offered = min(offered, per_s)
    rate = case.rate_limit
    if rate is None:
        return Reach(offered, clients, "")
    needed = rate.limit * NS / rate.duration_ns
    if offered <= needed:
        return Reach(
            offered,
            clients,
            f"case {case.name!r} waits for each answer: at {admitted_s:.3g} s an admitted answer, "
            f"its keys offer at most {offered:.3g}/s, not over their limit of {needed:.3g}/s; "
            "give it kind = 'open'",
        )
    return Reach(offered, clients, "")


def reach(case: Case, admitted_s: float) -> Reach:
    """Whether ``case`` can push its keys past their limit when an admitted answer takes
    ``admitted_s`` seconds."""
    behaviour = case.behaviour
    rate = case.rate_limit
    if isinstance(behaviour, Open):
        arrival = case.arrival_rate or 0.0
        needed = math.ceil(arrival * admitted_s) + 1
        if rate is not None:
            needed = min(needed, rate.limit + 1)
        warning = ""
        if behaviour.max_in_flight < needed:
            warning = (
                f"case {case.name!r} needs about {needed} requests in flight to keep its schedule "
                f"at {admitted_s:.3g} s an admitted answer, and allows {behaviour.max_in_flight}: "
                "arrivals will be late or dropped; raise max_in_flight"
            )
        return Reach(arrival, needed, warning)
    if isinstance(behaviour, Burst):
        if rate is None:
            return Reach(None, behaviour.size, "")
        if behaviour.size <= rate.limit:
            return Reach(
                None,
                behaviour.size,
                f"case {case.name!r}: a burst of {behaviour.size} never outnumbers its "
                f"limit of {rate.limit}",
            )
        sequential_s = (rate.limit + 1) * admitted_s
        if not behaviour.concurrent and sequential_s * NS >= rate.duration_ns:
            return Reach(
                None,
                1,
                f"case {case.name!r}: {rate.limit + 1} answers one after the other take "
                f"about {sequential_s:.3g} s, past its window of {rate.duration}; "
                "lengthen the window or lower the limit",
            )
        return Reach(None, behaviour.size if behaviour.concurrent else 1, "")
    per_s = behaviour.rate if isinstance(behaviour, Paced) else None
    return _closed(case, case.population.users_per_key, admitted_s, per_s)
