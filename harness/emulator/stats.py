"""What the emulator counted and saw, for ``GET /_emulator/stats``: operators' and tests' view.

Counters of every decision, and bounded memories of whom it saw (peer addresses) and what chats
asked (questions, knowledge-base ids), so a test can show that traffic really reached the target
without a long soak growing them for ever.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "MAX_ASKED_CHARS",
    "MAX_ASKED_REMEMBERED",
    "MAX_PEERS_REMEMBERED",
    "Remembered",
    "Stats",
]

MAX_PEERS_REMEMBERED = 65_536
MAX_ASKED_REMEMBERED = 256  # distinct questions, and distinct kb ids, each
MAX_ASKED_CHARS = 16_384  # a longer value is not kept (the longest valid question)


@dataclass(slots=True)
class Remembered:
    """At most ``bound`` distinct values; ``complete`` turns False once one had to be left out.

    So "X is not among the values" proves X never came only while ``complete`` holds.
    """

    bound: int
    max_chars: int | None = None
    values: set[str] = field(default_factory=set)
    complete: bool = True

    def add(self, value: str) -> None:
        if value in self.values:
            return
        too_long = self.max_chars is not None and len(value) > self.max_chars
        if too_long or len(self.values) >= self.bound:
            self.complete = False
        else:
            self.values.add(value)


def _asked() -> Remembered:
    return Remembered(MAX_ASKED_REMEMBERED, MAX_ASKED_CHARS)


@dataclass(slots=True)
class Stats:
    admitted: int = 0
    throttled: int = 0
    out_of_quota: int = 0
    rejected: int = 0  # 4xx other than 429 and not-ready, and 429 for a full table
    overloaded: int = 0  # 503: every model slot busy and the queue full
    not_ready: int = 0  # 400 (code 9): the chatbot is training, or its training failed
    peers: Remembered = field(default_factory=lambda: Remembered(MAX_PEERS_REMEMBERED))
    questions: Remembered = field(default_factory=_asked)  # of well-formed chat bodies
    kb_ids: Remembered = field(default_factory=_asked)

    def counters(self) -> dict[str, object]:
        """The snapshot's part that is this object's: counts, and the values remembered."""
        memories = {"peers": self.peers, "questions": self.questions, "kb_ids": self.kb_ids}
        return {
            "admitted": self.admitted,
            "throttled": self.throttled,
            "out_of_quota": self.out_of_quota,
            "rejected": self.rejected,
            "overloaded": self.overloaded,
            "not_ready": self.not_ready,
            **{name: sorted(memory.values) for name, memory in memories.items()},
            # False: the bound was reached, so a value missing above may still have come.
            "remembered_all": {name: memory.complete for name, memory in memories.items()},
        }
