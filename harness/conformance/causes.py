"""What else could explain each failed check's proofs: the input of the root-cause decision.

A proof names the cause its own check is meant for; here each proof is also given the other
causes (checks) that its requests allow, read from the same buckets the checks read. Each rule is
generous (a cause that *could* explain the proof is listed), so a proof listed with none stands
on its own (``roots.py``):

- a refusal with budget left (under-admission, or vary-isolation's same proof on a shared case):
  the keys sharing one budget, when this key's and its case's other keys' requests that may lie in
  the window before it reach the limit; refusals counted as requests (wait-honesty), when the
  key's own requests and refusals there reach it; a limiter admitting fewer than its limit (burst),
  when the key's own requests there reach the limit less the shortfall an isolated burst showed;
  for vary-isolation, a window longer than configured (under-admission), when the key had
  requests in a window before it (not a fresh key's first window);
- a burst short of its limit: the shared budget, when other keys' requests came in the window
  before its refusal; the shortfall of an isolated burst, for a concurrent one;
- too many admitted in a burst, or by a rotating key: a limiter admitting more than its limit,
  when over-admission proved it on requests that were never in flight together; a race, when the
  concurrent burst admitted too many and the crowd's requests were in flight together;
- a broken wait promise: the shared budget, when other keys' requests lie between the promise
  and its proof;
- a wait outside (0, duration]: a wrong wait (wait-honesty) or a longer window (under-admission);
- more admitted in a day than the quota: the race, when concurrency proved one (a limiter that
  checks and records in two steps admits past every count it keeps that way).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from harness.conformance.answers import MetadataProblem
from harness.conformance.buckets import ADMITTED, THROTTLED, Bucket
from harness.conformance.bursts import BurstProblem
from harness.conformance.context import CheckContext
from harness.conformance.findings import Evidence, Finding, Outcome
from harness.conformance.limits import AdmissionProblem
from harness.conformance.quota import QuotaProblem
from harness.conformance.waits import WaitProblem

__all__ = ["CROSS_KEY_SLACK_NS", "assumed_family", "proof_causes", "split_key"]

# Two keys' instants are compared through each bucket's own map to Unix time (a process's median
# wall-minus-monotonic, or the workers' corrected wall clocks): 10 ms covers that map's error on
# one host. Widening only makes a cause more likely to be listed (the generous direction).
CROSS_KEY_SLACK_NS = 10_000_000

_REFUSED_WITH_BUDGET = {
    AdmissionProblem.THROTTLED_FRESH_KEY,
    AdmissionProblem.THROTTLED_WITH_BUDGET,
}
_CROWDS = {
    AdmissionProblem.BEYOND_ANY_LIMITER,
    AdmissionProblem.BEYOND_ONE_WINDOW,
    AdmissionProblem.BEYOND_TOKEN_BUCKET,
    AdmissionProblem.BEYOND_ALIGNED_WINDOW,
}
_WAITS = {WaitProblem.TOO_LONG, WaitProblem.TOO_SHORT, WaitProblem.MOVED}


@dataclass
class _Keys:
    """The buckets by case and key, each request id's index in its bucket (read on demand)."""

    context: CheckContext
    by_key: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    by_case: dict[str, list[Bucket]] = field(default_factory=dict)
    _index: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for bucket in self.context.buckets:
            self.by_key[(bucket.case.name, bucket.key)] = bucket
            self.by_case.setdefault(bucket.case.name, []).append(bucket)

    def members(self, proof: Evidence) -> tuple[Bucket, npt.NDArray[np.intp]] | None:
        bucket = self.by_key.get((proof.case, proof.key))
        if bucket is None:
            return None
        name = (proof.case, proof.key)
        if name not in self._index:
            ids = bucket.ids(range(len(bucket)))
            self._index[name] = {rid: n for n, rid in enumerate(ids)}
        index = self._index[name]
        found = [index[rid] for rid in proof.request_ids if rid in index]
        return bucket, np.asarray(found, dtype=np.intp)

    def others_within(self, bucket: Bucket, start: int, end: int) -> int:
        """Requests that may have used budget of the case's other keys, possibly in [start, end]
        (this bucket's instants); 0 where the case's keys are meant to share one budget."""
        if not bucket.rate.vary_by:
            return 0
        slack = CROSS_KEY_SLACK_NS
        count = 0
        for other in self.by_case.get(bucket.case.name, []):
            if other is bucket:
                continue
            shift = other.wall_of_zero_ns - bucket.wall_of_zero_ns
            consumers = other.consumers()
            lo, hi = other.lo[consumers] + shift, other.hi[consumers] + shift
            count += int(np.count_nonzero((lo <= end + slack) & (hi >= start - slack)))
        return count


