"""The IETF "RateLimit header fields for HTTP" draft, as a check: fields well-formed, the
policy the declared one, and what they said of the budget kept by what was admitted.

An http-profile check only (``checks.PROFILE_CHECKS``): the chatbot API sends no such fields, so
its verdicts do not list it. The fields arrive as the answer's raw headers (``m_other``, JSON);
three syntaxes are read, each checked as its draft writes it:
- draft 6 and earlier: ``RateLimit-Limit: 5``, ``RateLimit-Remaining: 0``, ``RateLimit-Reset: 3``;
- draft 7: ``RateLimit: limit=5, remaining=0, reset=3``, ``RateLimit-Policy: 5;w=2``;
- draft 8 on: ``RateLimit: "name";r=0;t=3``, ``RateLimit-Policy: "name";q=5;w=2``.
Remaining and reset (seconds, whole: the true reset lies in (t - 1 s, t]) are a promise: at a
server instant τ in [lo, hi], at most ``remaining`` admissions before τ + t - 1 s. Admissions
surely after hi and surely before lo + t - 1 s - β that outnumber it break the promise.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from harness.conformance.buckets import ADMITTED, THROTTLED, Bucket
from harness.conformance.context import CheckContext
from harness.conformance.findings import Finding, Outcome, Problem
from harness.conformance.keyed import key_finding
from harness.conformance.registry import Check
from harness.conformance.spec import RateSpec, Tolerance

__all__ = ["RATELIMIT_FIELDS", "Fields", "FieldsProblem", "parse_fields"]

NS = 1_000_000_000
_INT = r"(\d{1,10})"
_DRAFT7_MEMBER = re.compile(rf"^\s*(limit|remaining|reset)\s*=\s*{_INT}\s*$")
_DRAFT7_POLICY = re.compile(rf"^\s*{_INT}\s*;\s*w={_INT}(?:\s*;[^,]*)?\s*$")
_ITEM = re.compile(r'^\s*"[^"]*"\s*((?:;\s*[a-z][a-z0-9_.*-]*=[^;,]*)*)\s*$')
_WHOLE = re.compile(rf"^\s*{_INT}\s*$")


class FieldsProblem(StrEnum):
    MALFORMED = "ratelimit-malformed"
    POLICY = "ratelimit-policy-mismatch"
    THROTTLED_WITH_REMAINING = "ratelimit-throttled-with-remaining"
    OVER_REMAINING = "ratelimit-admitted-beyond-remaining"


@dataclass(frozen=True, slots=True)
class Fields:
    """One answer's fields, parsed: what is absent is None; ``error`` says what is malformed."""

    remaining: int | None = None
    reset_s: int | None = None
    limit: int | None = None
    quota: int | None = None  # the policy's
    window_s: int | None = None  # the policy's
    error: str = ""
    # Every policy item (quota, window): a field may list several (draft 7's own example is
    # ``10;w=1, 50;w=60``); the declared policy need only be one of them.
    policies: tuple[tuple[int, int | None], ...] = ()


def _params(text: str) -> dict[str, str] | None:
    """A draft-8 structured field's first item's parameters (``"name";r=0;t=3``)."""
    found = _ITEM.match(text.split(",")[0])
    if found is None:
        return None
    pairs = (part.split("=", 1) for part in found.group(1).split(";") if part.strip())
    return {name.strip(): value.strip() for name, value in pairs}


def _int(value: str | None) -> int | None:
    found = _WHOLE.match(value) if value is not None else None
    return int(found.group(1)) if found else None


