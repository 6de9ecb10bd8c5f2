"""Check 6: wait honesty. A promised retry instant must be kept, not beaten, and stay still.

For throttle j the promised instant ``R_j = τ_j + wait_j`` lies in ``[lo_j + w_j, hi_j + w_j]``,
widened by the granularity, the boundary slack and the rate error on ``w_j``.
"""

from __future__ import annotations

import numpy as np

from harness.conformance.buckets import THROTTLED, Bucket
from harness.conformance.findings import MAX_EVIDENCE, Finding, Outcome
from harness.conformance.intervals import (
    early_admissions,
    first_retry_throttled,
    moving_retry_instants,
)
from harness.conformance.spec import Tolerance

__all__ = ["wait_honesty_finding"]


def _problems(bucket: Bucket, tolerance: Tolerance) -> list[tuple[str, list[str]]]:
    wait = bucket.wait_ns
    throttled = bucket.where(THROTTLED)
    throttled = throttled[~np.isnan(wait[throttled])]
    slack = tolerance.retry_slack(np.nan_to_num(wait)).astype(np.int64)
    found: list[tuple[str, list[str]]] = []
    admitted = np.flatnonzero(bucket.code == 0)
    j, a = early_admissions(bucket.lo, bucket.hi, admitted, throttled, wait, slack)
    if len(j):
        found.append((
            f"admitted before the retry instant an earlier throttle promised (wait "
            f"{wait[j[0]] / 1e9:.6f}s was longer than the time really left)",
            bucket.ids([j[0], a[0]]),
        ))  # fmt: skip
    j, p = first_retry_throttled(
        bucket.lo, bucket.hi, bucket.code, throttled, wait, slack, THROTTLED
    )
    if len(j):
        found.append((
            f"a retry sent after the reported wait ({wait[j[0]] / 1e9:.6f}s) had passed was "
            "throttled again, with nothing admitted in between",
            bucket.ids([j[0], p[0]]),
        ))  # fmt: skip
    j1, j2 = moving_retry_instants(
        bucket.lo, bucket.hi, bucket.code, throttled, wait, slack, THROTTLED
    )
    if len(j1):
        found.append((
            "the promised retry instant moved between two throttles with nothing admitted in "
            "between (are throttled requests counted?)",
            bucket.ids([j1[0], j2[0]]),
        ))  # fmt: skip
    return found


def wait_honesty_finding(buckets: list[Bucket], tolerance: Tolerance) -> Finding:
    title = "Wait honesty"
    judged = 0
    failures: list[tuple[Bucket, str, list[str]]] = []
    for bucket in buckets:
        if not np.any(bucket.code == THROTTLED):
            continue
        judged += 1
        failures += [(bucket, summary, ids) for summary, ids in _problems(bucket, tolerance)]
    if failures:
        bucket, summary, ids = failures[0]
        return Finding(
            "wait-honesty", title, Outcome.FAIL,
            f"case {bucket.case.name!r}, key {bucket.key!r}: {summary} ({len(failures)} in all)",
            tuple(ids[:MAX_EVIDENCE]),
            {"problems": sorted({summary.split(" (")[0] for _, summary, _ in failures})},
        )  # fmt: skip
    if not judged:
        return Finding("wait-honesty", title, Outcome.INCONCLUSIVE, "no throttle to judge")
    retries = sum(bucket.retries for bucket in buckets)
    if not retries:
        return Finding(
            "wait-honesty", title, Outcome.INCONCLUSIVE,
            f"{judged} throttled keys kept their promises, but no client retried right after "
            "a wait (add a polite case)",
        )  # fmt: skip
    return Finding(
        "wait-honesty", title, Outcome.PASS,
        f"{judged} throttled keys, {retries} retries after the reported wait: every promise kept",
    )  # fmt: skip
