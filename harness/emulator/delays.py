"""The time a chat answer takes: before the decision, after a refusal, and for an admitted answer.

A chat request waits ``decision_delay`` between its arrival and the limiter's decision, so the
decision lies strictly inside the client's [send, receive] interval, as with a real service
(authentication, routing and a store round trip come first). After the decision every answer
takes ``latency`` (the service's own time and the network's); an admitted answer also takes
``model_latency`` (the language model), both spent holding a model slot when the service has
``max_concurrency``. Each range is drawn uniformly per request from one seeded generator.

``sleep`` is injectable so a test can make the delays move a ``ManualClock`` and assert exact
instants; a zero delay is not slept at all, so an emulator without delays never yields there.
An answer in a model slot ends at a planned instant (``until``) on the clock its sleep runs on:
the monotonic clock of ``asyncio.sleep``, or the clock an injected sleep moves (``now_ns``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from harness.emulator.config import EmulatorConfig, LatencyRange

__all__ = ["Delays", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]


class Delays:
    def __init__(
        self,
        config: EmulatorConfig,
        sleep: Sleep | None = None,
        now_ns: Callable[[], int] | None = None,
    ) -> None:
        self._decision = config.decision_delay
        self._latency = config.latency
        self._model = config.model_latency
        self._random = random.Random(config.seed)
        self._sleep = sleep or asyncio.sleep
        self.now_ns = now_ns or time.monotonic_ns

    def _draw_ns(self, span: LatencyRange | None) -> int:
        if span is None or span.high_ns == 0:
            return 0
        return self._random.randint(span.low_ns, span.high_ns)

    async def pause(self, ns: int) -> None:
        """Sleep ``ns`` nanoseconds (nothing, not even a yield, for 0)."""
        if ns > 0:
            await self._sleep(ns / 1e9)

    async def before_decision(self) -> None:
        await self.pause(self._draw_ns(self._decision))

    async def refusal(self) -> None:
        """What a refused (or malformed, or unauthenticated) chat takes after its decision."""
        await self.pause(self._draw_ns(self._latency))

    def admitted_ns(self) -> int:
        """What an admitted chat takes after its decision: latency plus the model's time."""
        return self._draw_ns(self._latency) + self._draw_ns(self._model)

    async def admitted(self) -> None:
        await self.pause(self.admitted_ns())

    async def until(self, end_ns: int) -> None:
        """Sleep until ``end_ns`` on ``now_ns``'s clock (nothing when it has passed)."""
        await self.pause(end_ns - self.now_ns())
