"""Root causes: which failed checks name a bug of their own, and which only echo another's.

One bug often fails several checks (a shared budget throttles another key's fresh burst, refuses
requests a key's own budget allowed, and breaks the promised waits). Each failing check's proof is
handed here with the other causes that could explain it (``causes.py`` reads them from the
records); a cause is the check meant to prove it. The decision is pure data:

- a cause whose check did not fail is refuted, and explains nothing;
- a failed check is a **root** when one of its proofs stands on its own: no cause still standing
  but its own explains it;
- every other failed check is **explained by** the roots, when each of its proofs is explained
  by some root; a failed check some proof of which no proven root explains is a root too (two
  causes both proven are both roots, and so are two that only explain each other: none is ever
  hidden behind a guess).

An explained check still counts as failed: it is shown and counted, only not as a separate bug.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["CAUSE_WORDS", "Attribution", "attribute", "cause_words"]

# What a root's cause means, in the words "explained by <check>: <words>" uses.
CAUSE_WORDS = {
    "over-admission": "the limiter admits more than its limit",
    "burst": "the limiter admits fewer than its limit",
    "under-admission": "refusals came with budget left (a window longer than the one configured)",
    "wait-honesty": "the reported waits are wrong, or refusals are counted as requests",
    "vary-isolation": "the keys shared one budget",
    "concurrency": "concurrent requests were admitted past the limit (a check-then-record race)",
    "throttle-metadata": "the throttle's metadata is wrong",
    "well-formed": "the answers are malformed",
}
# A cause whose words depend on how it was proven: vary-isolation's rotating keys over one budget.
SPLIT_KEY_WORDS = "one key was counted as several (its budget split)"


def cause_words(check_id: str, split_key: bool = False) -> str:
    """The words of a root's cause (``split_key``: vary-isolation proven by a rotating key)."""
    if check_id == "vary-isolation" and split_key:
        return SPLIT_KEY_WORDS
    return CAUSE_WORDS.get(check_id, f"{check_id} failed")


@dataclass(frozen=True, slots=True)
class Attribution:
    """One failed check's place: a root, or explained by the roots named (registry order)."""

    root: bool
    explained_by: tuple[str, ...] = ()


def attribute(
    proofs: Mapping[str, Sequence[Collection[str]]], order: Sequence[str] = ()
) -> dict[str, Attribution]:
    """Each failed check (the keys of ``proofs``) as a root or explained by roots.

    ``proofs[check]``: for each of its proofs, the other checks whose cause could explain it
    (its own cause is implied). ``order``: check ids in the order the verdict shows them (the
    order ``explained_by`` names roots in; unknown ids last, by name).
    """
    failed = set(proofs)
    standing = {
        check: [frozenset(others) & failed - {check} for others in each]
        for check, each in proofs.items()
    }
    roots = {check for check, each in standing.items() if not each or any(not o for o in each)}
    unexplained = {
        check
        for check, each in standing.items()
        if check not in roots and not all(others & roots for others in each)
    }
    roots |= unexplained
    rank = {check: n for n, check in enumerate(order)}

    def ranked(checks: Collection[str]) -> tuple[str, ...]:
        return tuple(sorted(checks, key=lambda check: (rank.get(check, len(rank)), check)))

    result: dict[str, Attribution] = {}
    for check, each in standing.items():
        if check in roots:
            result[check] = Attribution(root=True)
        else:
            used = {cause for others in each for cause in others & roots}
            result[check] = Attribution(root=False, explained_by=ranked(used))
    return result
