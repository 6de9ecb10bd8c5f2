"""Rate limiters: three correct readings of "at most ``limit`` messages per ``duration``".

Each per-key state answers two questions separately, ``wait`` (0 if a request now is admissible,
else the exact nanoseconds until one is) and ``record`` (count an admission), so that the caller
can make check-and-record atomic, and a fault can pull them apart.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

__all__ = [
    "Algorithm",
    "FixedWindow",
    "KeyState",
    "LimiterTable",
    "Rule",
    "SlidingLog",
    "TableFullError",
    "TokenBucket",
    "new_state",
]


class Algorithm(StrEnum):
    SLIDING_LOG = "sliding-log"
    FIXED_WINDOW = "fixed-window"
    TOKEN_BUCKET = "token-bucket"


@dataclass(frozen=True, slots=True)
class Rule:
    """``limit`` admissions per ``duration_ns``, as the limiter really applies it."""

    limit: int
    duration_ns: int


class KeyState(Protocol):
    def wait(self, now_ns: int) -> int:
        """0 if a request at ``now_ns`` is admissible, else the nanoseconds until one is."""
        ...

    def record(self, now_ns: int) -> None: ...

    def idle(self, now_ns: int) -> bool:
        """True when the state is indistinguishable from a fresh key's (safe to forget)."""
        ...


class SlidingLog:
    """An admission at ``t`` counts for ``[t, t + duration)``; at most ``limit`` count at once."""

    __slots__ = ("_log", "_rule")

    def __init__(self, rule: Rule) -> None:
        self._rule = rule
        self._log: deque[int] = deque()

    def _expire(self, now_ns: int) -> None:
        horizon = now_ns - self._rule.duration_ns
        while self._log and self._log[0] <= horizon:
            self._log.popleft()

    def wait(self, now_ns: int) -> int:
        self._expire(now_ns)
        if len(self._log) < self._rule.limit:
            return 0
        # The entry whose expiry brings the count below the limit.
        return self._log[len(self._log) - self._rule.limit] + self._rule.duration_ns - now_ns

    def record(self, now_ns: int) -> None:
        self._log.append(now_ns)

    def idle(self, now_ns: int) -> bool:
        self._expire(now_ns)
        return not self._log


class FixedWindow:
    """Windows aligned to the Unix epoch in multiples of ``duration`` (as Envoy's limiter does)."""

    __slots__ = ("_count", "_index", "_rule")

    def __init__(self, rule: Rule) -> None:
        self._rule = rule
        self._index = -1
        self._count = 0

    def _roll(self, now_ns: int) -> None:
        index = now_ns // self._rule.duration_ns
        if index != self._index:
            self._index, self._count = index, 0

    def wait(self, now_ns: int) -> int:
        self._roll(now_ns)
        if self._count < self._rule.limit:
            return 0
        return (self._index + 1) * self._rule.duration_ns - now_ns

    def record(self, now_ns: int) -> None:
        self._roll(now_ns)
        self._count += 1

    def idle(self, now_ns: int) -> bool:
        self._roll(now_ns)
        return self._count == 0


class TokenBucket:
    """Capacity ``limit``, refilled continuously at ``limit / duration`` (GCRA, exact integers).

    Times are kept multiplied by ``limit`` so the emission interval ``duration / limit`` is the
    integer ``duration`` and no rounding ever admits early.
    """

    __slots__ = ("_rule", "_tat_scaled")

    def __init__(self, rule: Rule) -> None:
        self._rule = rule
        self._tat_scaled: int | None = None

    def wait(self, now_ns: int) -> int:
        limit, duration = self._rule.limit, self._rule.duration_ns
        now_scaled = now_ns * limit
        tat = now_scaled if self._tat_scaled is None else max(self._tat_scaled, now_scaled)
        excess = tat + duration - now_scaled - duration * limit
        if excess <= 0:
            return 0
        return -(-excess // limit)  # ceil: a retry after the reported wait is admitted

    def record(self, now_ns: int) -> None:
        now_scaled = now_ns * self._rule.limit
        tat = now_scaled if self._tat_scaled is None else max(self._tat_scaled, now_scaled)
        self._tat_scaled = tat + self._rule.duration_ns

    def idle(self, now_ns: int) -> bool:
        return self._tat_scaled is None or self._tat_scaled <= now_ns * self._rule.limit


_STATES: dict[Algorithm, type[SlidingLog] | type[FixedWindow] | type[TokenBucket]] = {
    Algorithm.SLIDING_LOG: SlidingLog,
    Algorithm.FIXED_WINDOW: FixedWindow,
    Algorithm.TOKEN_BUCKET: TokenBucket,
}


def new_state(algorithm: Algorithm, rule: Rule) -> KeyState:
    return _STATES[algorithm](rule)


# Idle keys are swept when the table doubles since the last sweep: O(1) amortised per new key,
# and the table never holds more than twice its live keys (or this floor). The floor is small
# so that a soak of fresh keys (one per burst) stays flat rather than growing to it first.
_FIRST_SWEEP = 256


class TableFullError(Exception):
    """More live keys than the table may hold: the emulator answers 503 rather than grow."""


class LimiterTable:
    """Every live key's state, bounded: idle keys are forgotten, so a long soak stays flat."""

    def __init__(self, algorithm: Algorithm, max_keys: int = 1_000_000) -> None:
        self.algorithm = algorithm
        self.max_keys = max_keys
        self._states: dict[tuple[str, str], KeyState] = {}
        self._next_sweep = _FIRST_SWEEP

    def __len__(self) -> int:
        return len(self._states)

    def state(self, key: tuple[str, str], rule: Rule, now_ns: int) -> KeyState:
        found = self._states.get(key)
        if found is not None:
            return found
        if len(self._states) >= min(self.max_keys, self._next_sweep):
            self.prune(now_ns)
            if len(self._states) >= self.max_keys:
                raise TableFullError(f"{len(self._states)} rate-limit keys are live")
        created = new_state(self.algorithm, rule)
        self._states[key] = created
        return created

    def prune(self, now_ns: int) -> int:
        """Forget every idle key; returns how many were forgotten."""
        idle = [key for key, state in self._states.items() if state.idle(now_ns)]
        for key in idle:
            del self._states[key]
        self._next_sweep = max(_FIRST_SWEEP, 2 * len(self._states))
        return len(idle)

    def forget_chatbot(self, chatbot_id: str) -> None:
        for key in [key for key in self._states if key[0] == chatbot_id]:
            del self._states[key]
