"""Real limiter engines: a third-party library on Redis decides, as in a service built on it.

The emulator's own limiters (``limiter.py``) are this project's readings of "at most ``limit`` per
``duration``"; a verdict is trusted only where it is also right on limiters nobody here wrote.
An engine is a small adapter: the key and the rule in, the library's own decision and its own
retry figure out, written into the throttle body with no correction (a library whose reset time
is coarse gives coarse waits). Auth, training, quota and the faults that shape answers stay the
emulator's.

Time: the libraries read the wall clock (``time.time()`` in ``limits``, Redis ``TIME`` in
``throttled-py``), never the emulator's injectable one, so a real engine runs in real time only
(``EmulatorConfig`` refuses one on a manual clock) and its tests are real-time, with tolerances
derived from the measured latency like every run's. Each request asks the library once, at the
emulator's decision instant, with one atomic call (the library's own check-and-count): that call
is the server-side instant the harness's checks place inside [send, receive].
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Protocol

import redis
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from throttled import RateLimiterType, Throttled, per_duration
from throttled.exceptions import BaseThrottledError
from throttled.store import RedisStore

from harness.emulator.limiter import Rule

__all__ = ["ENGINE_NOTES", "Engine", "EngineDecision", "EngineError", "RealEngine", "open_engine"]

SECOND_NS = 1_000_000_000


class Engine(StrEnum):
    BUILTIN = "builtin"
    LIMITS_MOVING_WINDOW = "limits-moving-window"
    LIMITS_FIXED_WINDOW = "limits-fixed-window"
    LIMITS_SLIDING_WINDOW_COUNTER = "limits-sliding-window-counter"
    THROTTLED_GCRA = "throttled-gcra"
    THROTTLED_TOKEN_BUCKET = "throttled-token-bucket"


# One line per engine for ``--help`` and the docs: what the library does, and its retry figure.
ENGINE_NOTES: dict[Engine, str] = {
    Engine.BUILTIN: "the emulator's own limiter (--algorithm) and faults",
    Engine.LIMITS_MOVING_WINDOW: "limits 5.8 moving window (a sliding log in a Redis list)",
    Engine.LIMITS_FIXED_WINDOW: (
        "limits 5.8 fixed window, anchored at a key's first hit; reset read via Redis TTL "
        "(whole seconds)"
    ),
    Engine.LIMITS_SLIDING_WINDOW_COUNTER: (
        "limits 5.8 sliding-window counter (the previous window weighted): refuses below the limit"
    ),
    Engine.THROTTLED_GCRA: "throttled-py 3.5 GCRA, burst = limit",
    Engine.THROTTLED_TOKEN_BUCKET: "throttled-py 3.5 token bucket, capacity = limit",
}


@dataclass(frozen=True, slots=True)
class EngineDecision:
    """The library's answer: admitted, or refused with its own wait (ns, never negative)."""

    admitted: bool
    wait_ns: int = 0


class EngineError(Exception):
    """The engine's store failed (Redis gone): no decision can be had."""


class RealEngine(Protocol):
    name: Engine

    def hit(self, key: str, rule: Rule) -> EngineDecision:
        """Check and count one request of ``key`` under ``rule``, atomically, now."""
        ...

    def close(self) -> None: ...


_LIMITS_STRATEGIES: dict[Engine, type[RateLimiter]] = {
    Engine.LIMITS_MOVING_WINDOW: MovingWindowRateLimiter,
    Engine.LIMITS_FIXED_WINDOW: FixedWindowRateLimiter,
    Engine.LIMITS_SLIDING_WINDOW_COUNTER: SlidingWindowCounterRateLimiter,
}

_THROTTLED_TYPES: dict[Engine, str] = {
    Engine.THROTTLED_GCRA: RateLimiterType.GCRA.value,
    Engine.THROTTLED_TOKEN_BUCKET: RateLimiterType.TOKEN_BUCKET.value,
}


def _wait_ns(seconds: float) -> int:
    return max(0, round(seconds * SECOND_NS))


READINGS = 3  # a reading whose reset has passed is taken again, this many readings at most


