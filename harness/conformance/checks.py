"""Every check over one run's records: the verdict, in the registry's order.

Importing the modules below registers their checks (``@check``); from here on the registry is
complete, so what iterates it (``CHECKS``, ``CHECK_IDS``, the verdict) sees every check.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from harness.api.answer import UNREAD_BODY, ErrorClass
from harness.conformance import answers, bursts, limits, probes, quota, waits
from harness.conformance.causes import assumed_family, proof_causes, split_key
from harness.conformance.context import CheckContext
from harness.conformance.findings import Finding, Outcome
from harness.conformance.ratelimit_fields import RATELIMIT_FIELDS
from harness.conformance.registry import REGISTRY, Check
from harness.conformance.roots import attribute, cause_words
from harness.conformance.spec import CheckInput
from harness.conformance.verdict import CheckResult, Status, Verdict, status_of
from harness.run.completeness import Completeness
from harness.run.plan import PlannedAway
from harness.run.summary import RefusedChats, late_sends

__all__ = [
    "CHECKS",
    "CHECK_IDS",
    "PROFILE_CHECKS",
    "attributed",
    "evaluate",
    "require_checks",
    "unanswered",
]

# The modules whose import registered the checks (named, so the import reads as used).
CHECK_MODULES = (answers, bursts, limits, waits, quota, probes)
CHECKS: tuple[Check, ...] = tuple(REGISTRY)
CHECK_IDS = REGISTRY.ids
# Checks of a profile's own (``harness.profiles``), judged after the registry's on its runs only:
# a chatbot run's verdict lists exactly the registry's.
PROFILE_CHECKS: dict[str, tuple[Check, ...]] = {"http": (RATELIMIT_FIELDS,)}
# Checks judged at once: each is a pure function of the shared, read-only context, and most of
# their time is numpy and Arrow work that releases the GIL, so threads put both cores to use
# (10 M records: judged in 5.0 s one at a time, 3.5-3.8 s two at a time; bench checks_scale).
JUDGES = min(2, os.cpu_count() or 1)


def require_checks(caught_by: Mapping[str, str]) -> None:
    """Every name's check id (a fault → the check meant to catch it) is a registered check;
    raises ``UnknownCheckError`` naming the first that is not."""
    REGISTRY.require(caught_by)


def unanswered(records: pd.DataFrame) -> dict[str, int]:
    """Requests the target left without a whole answer, by error class (most frequent first)."""
    classes = records["error_class"]
    lost = (records["outcome"] == "transport_error") & (classes != ErrorClass.INTERRUPTED)
    lost |= classes.isin(UNREAD_BODY)
    counts = classes[lost].astype(str).value_counts()
    return {str(name): int(count) for name, count in counts.items()}


def _judge(entry: Check, context: CheckContext) -> Finding:
    why = context.data.not_applicable.get(entry.id)
    if why is not None:  # a profile's run: never a pass for what it cannot show
        return Finding(Outcome.SKIPPED, f"not applicable: {why}")
    return entry.judge(context)


def attributed(findings: Mapping[str, Finding], context: CheckContext) -> list[CheckResult]:
    """Each check's result, a failed one marked as a root cause or explained by the roots
    (``roots.py``, from what ``causes.py`` reads of each proof) with the family it assumed."""
    places = attribute(proof_causes(findings, context), CHECK_IDS)
    family = context.identification.family.value
    results = []
    for entry in CHECKS:
        finding = findings[entry.id]
        result = CheckResult.of(entry.id, entry.title, finding)
        place = places.get(entry.id)
        if place is not None:
            why = "; ".join(
                f"explained by {root}: {cause_words(root, split_key(findings[root].proofs))}"
                for root in place.explained_by
            )
            result = result.model_copy(
                update={
                    "root": place.root,
                    "explained_by": list(place.explained_by),
                    "explanation": why if not place.root else "root cause",
                    "assumed_family": assumed_family(finding.proofs, family),
                }
            )
        results.append(result)
    return results


def with_planned_away(
    results: list[CheckResult], planned_away: Sequence[PlannedAway]
) -> list[CheckResult]:
    """The checks' results, each followed by the parts of it planned away for want of source
    addresses: skipped, never passed, each under an id of its own (``check/case``) and with
    its reason ("needs 2 source addresses, this host has 1": the outcome says skipped)."""
    merged = []
    for result in results:
        merged.append(result)
        for away in planned_away:
            if away.check != result.id:
                continue
            finding = Finding(Outcome.SKIPPED, away.reason)
            title = f"{result.title}: {away.what}"
            merged.append(CheckResult.of(f"{away.check}/{away.case}", title, finding))
    return merged


def evaluate(
    data: CheckInput,
    target: str,
    lost_processes: tuple[str, ...] = (),
    *,
    completeness: Completeness | None = None,
    run_id: str = "",
    harness_version: str = "",
    dropped_sends: Mapping[str, int] | None = None,
    refused: Sequence[RefusedChats] = (),
    planned_away: Sequence[PlannedAway] = (),
) -> Verdict:
    """Every check over the run; conformant when none fails, every request was answered and
    the records judged are the whole run (``completeness``, ``lost_processes``); the parts of
    checks ``planned_away`` are skipped (their results follow their check's)."""
    context = CheckContext.of(data)
    with ThreadPoolExecutor(JUDGES, thread_name_prefix="judge") as judges:
        judged = list(judges.map(lambda entry: _judge(entry, context), CHECKS))
    results = attributed({e.id: f for e, f in zip(CHECKS, judged, strict=True)}, context)
    results = with_planned_away(results, planned_away)
    # a profile's own checks follow the registry's (no chatbot verdict lists them)
    results += [
        CheckResult.of(entry.id, entry.title, _judge(entry, context))
        for entry in PROFILE_CHECKS.get(data.profile, ())
    ]
    missing = unanswered(data.records)
    whole = completeness or Completeness((), (), (), ())
    lost = sorted({*lost_processes, *whole.lost_workers})
    status = status_of(
        failed=any(result.outcome is Outcome.FAIL for result in results),
        unanswered=bool(missing),
        incomplete=bool(lost) or not whole.whole,
        undecided=any(result.outcome is Outcome.INCONCLUSIVE for result in results),
    )
    identification = context.identification
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
        late_sends=late_sends(data.chats),
        dropped_sends=dict(dropped_sends or {}),
        refused_chats=list(refused),
        target=target,
        algorithm=identification.family.value,
        algorithm_reason=identification.reason,
        algorithm_parameters=identification.parameters,
        checks=results,
        root_causes=[result.id for result in results if result.root],
    )
