"""Which cases of two runs can be compared: the same name and the same traffic.

A case is compared only with its namesake configured alike (limits, quota, behaviour,
population): the latency of 8 clients says nothing about 4. Its length may differ (``--duration``):
throughput is per second, and percentiles do not depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.compare.leaves import leaves
from harness.run.plan import Case

__all__ = ["CaseMatch", "match_cases"]

# What a case may change and still be the same case.
_IGNORED = {"duration"}


@dataclass(frozen=True)
class CaseMatch:
    matching: tuple[str, ...]
    only_base: tuple[str, ...]
    only_candidate: tuple[str, ...]
    differing: tuple[tuple[str, str], ...]  # (case, the first setting that differs)

    @property
    def identical(self) -> bool:
        return not (self.only_base or self.only_candidate or self.differing)

    def describe(self) -> str:
        """'matching: a, b; only in BASE: c; ...' for the error that stops a comparison."""
        parts = [f"matching: {', '.join(self.matching) or 'none'}"]
        if self.only_base:
            parts.append(f"only in BASE: {', '.join(self.only_base)}")
        if self.only_candidate:
            parts.append(f"only in CANDIDATE: {', '.join(self.only_candidate)}")
        if self.differing:
            parts.append(
                "configured differently: " + ", ".join(f"{n} ({w})" for n, w in self.differing)
            )
        return "; ".join(parts)


def _difference(base: Case, candidate: Case) -> str | None:
    left = leaves(base.model_dump(mode="json", exclude=_IGNORED))
    right = leaves(candidate.model_dump(mode="json", exclude=_IGNORED))
    for path in sorted(left.keys() | right.keys()):
        if left.get(path) != right.get(path):
            return f"{path} {left.get(path)!r} vs {right.get(path)!r}"
    return None


def match_cases(base: list[Case], candidate: list[Case]) -> CaseMatch:
    """The cases of two scenarios, sorted into matching, one-sided and differing (run order)."""
    by_name = {case.name: case for case in candidate}
    base_names = {case.name for case in base}
    matching, differing = [], []
    for case in base:
        other = by_name.get(case.name)
        if other is None:
            continue
        difference = _difference(case, other)
        if difference is None:
            matching.append(case.name)
        else:
            differing.append((case.name, difference))
    return CaseMatch(
        matching=tuple(matching),
        only_base=tuple(case.name for case in base if case.name not in by_name),
        only_candidate=tuple(case.name for case in candidate if case.name not in base_names),
        differing=tuple(differing),
    )