def _draft8(ratelimit: str | None, policy: str | None) -> Fields:
    fields = Fields()
    if ratelimit is not None:
        params = _params(ratelimit)
        remaining = _int(params.get("r")) if params is not None else None
        if params is None or remaining is None:
            return Fields(error=f"RateLimit {ratelimit!r} is not '\"name\";r=N[;t=N]'")
        reset = _int(params.get("t"))
        if "t" in params and reset is None:
            return Fields(error=f"RateLimit {ratelimit!r}: t is not a whole number of seconds")
        fields = Fields(remaining=remaining, reset_s=reset)
    if policy is not None:
        items: list[tuple[int, int | None]] = []
        for item in policy.split(","):
            params = _params(item)
            quota = _int(params.get("q")) if params is not None else None
            window = _int(params.get("w", "")) if params is not None and "w" in params else None
            if params is None or quota is None or ("w" in params and window is None):
                return Fields(error=f"RateLimit-Policy {policy!r} is not '\"name\";q=N[;w=N]'")
            items.append((quota, window))
        first = items[0]
        fields = Fields(fields.remaining, fields.reset_s, None, *first, policies=tuple(items))
    return fields


def _draft7(ratelimit: str | None, policy: str | None) -> Fields:
    remaining = reset = limit = quota = window = None
    if ratelimit is not None:
        # A structured dictionary: its members in any order, each of the three once.
        members = [_DRAFT7_MEMBER.match(member) for member in ratelimit.split(",")]
        values = {found[1]: int(found[2]) for found in members if found is not None}
        if None in members or len(members) != 3 or len(values) != 3:
            return Fields(error=f"RateLimit {ratelimit!r} is not 'limit=N, remaining=N, reset=N'")
        limit, remaining, reset = values["limit"], values["remaining"], values["reset"]
        if remaining > limit:
            return Fields(error=f"RateLimit {ratelimit!r}: remaining above limit")
    items: list[tuple[int, int | None]] = []
    if policy is not None:
        for item in policy.split(","):
            found = _DRAFT7_POLICY.match(item)
            if found is None:
                return Fields(error=f"RateLimit-Policy {policy!r} is not 'N;w=N'")
            items.append((int(found[1]), int(found[2])))
        quota, window = items[0]
    return Fields(remaining, reset, limit, quota, window, policies=tuple(items))


def _draft6(headers: dict[str, str]) -> Fields:
    values = {name: headers.get(f"ratelimit-{name}") for name in ("limit", "remaining", "reset")}
    parsed = {name: _int(text) for name, text in values.items()}
    for name, text in values.items():
        if text is not None and parsed[name] is None:
            return Fields(error=f"RateLimit-{name.title()} {text!r} is not a whole number")
    remaining, limit = parsed["remaining"], parsed["limit"]
    if remaining is not None and limit is not None and remaining > limit:
        return Fields(error="RateLimit-Remaining above RateLimit-Limit")
    policy = headers.get("ratelimit-policy")
    items: list[tuple[int, int | None]] = []
    for item in policy.split(",") if policy is not None else []:
        found = _DRAFT7_POLICY.match(item)
        if found is None:
            return Fields(error=f"RateLimit-Policy {policy!r} is not 'N;w=N'")
        items.append((int(found[1]), int(found[2])))
    quota, window = items[0] if items else (None, None)
    return Fields(remaining, parsed["reset"], limit, quota, window, policies=tuple(items))


def parse_fields(headers: dict[str, str]) -> Fields | None:
    """An answer's RateLimit fields (headers keyed in lower case), or None without any."""
    ratelimit, policy = headers.get("ratelimit"), headers.get("ratelimit-policy")
    split = any(f"ratelimit-{name}" in headers for name in ("limit", "remaining", "reset"))
    if ratelimit is None and split:
        return _draft6(headers)
    if ratelimit is None and policy is None:
        return None
    quoted = (ratelimit or policy or "").lstrip().startswith('"')
    return _draft8(ratelimit, policy) if quoted else _draft7(ratelimit, policy)


def _fields_of(bucket: Bucket, raw: list[str]) -> list[Fields | None]:
    parsed: list[Fields | None] = []
    for text in raw:
        headers = json.loads(text) if text else {}
        parsed.append(parse_fields(headers) if isinstance(headers, dict) else None)
    return parsed


