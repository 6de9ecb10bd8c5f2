"""The registry: every check in one list, run over one run's records."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from harness.api.answer import UNREAD_BODY, ErrorClass
from harness.conformance.answers import throttle_metadata_finding, well_formed_finding
from harness.conformance.buckets import Bucket, buckets
from harness.conformance.findings import Finding, Outcome
from harness.conformance.identify import Identification, identify
from harness.conformance.limits import (
    burst_finding,
    concurrency_finding,
    over_admission_finding,
    under_admission_finding,
    vary_isolation_finding,
)
from harness.conformance.probes import access_finding, settings_roundtrip_finding
from harness.conformance.quota import quota_finding
from harness.conformance.spec import CheckInput
from harness.conformance.verdict import CheckResult, Status, Verdict, status_of
from harness.conformance.waits import wait_honesty_finding
from harness.run.completeness import Completeness

__all__ = ["CHECK_IDS", "evaluate", "unanswered"]

Check = Callable[[CheckInput, list[Bucket], Identification], Finding]

CHECKS: list[Check] = [
    lambda data, _b, _i: well_formed_finding(data),
    lambda data, _b, _i: throttle_metadata_finding(data),
    lambda data, b, i: burst_finding(b, i, data.tolerance),
    lambda data, b, i: over_admission_finding(b, i, data.tolerance),
    lambda data, b, _i: under_admission_finding(b, data.tolerance),
    lambda data, b, _i: wait_honesty_finding(b, data.tolerance),
    lambda data, b, i: vary_isolation_finding(b, i, data.tolerance),
    lambda data, b, i: concurrency_finding(b, i, data.tolerance),
    lambda data, _b, _i: quota_finding(data),
    lambda data, _b, _i: settings_roundtrip_finding(data),
    lambda data, _b, _i: access_finding(data),
]
CHECK_IDS = (
    "well-formed", "throttle-metadata", "burst", "over-admission", "under-admission",
    "wait-honesty", "vary-isolation", "concurrency", "quota", "settings-roundtrip", "access",
)  # fmt: skip


def unanswered(records: pd.DataFrame) -> dict[str, int]:
    """Requests the target left without a whole answer, by error class (most frequent first)."""
    classes = records["error_class"]
    lost = (records["outcome"] == "transport_error") & (classes != ErrorClass.INTERRUPTED)
    lost |= classes.isin(UNREAD_BODY)
    counts = classes[lost].astype(str).value_counts()
    return {str(name): int(count) for name, count in counts.items()}


def evaluate(
    data: CheckInput,
    target: str,
    lost_processes: tuple[str, ...] = (),
    *,
    completeness: Completeness | None = None,
    run_id: str = "",
    harness_version: str = "",
) -> Verdict:
    """Every check over the run; conformant when none fails, every request was answered and
    the records judged are the whole run (``completeness``, ``lost_processes``)."""
    keyed = list(buckets(data))
    identification = identify(keyed, data.tolerance)
    findings = [check(data, keyed, identification) for check in CHECKS]
    missing = unanswered(data.records)
    whole = completeness or Completeness((), (), (), ())
    lost = sorted({*lost_processes, *whole.lost_workers})
    status = status_of(
        failed=any(f.outcome is Outcome.FAIL for f in findings),
        unanswered=bool(missing),
        incomplete=bool(lost) or not whole.whole,
    )
    return Verdict(
        status=status,
        conformant=status is Status.CONFORMANT,
        run_id=run_id,
        harness_version=harness_version,
        unanswered=missing,
        lost_processes=lost,
        missing=list(whole.missing),
        damaged_parts=[part.describe() for part in whole.damaged],
        slots_not_run=list(whole.slots_not_run),
        target=target,
        algorithm=identification.family.value,
        algorithm_reason=identification.reason,
        algorithm_parameters=identification.parameters,
        checks=[CheckResult.of(f) for f in findings],
    )
