"""What a check says about the target: an outcome, a one-line summary, and typed evidence.

Findings are data, never exceptions (ARCHITECTURE.md): a failed check is a fact about the target.
A finding does not name its check: the registry (``registry.py``) holds each check's id and title
once, and the verdict pairs them with what the check found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.conformance.power import Power

__all__ = [
    "MAX_EVIDENCE",
    "MAX_PROOFS",
    "Evidence",
    "Finding",
    "Outcome",
    "Problem",
    "cite",
    "contrast",
    "failure",
]

MAX_EVIDENCE = 20  # request ids one finding, or one of its proofs, cites at most
MAX_PROOFS = 50  # violations one finding carries as data at most (its summary counts them all)


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One violation as data: which rule (``kind``, each check's own names), where (``case``,
    ``key``: empty when the violation belongs to no case or key), the requests that prove it,
    what the configuration implies and what the target did (both as the records show them)."""

    kind: str
    case: str
    key: str
    request_ids: tuple[str, ...]
    expected: str
    observed: str

    def contrast(self) -> str:
        """'expected: X; observed: Y', the line the printed table and the report show."""
        return contrast(self.expected, self.observed)


@dataclass(frozen=True, slots=True)
class Problem:
    """A violation as a check found it: the words its summary uses, and the evidence as data."""

    text: str
    evidence: Evidence


def contrast(expected: str, observed: str) -> str:
    """The one wording of expected against observed (the report reads verdict.json as data)."""
    return f"expected: {expected}; observed: {observed}"


def cite(request_ids: Iterable[object]) -> tuple[str, ...]:
    """At most ``MAX_EVIDENCE`` request ids, as text: what one proof cites."""
    return tuple(str(request_id) for request_id in islice(request_ids, MAX_EVIDENCE))


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result; ``proofs``: the violations found, the first the one the summary names;
    ``power``: how many keys of the cases meant for the check could have shown a violation
    (``power.py``; None for the checks every run has the power for); ``measures``: figures a
    check measured besides its verdict (wait-honesty: the waits' error and resolution)."""

    outcome: Outcome
    summary: str
    proofs: tuple[Evidence, ...] = ()
    power: Power | None = None
    measures: dict[str, object] | None = None

    @property
    def evidence(self) -> tuple[str, ...]:
        """The requests the proofs cite, the first proof's first, each once (``MAX_EVIDENCE``)."""
        cited = dict.fromkeys(rid for proof in self.proofs for rid in proof.request_ids)
        return tuple(islice(cited, MAX_EVIDENCE))


def failure(summary: str, proofs: Iterable[Evidence]) -> Finding:
    """A failed finding, with at most ``MAX_PROOFS`` of its violations kept as data."""
    return Finding(Outcome.FAIL, summary, tuple(islice(proofs, MAX_PROOFS)))