def _within(bucket: Bucket, which: npt.NDArray[np.intp], start: int, end: int) -> int:
    return int(np.count_nonzero((bucket.lo[which] <= end) & (bucket.hi[which] >= start)))


def _overlapping(bucket: Bucket, members: npt.NDArray[np.intp]) -> bool:
    """Whether some two of the requests were in flight together (a race could admit both)."""
    if len(members) < 2:
        return False
    order = members[np.argsort(bucket.lo[members], kind="stable")]
    reach = np.maximum.accumulate(bucket.hi[order])[:-1]
    return bool(np.any(bucket.lo[order][1:] <= reach))


@dataclass(frozen=True)
class _Shown:
    """What the failed checks proved that other rules weigh: a crowd no race explains, a
    concurrent burst admitting too many, and the shortfall (limit − admitted) of a burst with
    no other key's request in the window before its refusal."""

    excess: bool
    race: bool
    shortfall: int


def _burst_refusal(bucket: Bucket) -> int | None:
    throttled = bucket.where(THROTTLED)
    return int(throttled[0]) if len(throttled) else None


def _others_before(bucket: Bucket, refusal: int, keys: _Keys) -> bool:
    """Whether other keys' requests may lie in the window before this refusal."""
    start = int(bucket.lo[refusal]) - keys.context.tolerance.long(bucket.rate.duration_ns)
    return keys.others_within(bucket, start, int(bucket.hi[refusal])) > 0


def _shown(findings: Mapping[str, Finding], keys: _Keys) -> _Shown:
    excess = race = False
    shortfall = 0
    for check_id, finding in findings.items():
        for proof in finding.proofs:
            found = keys.members(proof)
            if found is None:
                continue
            bucket, members = found
            if check_id == "over-admission" and proof.kind in _CROWDS:
                excess |= not _overlapping(bucket, members)
            if check_id == "concurrency" and proof.kind == BurstProblem.TOO_MANY:
                race = True
            refusal = _burst_refusal(bucket)
            if proof.kind == BurstProblem.TOO_FEW and refusal is not None:
                if not _others_before(bucket, refusal, keys):
                    admitted = len(bucket.where(ADMITTED))
                    shortfall = max(shortfall, bucket.rate.limit - admitted)
    return _Shown(excess, race, shortfall)


def _refused_with_budget(
    check_id: str, proof: Evidence, bucket: Bucket, refusal: int, keys: _Keys, shown: _Shown
) -> set[str]:
    limit, long = bucket.rate.limit, keys.context.tolerance.long(bucket.rate.duration_ns)
    start, end = int(bucket.lo[refusal]) - long, int(bucket.hi[refusal])
    consumers = bucket.consumers()
    own = _within(bucket, consumers, start, end)
    if proof.kind == AdmissionProblem.THROTTLED_FRESH_KEY:
        own = int(np.count_nonzero(bucket.lo[consumers] <= end))
    refusals = bucket.where(THROTTLED)
    refusals = refusals[refusals != refusal]
    causes = set()
    if own + keys.others_within(bucket, start, end) >= limit:
        causes.add("vary-isolation")
    if own + _within(bucket, refusals, start, end) >= limit:
        causes.add("wait-honesty")
    if shown.shortfall and own >= limit - shown.shortfall:
        causes.add("burst")
    if check_id == "vary-isolation" and proof.kind == AdmissionProblem.THROTTLED_WITH_BUDGET:
        causes.add("under-admission")
    return causes


