"""What the emulator's management calls and its chat path share, built once per emulator.

Both read and write one store of chatbots and tokens, one limiter table, one quota book and one
set of counters: deleting a chatbot forgets its rate keys and quota book, a chat counts against
the chatbot that management created. ``Management`` and ``ChatPath`` are the two halves of the
service over this state; ``EmulatorService`` is both.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from harness.api.status import GrpcCode
from harness.emulator import answers
from harness.emulator.answers import Answer, Violation
from harness.emulator.clock import Clock, SystemClock
from harness.emulator.config import EmulatorConfig
from harness.emulator.delays import Delays, Sleep
from harness.emulator.engines import Engine, RealEngine, open_engine
from harness.emulator.gate import ConcurrencyGate
from harness.emulator.limiter import LimiterTable
from harness.emulator.quota import QuotaBook
from harness.emulator.stats import Stats
from harness.emulator.store import Store

__all__ = ["EmulatorState"]

UTC_ZONE = ZoneInfo("UTC")


class EmulatorState:
    """The API's state on ``clock``; ``sleep`` serves the delays (a test may move the clock)."""

    def __init__(self, config: EmulatorConfig, clock: Clock, sleep: Sleep | None = None) -> None:
        self.config = config
        self.clock = clock
        self.policy = config.policy
        self.store = Store(config.api_keys, config.max_tokens_per_chatbot)
        self.limiter = LimiterTable(config.algorithm, config.max_rate_keys)
        self.engine: RealEngine | None = None
        # The first failure of the engine's store; ``on_engine_failure`` lets the server stop.
        self.engine_failure: str | None = None
        self.on_engine_failure: Callable[[str], None] | None = None
        if config.limiter is not Engine.BUILTIN:
            if config.redis_url is None:
                raise ValueError(f"the {config.limiter.value} engine needs a Redis URL")
            if not isinstance(clock, SystemClock):
                # The library reads the wall clock: a moved clock would disagree with it.
                raise ValueError(f"the {config.limiter.value} engine runs in real time only")
            self.engine = open_engine(config.limiter, config.redis_url)
        self.quota = QuotaBook()
        self.stats = Stats()
        # An injected sleep moves ``clock`` (tests); asyncio's runs on the monotonic clock.
        self.delays = Delays(config, sleep, clock.now_ns if sleep is not None else None)
        self._quota_zone = UTC_ZONE if self.policy.quota_day_in_utc else config.org_timezone
        self.gate = (
            ConcurrencyGate(config.max_concurrency, config.max_queue)
            if config.max_concurrency is not None
            else None
        )

    def unauthenticated(self) -> Answer:
        """The 401 of a credential that is missing or unknown, for either half."""
        self.stats.rejected += 1
        return answers.error_answer(
            GrpcCode.UNAUTHENTICATED, "the authorization header is missing or not recognised"
        )

    def _rejected(self, violations: list[Violation]) -> Answer:
        """The 400 of a body that failed validation, counted as rejected."""
        self.stats.rejected += 1
        return answers.invalid_argument(violations)
