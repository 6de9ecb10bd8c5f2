"""A finding over keys, shared by the checks that judge each key (or burst) on its own.

The summary names the first key in violation and counts the rest; keys whose requests the target
decided none of are no evidence either way, and the finding says how many there were.
"""

from __future__ import annotations

from harness.conformance.buckets import Bucket
from harness.conformance.findings import Finding, Outcome, Problem, failure

__all__ = ["decided", "key_finding"]


def decided(buckets: list[Bucket]) -> tuple[list[Bucket], int]:
    """The buckets with evidence (the target admitted or refused one of their requests), and
    how many had none."""
    judged = [bucket for bucket in buckets if bucket.decided()]
    return judged, len(buckets) - len(judged)


def key_finding(problems: list[Problem], judged: int, what: str, silent: int = 0) -> Finding:
    """``judged``: how many ``what`` (keys, bursts) were judged; ``silent``: how many were left
    unjudged because the target decided none of their requests."""
    if problems:
        first = problems[0].evidence
        more = f" ({len(problems)} keys in all)" if len(problems) > 1 else ""
        summary = f"case {first.case!r}, key {first.key!r}: {problems[0].text}{more}"
        return failure(summary, (problem.evidence for problem in problems))
    unjudged = f"{silent} {what} got no answer that admitted or refused a request"
    if not judged and silent:
        return Finding(Outcome.INCONCLUSIVE, unjudged)
    if not judged:
        return Finding(Outcome.SKIPPED, f"no {what} in this run")
    note = f"; {unjudged}" if silent else ""
    return Finding(Outcome.PASS, f"{judged} {what} judged, none in violation{note}")
