"""Check 6: wait honesty. A promised retry instant must be kept, not beaten, and stay still.

For throttle j the promised instant ``R_j = τ_j + wait_j`` lies in ``[lo_j + w_j, hi_j + w_j]``,
widened by the granularity, the boundary slack and the rate error on ``w_j``.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

import numpy as np

from harness.conformance.buckets import THROTTLED, Bucket
from harness.conformance.context import CheckContext
from harness.conformance.findings import Finding, Outcome, Problem, failure
from harness.conformance.intervals import (
    early_admissions,
    first_retry_throttled,
    moving_retry_instants,
)
from harness.conformance.power import Power, by_case, case_power, with_power
from harness.conformance.registry import check
from harness.conformance.spec import Tolerance
from harness.conformance.wait_accuracy import wait_accuracy

__all__ = ["WaitProblem", "wait_honesty_finding"]


class WaitProblem(StrEnum):
    TOO_LONG = "wait-too-long"  # admitted before the promised instant
    TOO_SHORT = "wait-too-short"  # a retry after the wait throttled again
    MOVED = "promise-moved"  # the promised instant moved with nothing admitted


# What each kind of broken promise says: the summary's words, what the promise implied and what
# the target did; ``{wait}`` is the first throttle's reported wait, ``{then}`` the second's.
_WORDS = {
    WaitProblem.TOO_LONG: (
        "admitted before the retry instant an earlier throttle promised (wait {wait} was longer "
        "than the time really left)",
        "no admission until the reported wait ({wait}) had passed",
        "admitted before",
    ),
    WaitProblem.TOO_SHORT: (
        "a retry sent after the reported wait ({wait}) had passed was throttled again, with "
        "nothing admitted in between",
        "a retry admitted once the reported wait ({wait}) had passed",
        "throttled again",
    ),
    WaitProblem.MOVED: (
        "the promised retry instant moved between two throttles with nothing admitted in "
        "between (are throttled requests counted?)",
        "the same retry instant",
        "promised with wait {wait}, then with wait {then}: another instant",
    ),
}


def _problems(bucket: Bucket, tolerance: Tolerance) -> list[Problem]:
    """Each kind of broken promise this key shows, with its first witness: the throttle whose
    promise broke and the request that proves it (an admission, a retry, a second throttle)."""
    wait, lo, hi, code = bucket.wait_ns, bucket.lo, bucket.hi, bucket.code
    throttled = bucket.where(THROTTLED)
    throttled = throttled[~np.isnan(wait[throttled])]
    # A service that promises whole seconds (the scenario's wait_granularity) may round either
    # way by up to that much: only errors beyond it break the promise.
    declared = bucket.case.wait_granularity_ns
    slack = (tolerance.retry_slack(np.nan_to_num(wait)) + declared).astype(np.int64)
    admitted = np.flatnonzero(code == 0)
    witnesses = {
        WaitProblem.TOO_LONG: early_admissions(lo, hi, admitted, throttled, wait, slack),
        WaitProblem.TOO_SHORT: first_retry_throttled(
            lo, hi, code, throttled, wait, slack, THROTTLED
        ),
        WaitProblem.MOVED: moving_retry_instants(lo, hi, code, throttled, wait, slack, THROTTLED),
    }
    found: list[Problem] = []
    for kind, (promised, proof) in witnesses.items():
        if not len(promised):
            continue
        first, second = int(promised[0]), int(proof[0])
        values = {"wait": f"{wait[first] / 1e9:.6f}s", "then": f"{wait[second] / 1e9:.6f}s"}
        text, expected, observed = (words.format(**values) for words in _WORDS[kind])
        found.append(Problem(text, bucket.evidence(kind, [first, second], expected, observed)))
    return found


@check(6, "wait-honesty", "Wait honesty")
def wait_honesty_finding(context: CheckContext) -> Finding:
    """Whether every promise was kept, and by how much the waits were off (``wait_accuracy``)."""
    finding = _honesty(context)
    throttled = [bucket for bucket in context.buckets if np.any(bucket.code == THROTTLED)]
    if not throttled:
        return finding
    accuracy = wait_accuracy(throttled, context.tolerance)
    return replace(
        finding,
        summary=f"{finding.summary}; {accuracy.describe()}",
        measures=accuracy.measures(),
    )


def _honesty(context: CheckContext) -> Finding:
    judged = 0
    problems: list[Problem] = []
    for bucket in context.buckets:
        if not np.any(bucket.code == THROTTLED):
            continue
        judged += 1
        problems += _problems(bucket, context.tolerance)
    if problems:
        first = problems[0]
        where = f"case {first.evidence.case!r}, key {first.evidence.key!r}"
        return failure(
            f"{where}: {first.text} ({len(problems)} in all)",
            (problem.evidence for problem in problems),
        )
    if not judged:
        return Finding(Outcome.INCONCLUSIVE, "no throttle to judge")
    retries = sum(bucket.retries for bucket in context.buckets)
    polite = [bucket for bucket in context.buckets if bucket.case.behaviour == "polite"]
    if not retries:
        return Finding(
            Outcome.INCONCLUSIVE,
            f"{judged} throttled keys kept their promises, but no client retried right after "
            f"a wait ({_missing_retries(polite)})",
        )
    power = Power.of(
        case_power(case, keys, [b.retries > 0 for b in keys], RETRY_WHY, RETRY_REMEDY)
        for case, keys in by_case(polite).items()
    )
    return with_power(
        Finding(
            Outcome.PASS,
            f"{judged} throttled keys, {retries} retries after the reported wait: every promise "
            "kept",
        ),
        power,
    )


RETRY_WHY = "had no client retry after a reported wait"
RETRY_REMEDY = "give the case more polite clients per key than its limit (users_per_key)"


def _missing_retries(polite: list[Bucket]) -> str:
    """What would have given wait-honesty a retry to judge: a polite case, or (there is one)
    waits that end before the run does: a polite client retries only inside the run."""
    if not polite:
        return "add a polite case"
    names = ", ".join(sorted({repr(bucket.case.name) for bucket in polite}))
    waits = np.concatenate([bucket.wait_ns[~np.isnan(bucket.wait_ns)] for bucket in polite])
    if not len(waits):
        return f"the polite case {names} was never throttled with a wait; {RETRY_REMEDY}"
    longest = polite[0].rate.canonical_duration
    return (
        f"the polite case {names} was throttled, but each wait it was given (up to "
        f"{float(waits.max()) / 1e9:.3g} s) ended after the run did; run for several windows "
        f"({longest} each) so that its clients retry inside the run"
    )
