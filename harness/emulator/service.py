"""The emulated API, free of HTTP: credentials, bodies and the peer in, an ``Answer`` out.

One object for the HTTP layer and the tests to call, built from two halves over one state
(``state.py``): the management calls (``management.py``, organisation API key) and the chat path
(``chat.py``, chatbot token, where the limits are decided).
"""

from __future__ import annotations

from harness.api.timestamps import format_rfc3339
from harness.emulator.chat import ChatPath
from harness.emulator.clock import instant_of
from harness.emulator.management import Management

__all__ = ["EmulatorService"]


class EmulatorService(Management, ChatPath):
    """The API's behaviour on ``clock``; ``sleep`` serves the delays (a test may move the clock)."""

    def snapshot(self) -> dict[str, object]:
        """Counters for operators and tests: what the emulator decided and whom it saw."""
        return {
            **self.stats.counters(),
            "live_rate_keys": len(self.limiter),
            "live_tokens": self.store.live_tokens,
            "quota_books": len(self.quota),
            "now": format_rfc3339(instant_of(self.clock.now_ns())),
        }
