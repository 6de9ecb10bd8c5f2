"""How an emulator is set up: organisations, limiter, zone, delays, training, capacity, fault."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from harness.api.timestamps import DEFAULT_ORG_TIMEZONE
from harness.emulator.engines import Engine
from harness.emulator.limiter import Algorithm
from harness.emulator.policy import CORRECT, Policy
from harness.emulator.training import NO_TRAINING, Training

__all__ = ["ENGINE_UNSUPPORTED", "EmulatorConfig", "LatencyRange"]

# The policy knobs that pull a limiter's check and count apart (or count a refusal): a real
# library does both in one atomic call, so they exist for the builtin limiter only.
ENGINE_UNSUPPORTED = frozenset({"count_throttled", "race_check_record"})


@dataclass(frozen=True, slots=True)
class LatencyRange:
    """A simulated delay (see ``delays.py``), drawn uniformly in ``[low_ns, high_ns]``."""

    low_ns: int
    high_ns: int

    def __post_init__(self) -> None:
        if not 0 <= self.low_ns <= self.high_ns:
            raise ValueError("latency range must satisfy 0 <= low <= high")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything an emulator needs; each API key is one organisation."""

    api_keys: tuple[SecretStr, ...]
    algorithm: Algorithm = Algorithm.SLIDING_LOG
    # A real third-party limiter on the Redis at ``redis_url`` instead of ``algorithm``
    # (``engines.py``); ``builtin``: the emulator's own. The URL must be set (a Redis up) by
    # the time the service is made.
    limiter: Engine = Engine.BUILTIN
    redis_url: str | None = None
    org_timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ORG_TIMEZONE))
    # Delays of a chat answer (``delays.py``): arrival to decision; decision to any answer; and
    # the language model's extra time for an admitted answer. None: no delay.
    decision_delay: LatencyRange | None = None
    latency: LatencyRange | None = None
    model_latency: LatencyRange | None = None
    training: Training = NO_TRAINING
    trust_forwarded_for: bool = False
    policy: Policy = CORRECT
    seed: int | None = None
    # The simulated model's capacity (see ``gate.py``): answers generated at once, and how many
    # may wait for a slot before the next is refused with 503 (None: no limit).
    max_concurrency: int | None = None
    max_queue: int | None = None
    # Bounds, so a long soak cannot exhaust memory (each has a test with a small value).
    max_chatbots_per_org: int = 10_000
    max_tokens_per_chatbot: int = 1_000  # minting more revokes the oldest
    max_rate_keys: int = 1_000_000
    max_body_bytes: int = 256 * 1024

    @property
    def capacity_rps(self) -> float | None:
        """Admitted answers per second the model's slots allow (None: no limit).

        An admitted answer holds its slot for its latency and the model's, so ``max_concurrency``
        slots serve at most ``max_concurrency / (mean latency + mean model latency)``.
        """
        spans = [span for span in (self.latency, self.model_latency) if span is not None]
        mean_s = sum((span.low_ns + span.high_ns) / 2e9 for span in spans)
        if self.max_concurrency is None or mean_s == 0:
            return None
        return self.max_concurrency / mean_s

    def __post_init__(self) -> None:
        if not self.api_keys:
            raise ValueError("an emulator needs at least one API key (one per organisation)")
        if any(not key.get_secret_value() for key in self.api_keys):
            raise ValueError("an API key cannot be empty")
        if self.limiter is not Engine.BUILTIN:
            unsupported = sorted(ENGINE_UNSUPPORTED & self.policy.changed())
            if unsupported:
                raise ValueError(
                    f"{', '.join(unsupported)}: a fault the {self.limiter.value} engine cannot "
                    "have (the library checks and counts in one call); use --limiter builtin"
                )
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if self.max_queue is not None and (self.max_queue < 0 or self.max_concurrency is None):
            raise ValueError("max_queue must be at least 0, and needs max_concurrency")
