"""A new chatbot's training: ``CHATBOT_STATUS_TRAINING`` for a while, then ready (or failed).

The real service trains a chatbot on its knowledge base before it can chat. The status is derived
from the emulator's clock and the chatbot's creation instant, never set by a timer, so a test on a
``ManualClock`` moves a chatbot out of training by moving the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.api.chatbot import ChatbotStatus

__all__ = ["NO_TRAINING", "Training"]


@dataclass(frozen=True, slots=True)
class Training:
    """How long a new chatbot trains (``duration_ns``), and whether it then fails for ever."""

    duration_ns: int = 0
    fails: bool = False

    def __post_init__(self) -> None:
        if self.duration_ns < 0:
            raise ValueError("a training cannot last a negative time")

    def ends_ns(self, created_ns: int) -> int:
        """The instant the status leaves ``TRAINING``."""
        return created_ns + self.duration_ns

    def status_at(self, created_ns: int, now_ns: int) -> ChatbotStatus:
        if now_ns < self.ends_ns(created_ns):
            return ChatbotStatus.TRAINING
        return ChatbotStatus.FAILED if self.fails else ChatbotStatus.READY


NO_TRAINING = Training()
