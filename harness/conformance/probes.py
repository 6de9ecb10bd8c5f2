"""Checks 10 and 11: the settings read back as created; credentials are enforced."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.api.answer import UNREAD_BODY
from harness.api.duration import DurationError, parse_duration
from harness.conformance.context import CheckContext
from harness.conformance.findings import Evidence, Finding, Outcome, Problem, failure
from harness.conformance.registry import check
from harness.conformance.spec import CaseSpec

__all__ = ["ACCESS_EXPECTED", "access_finding", "settings_roundtrip_finding"]

# What each access probe must get: the HTTP statuses that refuse it properly.
ACCESS_EXPECTED: dict[str, tuple[int, ...]] = {
    "access:unknown-token": (401,),
    "access:api-key-as-token": (401, 403),
    "access:no-key": (401,),
    "access:other-org-get": (403, 404),
    "access:other-org-token": (403, 404),
}


@dataclass(frozen=True, slots=True)
class _Mismatch:
    """A setting read back otherwise than created: its path in the chatbot, the complaint,
    what was created and what came back."""

    setting: str
    text: str
    expected: str
    observed: str


def _enabled(name: str, created: bool, enabled: bool) -> list[_Mismatch]:
    if created == enabled:
        return []
    text = f"{name} is not enabled" if created else f"{name} is enabled but was created disabled"
    shown = {True: "enabled", False: "disabled"}
    return [_Mismatch(f"{name}.enabled", text, shown[created], shown[enabled])]


def _rate_differences(case: CaseSpec, rate_limit: dict[str, Any] | None) -> list[_Mismatch]:
    rate = case.rate
    enabled = bool(rate_limit and rate_limit.get("enabled"))
    if rate is None or not enabled or rate_limit is None:
        return _enabled("rate_limit", rate is not None, enabled)
    setting = rate_limit.get("setting") or {}
    found = []
    limit, duration = setting.get("limit"), setting.get("duration", "")
    if str(limit) != str(rate.limit):
        text = f"limit {limit!r} instead of {rate.limit}"
        found.append(_Mismatch("rate_limit.setting.limit", text, str(rate.limit), str(limit)))
    try:
        same = parse_duration(str(duration)) == rate.duration_ns
    except DurationError:
        same = False
    if not same:
        text = f"duration {setting.get('duration')!r} instead of {rate.canonical_duration}"
        path = "rate_limit.setting.duration"
        found.append(_Mismatch(path, text, rate.canonical_duration, str(duration)))
    message = setting.get("throttle_message", "")
    if message != rate.throttle_message:
        path = "rate_limit.setting.throttle_message"
        text = "throttle_message differs"
        found.append(_Mismatch(path, text, rate.throttle_message, str(message)))
    vary = setting.get("vary_by") or ""
    unset = "RATE_LIMIT_VARY_BY_UNSPECIFIED"
    if (vary or unset) != (rate.vary_by or unset):
        text = f"vary_by {vary!r} instead of {rate.vary_by or 'unset'!r}"
        found.append(_Mismatch("rate_limit.setting.vary_by", text, rate.vary_by or unset, vary))
    return found


def _quota_differences(case: CaseSpec, quota_limit: dict[str, Any] | None) -> list[_Mismatch]:
    enabled = bool(quota_limit and quota_limit.get("enabled"))
    if case.quota is None or not enabled or quota_limit is None:
        return _enabled("quota_limit", case.quota is not None, enabled)
    setting = quota_limit.get("setting") or {}
    found = []
    limit, reset, daily = setting.get("limit"), setting.get("reset"), "QUOTA_LIMIT_RESET_DAILY"
    if str(limit) != str(case.quota):
        text = f"quota limit {limit!r} instead of {case.quota}"
        found.append(_Mismatch("quota_limit.setting.limit", text, str(case.quota), str(limit)))
    if reset != daily:
        text = f"quota reset {reset!r} instead of {daily}"
        found.append(_Mismatch("quota_limit.setting.reset", text, daily, str(reset)))
    return found


def _answered(rows: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The probes the target answered whole, and a note on the others (which prove nothing)."""
    whole = (rows["http_status"] > 0) & ~rows["error_class"].isin(UNREAD_BODY)
    missing = int((~whole).sum())
    return rows[whole], f"{missing} got no whole answer" if missing else ""