def _policy_problem(rate: RateSpec, fields: Fields) -> str | None:
    window = math.ceil(rate.duration_ns / NS)
    if any(q == rate.limit and w in (None, window) for q, w in fields.policies):
        return None  # one of the items the field lists is the declared policy
    if fields.quota is not None and fields.quota != rate.limit:
        return f"quota {fields.quota}, not the declared {rate.limit}"
    if fields.window_s is not None and fields.window_s != window:
        return f"window {fields.window_s}s, not the declared {window}s"
    return None


def _over_remaining(
    bucket: Bucket, parsed: list[Fields | None], tolerance: Tolerance
) -> tuple[int, int, int] | None:
    """The first answer whose remaining the admissions surely between it and its reset
    outnumber: (its index, the admissions counted, its remaining)."""
    admitted = bucket.where(ADMITTED)
    if not len(admitted):
        return None
    a_lo, a_hi = np.sort(bucket.lo[admitted]), np.sort(bucket.hi[admitted])
    for index, fields in enumerate(parsed):
        if fields is None or fields.remaining is None or fields.reset_s is None:
            continue
        before = bucket.lo[index] + (fields.reset_s * NS - NS) - tolerance.boundary_ns
        count = int(np.searchsorted(a_hi, before, "left")) - int(
            np.searchsorted(a_lo, bucket.hi[index], "right")
        )
        if count > fields.remaining:
            return index, count, fields.remaining
    return None


def _bucket_problem(
    bucket: Bucket, parsed: list[Fields | None], tolerance: Tolerance
) -> Problem | None:
    for index, fields in enumerate(parsed):
        if fields is not None and fields.error:
            kind, expected = FieldsProblem.MALFORMED, "fields as the draft writes them"
            evidence = bucket.evidence(kind, [index], expected, fields.error)
            return Problem(f"malformed: {fields.error}", evidence)
        mismatch = _policy_problem(bucket.rate, fields) if fields is not None else None
        if mismatch is not None:
            expected = "the declared policy"
            evidence = bucket.evidence(FieldsProblem.POLICY, [index], expected, mismatch)
            return Problem(f"RateLimit-Policy says {mismatch}", evidence)
        if fields is not None and bucket.code[index] == THROTTLED and (fields.remaining or 0) > 0:
            observed = f"throttled with remaining={fields.remaining}"
            kind = FieldsProblem.THROTTLED_WITH_REMAINING
            evidence = bucket.evidence(kind, [index], "remaining=0 on a throttle", observed)
            return Problem(f"a throttle said remaining={fields.remaining}", evidence)
    over = _over_remaining(bucket, parsed, tolerance)
    if over is None:
        return None
    index, count, remaining = over
    observed = f"{count} admitted before its reset"
    expected = f"at most remaining={remaining} admitted before the reset"
    evidence = bucket.evidence(FieldsProblem.OVER_REMAINING, [index], expected, observed)
    return Problem(f"remaining={remaining}, then {count} admitted before the reset", evidence)


def ratelimit_fields_finding(context: CheckContext) -> Finding:
    chats = context.data.chats
    if "m_other" not in chats.columns:
        return Finding(Outcome.SKIPPED, "the answers' headers were not recorded")
    problems: list[Problem] = []
    judged = answers = 0
    for bucket in context.buckets:
        raw = chats["m_other"].iloc[bucket.rows].astype(str).tolist()
        parsed = _fields_of(bucket, [text if text not in ("None", "nan") else "" for text in raw])
        seen = sum(fields is not None for fields in parsed)
        if not seen:
            continue
        judged, answers = judged + 1, answers + seen
        problem = _bucket_problem(bucket, parsed, context.tolerance)
        if problem is not None:
            problems.append(problem)
    if not judged:
        return Finding(Outcome.SKIPPED, "no answer carried RateLimit fields")
    finding = key_finding(problems, judged, "keys")
    if finding.outcome is Outcome.PASS:
        return Finding(Outcome.PASS, f"{finding.summary}: {answers} answers' RateLimit fields")
    return finding


RATELIMIT_FIELDS = Check(12, "ratelimit-fields", "IETF RateLimit fields", ratelimit_fields_finding)
