"""How an emulator is set up: organisations, limiter family, zone, latency, capacity, fault."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from harness.emulator.limiter import Algorithm
from harness.emulator.policy import CORRECT, Policy

__all__ = ["EmulatorConfig", "LatencyRange"]


@dataclass(frozen=True, slots=True)
class LatencyRange:
    """Answer time of the simulated language model, uniform in ``[low_ns, high_ns]``."""

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
    org_timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Taipei"))
    latency: LatencyRange | None = None
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

    def __post_init__(self) -> None:
        if not self.api_keys:
            raise ValueError("an emulator needs at least one API key (one per organisation)")
        if any(not key.get_secret_value() for key in self.api_keys):
            raise ValueError("an API key cannot be empty")
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if self.max_queue is not None and (self.max_queue < 0 or self.max_concurrency is None):
            raise ValueError("max_queue must be at least 0, and needs max_concurrency")