def _probe_finding(
    rows: pd.DataFrame, none_sent: str, judge: Callable[[pd.DataFrame], Finding]
) -> Finding:
    """Skipped without probes; judged on the answered ones. A pass over only some probes says
    so; no probe answered at all is inconclusive (a failure stands whatever is missing)."""
    if rows.empty:
        return Finding(Outcome.SKIPPED, none_sent)
    rows, missing = _answered(rows)
    finding = judge(rows)
    if not missing or finding.outcome is Outcome.FAIL:
        return finding
    if rows.empty:
        return Finding(Outcome.INCONCLUSIVE, f"every probe: {missing}")
    return Finding(Outcome.INCONCLUSIVE, f"{finding.summary}; {missing}")


@check(10, "settings-roundtrip", "Settings round-trip")
def settings_roundtrip_finding(context: CheckContext) -> Finding:
    probes = context.data.probes
    rows = probes[probes["phase"] == "roundtrip"]
    return _probe_finding(rows, "no chatbot was read back", lambda r: _roundtrip(context, r))


def _read_back(case: CaseSpec, row: pd.Series) -> list[_Mismatch]:
    if row["http_status"] != 200 or not row["detail"]:
        status = row["http_status"]
        return [_Mismatch("read-back", f"GET answered {status}", "HTTP 200", f"HTTP {status}")]
    detail = json.loads(str(row["detail"]))
    rate = _rate_differences(case, detail.get("rate_limit"))
    return rate + _quota_differences(case, detail.get("quota_limit"))


def _roundtrip(context: CheckContext, rows: pd.DataFrame) -> Finding:
    problems: list[Problem] = []
    for _, row in rows.iterrows():
        case = context.data.cases.get(str(row["case"]))
        if case is None:
            continue
        for mismatch in _read_back(case, row):
            ids = (str(row["request_id"]),)
            proof = Evidence(
                mismatch.setting, case.name, "", ids, mismatch.expected, mismatch.observed
            )
            problems.append(Problem(f"case {case.name!r}: {mismatch.text}", proof))
    if problems:
        return failure("; ".join(p.text for p in problems), (p.evidence for p in problems))
    return Finding(
        Outcome.PASS,
        f"{len(rows)} chatbots read back with the rate limit and quota they were created with",
    )


@check(11, "access", "Access control")
def access_finding(context: CheckContext) -> Finding:
    probes = context.data.probes
    rows = probes[probes["phase"].astype(str).str.startswith("access:")]
    return _probe_finding(rows, "no access probe was sent", lambda r: _access(context, r))


def _access(context: CheckContext, rows: pd.DataFrame) -> Finding:
    problems = []
    for _, row in rows.iterrows():
        phase, status = str(row["phase"]), int(row["http_status"])
        expected = ACCESS_EXPECTED.get(phase)
        if expected is not None and status not in expected:
            wanted = "HTTP " + " or ".join(str(code) for code in expected)
            proof = Evidence(phase, "", "", (str(row["request_id"]),), wanted, f"HTTP {status}")
            problems.append(Problem(f"{phase}: HTTP {status}, expected {expected}", proof))
    note = (
        ""
        if context.data.second_org
        else " (no second organisation's key: cross-organisation probes not run)"
    )
    if problems:
        summary = "; ".join(p.text for p in problems) + note
        return failure(summary, (p.evidence for p in problems))
    return Finding(Outcome.PASS, f"{len(rows)} probes refused as expected{note}")
