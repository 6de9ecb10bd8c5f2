"""Checks 10 and 11: the settings read back as created; credentials are enforced."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from harness.api.answer import UNREAD_BODY
from harness.api.duration import DurationError, parse_duration
from harness.conformance.findings import Finding, Outcome
from harness.conformance.spec import CaseSpec, CheckInput

__all__ = ["ACCESS_EXPECTED", "access_finding", "settings_roundtrip_finding"]

# What each access probe must get: the HTTP statuses that refuse it properly.
ACCESS_EXPECTED: dict[str, tuple[int, ...]] = {
    "access:unknown-token": (401,),
    "access:api-key-as-token": (401, 403),
    "access:no-key": (401,),
    "access:other-org-get": (403, 404),
    "access:other-org-token": (403, 404),
}


def _rate_differences(case: CaseSpec, rate_limit: dict[str, Any] | None) -> list[str]:
    rate = case.rate
    enabled = bool(rate_limit and rate_limit.get("enabled"))
    if rate is None:
        return ["rate_limit is enabled but was created disabled"] if enabled else []
    if not enabled or rate_limit is None:
        return ["rate_limit is not enabled"]
    setting = rate_limit.get("setting") or {}
    found = []
    if str(setting.get("limit")) != str(rate.limit):
        found.append(f"limit {setting.get('limit')!r} instead of {rate.limit}")
    try:
        same = parse_duration(str(setting.get("duration", ""))) == rate.duration_ns
    except DurationError:
        same = False
    if not same:
        found.append(f"duration {setting.get('duration')!r} instead of {rate.canonical_duration}")
    if setting.get("throttle_message", "") != rate.throttle_message:
        found.append("throttle_message differs")
    vary = setting.get("vary_by") or ""
    if (vary or "RATE_LIMIT_VARY_BY_UNSPECIFIED") != (
        rate.vary_by or "RATE_LIMIT_VARY_BY_UNSPECIFIED"
    ):
        found.append(f"vary_by {vary!r} instead of {rate.vary_by or 'unset'!r}")
    return found


def _quota_differences(case: CaseSpec, quota_limit: dict[str, Any] | None) -> list[str]:
    enabled = bool(quota_limit and quota_limit.get("enabled"))
    if case.quota is None:
        return ["quota_limit is enabled but was created disabled"] if enabled else []
    if not enabled or quota_limit is None:
        return ["quota_limit is not enabled"]
    setting = quota_limit.get("setting") or {}
    found = []
    if str(setting.get("limit")) != str(case.quota):
        found.append(f"quota limit {setting.get('limit')!r} instead of {case.quota}")
    if setting.get("reset") != "QUOTA_LIMIT_RESET_DAILY":
        found.append(f"quota reset {setting.get('reset')!r} instead of QUOTA_LIMIT_RESET_DAILY")
    return found


def _answered(rows: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The probes the target answered whole, and a note on the others (which prove nothing)."""
    whole = (rows["http_status"] > 0) & ~rows["error_class"].isin(UNREAD_BODY)
    missing = int((~whole).sum())
    return rows[whole], f"{missing} got no whole answer" if missing else ""


def _inconclusive_or(finding: Finding, missing: str, judged: int) -> Finding:
    """A pass over only some probes says so; no probe answered at all is inconclusive."""
    if not missing or finding.outcome is Outcome.FAIL:
        return finding
    if not judged:
        return Finding(finding.id, finding.title, Outcome.INCONCLUSIVE, f"every probe: {missing}")
    return Finding(finding.id, finding.title, Outcome.INCONCLUSIVE, f"{finding.summary}; {missing}")


def settings_roundtrip_finding(data: CheckInput) -> Finding:
    title = "Settings round-trip"
    rows = data.probes[data.probes["phase"] == "roundtrip"]
    if rows.empty:
        return Finding("settings-roundtrip", title, Outcome.SKIPPED, "no chatbot was read back")
    rows, missing = _answered(rows)
    return _inconclusive_or(_roundtrip(data, rows), missing, len(rows))


def _roundtrip(data: CheckInput, rows: pd.DataFrame) -> Finding:
    title = "Settings round-trip"
    problems: list[tuple[str, str]] = []
    for _, row in rows.iterrows():
        case = data.cases.get(str(row["case"]))
        if case is None:
            continue
        if row["http_status"] != 200 or not row["detail"]:
            problems.append(
                (str(row["request_id"]), f"case {case.name!r}: GET answered {row['http_status']}")
            )
            continue
        detail = json.loads(str(row["detail"]))
        for difference in _rate_differences(case, detail.get("rate_limit")) + _quota_differences(
            case, detail.get("quota_limit")
        ):
            problems.append((str(row["request_id"]), f"case {case.name!r}: {difference}"))
    if problems:
        return Finding(
            "settings-roundtrip", title, Outcome.FAIL, "; ".join(text for _, text in problems),
            tuple(dict.fromkeys(rid for rid, _ in problems)),
        )  # fmt: skip
    return Finding(
        "settings-roundtrip", title, Outcome.PASS,
        f"{len(rows)} chatbots read back with the rate limit and quota they were created with",
    )  # fmt: skip


def access_finding(data: CheckInput) -> Finding:
    title = "Access control"
    rows = data.probes[data.probes["phase"].astype(str).str.startswith("access:")]
    if rows.empty:
        return Finding("access", title, Outcome.SKIPPED, "no access probe was sent")
    rows, missing = _answered(rows)
    return _inconclusive_or(_access(data, rows), missing, len(rows))


def _access(data: CheckInput, rows: pd.DataFrame) -> Finding:
    title = "Access control"
    problems = []
    for _, row in rows.iterrows():
        expected = ACCESS_EXPECTED.get(str(row["phase"]))
        if expected is not None and int(row["http_status"]) not in expected:
            text = f"{row['phase']}: HTTP {row['http_status']}, expected {expected}"
            problems.append((str(row["request_id"]), text))
    note = (
        ""
        if data.second_org
        else " (no second organisation's key: cross-organisation probes not run)"
    )
    if problems:
        return Finding(
            "access", title, Outcome.FAIL, "; ".join(text for _, text in problems) + note,
            tuple(rid for rid, _ in problems),
        )  # fmt: skip
    return Finding("access", title, Outcome.PASS, f"{len(rows)} probes refused as expected{note}")
