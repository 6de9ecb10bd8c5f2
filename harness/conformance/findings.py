"""What a check says about the target: an outcome, a one-line summary, and the evidence.

Findings are data, never exceptions (ARCHITECTURE.md): a failed check is a fact about the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["MAX_EVIDENCE", "Finding", "Outcome"]

MAX_EVIDENCE = 20


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result; ``evidence``: request ids that prove it (``MAX_EVIDENCE`` at most)."""

    id: str
    title: str
    outcome: Outcome
    summary: str
    evidence: tuple[str, ...] = ()
    details: dict[str, object] = field(default_factory=dict)