class LimitsEngine:
    """``limits``' strategies on its Redis storage, asked as a service that reads the window first:
    ``get_window_stats``, then ``hit`` while some remains; a refusal's wait is that reading's
    reset time less the instant the reading refers to.

    That instant differs by strategy, as the library computes the reset: the moving window's is
    its oldest entry plus the window (stored instants: the reading's instant is the one just
    before the call, so a wait never comes out negative for an entry expiring during the round
    trip), the fixed window's and the counter's are ``time.time()`` inside the call plus what is
    left (the instant just after the call, so the round trip is not added to the wait).

    Why not ``hit`` then ``get_window_stats`` (two round trips): the oldest entry can expire in
    between, and the second reading then gives a later entry's reset or one already past (in a
    15 s run, 2 of 700 throttles had a wait of 0 or an instant that moved). Read first, the
    refusal and its reset come from one reading; with one writer (this event loop, no ``await``
    between the calls) a ``hit`` after a reading with budget left always admits.
    """

    def __init__(self, name: Engine, redis_url: str) -> None:
        self.name = name
        # limits spells a unix socket redis+unix://; its storage hands redis-py the rest.
        url = (
            "redis+unix://" + redis_url.removeprefix("unix://")
            if redis_url.startswith("unix://")
            else redis_url
        )
        self._storage = RedisStorage(url, wrap_exceptions=True)
        self._limiter = _LIMITS_STRATEGIES[name](self._storage)

    def hit(self, key: str, rule: Rule) -> EngineDecision:
        # limits counts windows in whole seconds: a duration that is not one is rounded up,
        # as a service configuring it ("5 per 2 seconds") would have to.
        item = RateLimitItemPerSecond(rule.limit, max(1, math.ceil(rule.duration_ns / SECOND_NS)))
        try:
            for _reading in range(READINGS):
                before = time.time()
                stats = self._limiter.get_window_stats(item, key)
                if stats.remaining > 0:
                    if self._limiter.hit(item, key):
                        return EngineDecision(True)
                    # Another writer took the budget in between (a second emulator on this Redis).
                    before = time.time()
                    stats = self._limiter.get_window_stats(item, key)
                now = before if self.name is Engine.LIMITS_MOVING_WINDOW else time.time()
                wait = _wait_ns(stats.reset_time - now)
                if wait > 0:
                    return EngineDecision(False, wait)
                # The reading says no budget but its own reset has already passed (seen once at
                # LLM latency with the moving window: a wait of 0s, outside the contract's (0,
                # D]): the budget is back by the library's own account, so it is asked again, as
                # a service whose one atomic ``hit`` came at this instant would have been.
        except (StorageError, redis.RedisError, OSError) as exc:
            raise EngineError(f"{type(exc).__name__}: {exc}") from None
        return EngineDecision(False, wait)

    def close(self) -> None:
        self._storage.storage.close()


class ThrottledEngine:
    """``throttled-py``'s limiters on its Redis store: ``limit`` gives the decision and its own
    ``retry_after``; the quota is ``limit`` per ``duration`` with a burst of ``limit``."""

    def __init__(self, name: Engine, redis_url: str) -> None:
        self.name = name
        self._store = RedisStore(server=redis_url)
        self._limiters: dict[Rule, Throttled] = {}

    def _limiter(self, rule: Rule) -> Throttled:
        found = self._limiters.get(rule)
        if found is None:
            quota = per_duration(
                timedelta(microseconds=rule.duration_ns / 1000), rule.limit, burst=rule.limit
            )
            found = Throttled(using=_THROTTLED_TYPES[self.name], quota=quota, store=self._store)
            self._limiters[rule] = found
        return found

    def hit(self, key: str, rule: Rule) -> EngineDecision:
        try:
            result = self._limiter(rule).limit(key)
        except (BaseThrottledError, redis.RedisError, OSError) as exc:
            raise EngineError(f"{type(exc).__name__}: {exc}") from None
        if not result.limited:
            return EngineDecision(True)
        return EngineDecision(False, _wait_ns(result.state.retry_after))

    def close(self) -> None:
        self._limiters.clear()


def open_engine(name: Engine, redis_url: str) -> RealEngine:
    """The adapter of a real engine (not ``builtin``) on the Redis at ``redis_url``."""
    if name in _LIMITS_STRATEGIES:
        return LimitsEngine(name, redis_url)
    if name in _THROTTLED_TYPES:
        return ThrottledEngine(name, redis_url)
    raise ValueError(f"{name.value} is not a real engine")