def _causes(check_id: str, proof: Evidence, keys: _Keys, shown: _Shown) -> set[str]:
    """The causes other than ``check_id``'s own that could explain one proof (module doc)."""
    if check_id == "throttle-metadata" and proof.kind == MetadataProblem.WAIT_RANGE:
        return {"wait-honesty", "under-admission"}
    if check_id == "quota" and proof.kind == QuotaProblem.OVER_QUOTA:
        return {"concurrency"} if shown.race else set()
    found = keys.members(proof)
    if found is None or not len(found[1]):
        return set()
    bucket, members = found
    causes: set[str] = set()
    if proof.kind in _REFUSED_WITH_BUDGET:
        causes = _refused_with_budget(check_id, proof, bucket, int(members[0]), keys, shown)
    elif proof.kind in _CROWDS or proof.kind == BurstProblem.TOO_MANY:
        if shown.excess:
            causes.add("over-admission")
        if shown.race and _overlapping(bucket, members):
            causes.add("concurrency")
    elif proof.kind == BurstProblem.TOO_FEW:
        refusal = _burst_refusal(bucket)
        if refusal is not None and _others_before(bucket, refusal, keys):
            causes.add("vary-isolation")
        if check_id == "concurrency" and shown.shortfall:
            causes.add("burst")
    elif proof.kind in _WAITS and len(members) >= 2:
        start = int(bucket.lo[members[0]]) - keys.context.tolerance.long(bucket.rate.duration_ns)
        if keys.others_within(bucket, start, int(bucket.hi[members[1]])):
            causes.add("vary-isolation")
    causes.discard(check_id)
    return causes


def proof_causes(
    findings: Mapping[str, Finding], context: CheckContext
) -> dict[str, list[frozenset[str]]]:
    """For each failed check, each proof's other possible causes (the input of ``attribute``)."""
    failed = {check: f for check, f in findings.items() if f.outcome is Outcome.FAIL}
    keys = _Keys(context)
    shown = _shown(failed, keys)
    return {
        check_id: [frozenset(_causes(check_id, proof, keys, shown)) for proof in finding.proofs]
        for check_id, finding in failed.items()
    }


# The family each kind of proof holds the target to ("" where the proof is of no family).
_ANY = "any family"
_ASSUMED: dict[str, str] = {
    AdmissionProblem.BEYOND_ANY_LIMITER: _ANY,
    AdmissionProblem.THROTTLED_FRESH_KEY: _ANY,
    AdmissionProblem.THROTTLED_WITH_BUDGET: "a sliding log, a fixed window or a token bucket",
    BurstProblem.TOO_FEW: _ANY,
    WaitProblem.TOO_LONG: _ANY,
    WaitProblem.TOO_SHORT: _ANY,
    WaitProblem.MOVED: "any family that does not penalise refusals",
}
_IDENTIFIED = {*_CROWDS, BurstProblem.TOO_MANY} - {AdmissionProblem.BEYOND_ANY_LIMITER}


def assumed_family(proofs: Iterable[Evidence], identified: str) -> str:
    """The family a failed check's first proof assumed: the identified one for the rules
    that are the family's own, "any family" for family-free rules, "" for no family at all."""
    for proof in proofs:
        if proof.kind in _IDENTIFIED:
            return _ANY if identified == "undetermined" else identified
        return _ASSUMED.get(proof.kind, "")
    return ""


def split_key(proofs: Iterable[Evidence]) -> bool:
    """Whether vary-isolation's proofs are of a rotating key (one key's budget split)."""
    return any(proof.kind in _CROWDS for proof in proofs)
