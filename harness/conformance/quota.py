"""Check 9: the daily quota, counted per chatbot per day of the organisation's time zone.

Instants here are wall-clock: a request's server instant lies in ``[S - ε, R + ε]`` where S and R
are its send and receive times on the recording master's clock and ε bounds how far the target's
clock may be from ours (``Tolerance.server_clock_ns``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from harness.api.timestamps import format_rfc3339, next_reset_candidates
from harness.conformance.answers import RowRule
from harness.conformance.context import CheckContext
from harness.conformance.evidence_rows import rows_evidence, shown
from harness.conformance.findings import (
    Finding,
    Outcome,
    Problem,
    failure,
)
from harness.conformance.power import CasePower, Power, with_power
from harness.conformance.registry import check
from harness.conformance.spec import CheckInput
from harness.conformance.text_shapes import duration_text_ok, seconds_text_ok

__all__ = ["QuotaProblem", "quota_finding"]

LONGEST_DAY_NS = 25 * 3_600_000_000_000


class QuotaProblem(StrEnum):
    OVER_QUOTA = "over-quota"
    EARLY_REFUSAL = "early-refusal"
    LIMIT = "limit"
    RESET_IN_TEXT = "reset-in-text"
    RESET_IN_SEC = "reset-in-sec"
    RESET_IN_RANGE = "reset-in-range"
    RESET_IN_INSTANT = "reset-in-instant"
    RESET_AT = "reset-at"


@dataclass(frozen=True)
class _Days:
    """One case's requests sorted by sending time, with the organisation days they may fall on:
    ``early``/``late`` bound each server instant, ``sure`` is the day when both agree."""

    rows: pd.DataFrame
    early: pd.Series
    late: pd.Series
    first: pd.Series
    last: pd.Series
    sure: pd.Series

    @classmethod
    def of(cls, rows: pd.DataFrame, zone: ZoneInfo, epsilon: int) -> _Days:
        rows = rows.sort_values("send_wall_ns")
        offset, error = rows["clock_offset_ns"], rows["clock_offset_err_ns"]
        early = rows["send_wall_ns"] + offset - error - epsilon
        late = rows["recv_wall_ns"] + offset + error + epsilon
        first, last = _local_dates(early, zone), _local_dates(late, zone)
        return cls(rows, early, late, first, last, first.where(first == last))


def _local_dates(ns: pd.Series, zone: ZoneInfo) -> pd.Series:
    return pd.to_datetime(ns, unit="ns", utc=True).dt.tz_convert(zone).dt.date


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def _day_start_ns(day: date, zone: ZoneInfo) -> int:
    before = datetime(day.year, day.month, day.day, tzinfo=zone) - timedelta(days=1)
    return min(_ns(candidate) for candidate in next_reset_candidates(before, zone))


def _midnights(days: Iterable[Any], zone: ZoneInfo) -> list[datetime]:
    """The resets a refusal on any of ``days`` may announce: each day's next local midnight
    (Go's value and the first local instant of the next day), in the zone, earliest first."""
    found = {
        candidate
        for day in days
        if day is not None and not pd.isna(day)
        for candidate in next_reset_candidates(
            datetime(day.year, day.month, day.day, 12, tzinfo=zone), zone
        )
    }
    return sorted(found)


def _counting_problems(days: _Days, quota: int, zone: ZoneInfo) -> list[Problem]:
    """More admitted than the quota on one sure day; a refusal before the quota could be used."""
    rows = days.rows
    problems: list[Problem] = []
    admitted = rows["outcome"] == "ok"
    for day, count in days.sure[admitted].value_counts().items():
        if count > quota:
            over = rows[admitted & (days.sure == day)]
            expected = f"at most {quota} admitted on {day}"
            proof = rows_evidence(
                QuotaProblem.OVER_QUOTA, over, expected, f"{count} admitted", keyed=False
            )
            problems.append(Problem(f"{count} admitted on {day} (quota {quota})", proof))
    refused = rows[rows["outcome"] == "out_of_quota"]
    consumers = rows["outcome"].isin(["ok", "client_error", "server_error", "transport_error"])
    for day in sorted(set(days.sure[refused.index].dropna())):
        first = refused[days.sure[refused.index] == day].iloc[0]
        start = _day_start_ns(day, zone)
        possible = int(
            (consumers & (days.late >= start) & (days.early <= days.late[first.name])).sum()
        )
        if possible < quota:
            expected = f"no refusal before {quota} requests on {day}"
            refusal = rows.loc[[first.name]]
            observed = f"refused after {possible}"
            proof = rows_evidence(
                QuotaProblem.EARLY_REFUSAL, refusal, expected, observed, keyed=False
            )
            problems.append(
                Problem(
                    f"refused for quota on {day} after only {possible} requests that could "
                    "have used it (are throttled requests counted?)",
                    proof,
                )
            )
    return problems


def _expected_reset(days: _Days, wrong: pd.DataFrame, zone: ZoneInfo) -> str:
    """The resets the first refusal in ``wrong`` could have announced ('' if none is wrong)."""
    if wrong.empty:
        return ""
    first = wrong.index[0]
    moments = _midnights((days.first[first], days.last[first]), zone)
    return " or ".join(format_rfc3339(moment) for moment in moments)


def _refusal_rules(
    days: _Days, refused: pd.DataFrame, quota: int, zone: ZoneInfo, granularity: int
) -> list[RowRule]:
    """Each rule a refusal's metadata must keep, broken where."""
    early, late = days.early[refused.index], days.late[refused.index]
    announced = refused["reset_at_ns"] - refused["reset_in_ns"]
    reset_in = refused["reset_in_ns"]
    reset_sec = seconds_text_ok(refused["m_reset_in_sec"], refused["reset_in_sec"], reset_in)
    reset_ok = _reset_at_ok(
        refused["reset_at_ns"],
        refused["reset_at_offset_s"],
        days.first.loc[refused.index],
        days.last.loc[refused.index],
        zone,
    )
    return [
        RowRule(
            QuotaProblem.LIMIT,
            f"limit is not '{quota}'",
            refused["m_limit"] != str(quota),
            str(quota),
            "m_limit",
        ),
        RowRule(
            QuotaProblem.RESET_IN_TEXT,
            "reset_in is not a canonical Go duration",
            ~duration_text_ok(refused["m_reset_in"], reset_in),
            "a canonical Go duration",
            "m_reset_in",
        ),
        RowRule(
            QuotaProblem.RESET_IN_SEC,
            "reset_in_sec is not reset_in in six-decimal seconds",
            ~reset_sec,
            "reset_in in six-decimal seconds",
            "m_reset_in_sec",
        ),
        RowRule(
            QuotaProblem.RESET_IN_RANGE,
            "reset_in is not within (0, 25h]",
            ~((reset_in > 0) & (reset_in <= LONGEST_DAY_NS)).fillna(False),
            "within (0, 25h]",
            "m_reset_in",
        ),
        RowRule(
            QuotaProblem.RESET_IN_INSTANT,
            "reset_at minus reset_in is not the answer's time",
            ~((announced >= early - granularity) & (announced <= late + granularity)).fillna(False),
            "reset_at minus reset_in within the request's send and answer",
            "m_reset_in",
        ),
        RowRule(
            QuotaProblem.RESET_AT,
            "reset_at is not the next local midnight, with the zone's offset",
            ~reset_ok,
            _expected_reset(days, refused[~reset_ok], zone),
            "m_reset_at",
        ),
    ]


def _refusal_problems(
    days: _Days, refused: pd.DataFrame, quota: int, zone: ZoneInfo, granularity: int
) -> list[Problem]:
    if refused.empty:
        return []
    problems: list[Problem] = []
    for rule in _refusal_rules(days, refused, quota, zone, granularity):
        bad = refused[np.asarray(rule.broken, dtype=bool)]
        if len(bad):
            observed = shown(bad[rule.shows].iloc[0])
            proof = rows_evidence(rule.kind, bad, rule.expected, observed, keyed=False)
            problems.append(Problem(rule.complaint, proof))
    return problems


def _reset_at_ok(
    reset_at_ns: pd.Series,
    offset_s: pd.Series,
    first_day: pd.Series,
    last_day: pd.Series,
    zone: ZoneInfo,
) -> pd.Series:
    """``reset_at`` is a next local midnight of a day the answer may fall in, with the zone's
    offset at that instant. Judged once per distinct (reset_at, offset, days): refusals repeat."""
    frame = pd.DataFrame(
        {"at": reset_at_ns, "offset": offset_s, "first": first_day, "last": last_day}
    )
    groups = frame.groupby(list(frame.columns), dropna=False, sort=False)
    verdicts = np.zeros(groups.ngroups, dtype=bool)
    for number, (combo, _) in enumerate(groups):
        at, offset, *days = cast(tuple[Any, ...], combo)
        if pd.isna(at) or pd.isna(offset):
            continue
        instant = datetime.fromtimestamp(int(at) / 1e9, UTC)
        expected = instant.astimezone(zone).utcoffset()
        allowed = {_ns(moment) for moment in _midnights(days, zone)}
        verdicts[number] = (
            expected is not None
            and int(offset) == int(expected.total_seconds())
            and any(abs(int(at) - moment) <= 1000 for moment in allowed)
        )
    return pd.Series(verdicts[groups.ngroup().to_numpy()], index=reset_at_ns.index, dtype=bool)


def _case_problems(data: CheckInput, rows: pd.DataFrame, quota: int) -> list[Problem]:
    zone, tolerance = data.org_timezone, data.tolerance
    days = _Days.of(rows, zone, tolerance.server_clock_ns)
    counting = _counting_problems(days, quota, zone)
    refused = data.with_resets(days.rows[days.rows["outcome"] == "out_of_quota"])
    return counting + _refusal_problems(days, refused, quota, zone, tolerance.granularity_ns)


@check(9, "quota", "Daily quota")
def quota_finding(context: CheckContext) -> Finding:
    data = context.data
    chats = data.chats
    problems: list[Problem] = []
    judged = 0
    refusals = 0
    powers: list[CasePower] = []
    existing = [c.name for c in data.cases.values() if c.quota is not None and c.existing]
    for case in data.cases.values():
        if case.quota is None or case.existing:
            continue  # an existing chatbot's quota: what it admitted earlier today is unknown
        rows = chats[chats["case"] == case.name]
        if rows.empty:
            continue
        judged += 1
        refused = int((rows["outcome"] == "out_of_quota").sum())
        refusals += refused
        problems += _case_problems(data, rows, case.quota)
        reached = refused > 0 or int((rows["outcome"] == "ok").sum()) > case.quota
        powers.append(
            CasePower(case.name, 1, 0, "")
            if reached
            else CasePower(case.name, 0, 1, f"case {case.name!r} never reached its quota")
        )
    if problems:
        summary = "; ".join(f"case {p.evidence.case!r}: {p.text}" for p in problems)
        return failure(summary, (p.evidence for p in problems))
    if not judged and existing:
        return Finding(
            Outcome.SKIPPED,
            "the quotas of existing chatbots are not judged (what "
            "they admitted earlier today is unknown)",
        )
    if not judged:
        return Finding(Outcome.SKIPPED, "no case has a quota")
    power = Power.of(powers)
    if not refusals:
        return Finding(
            Outcome.INCONCLUSIVE,
            "the quota was never reached, so its refusal could not be judged",
            power=power,
        )
    return with_power(
        Finding(
            Outcome.PASS,
            f"{refusals} quota refusals: count, first refusal, limit, "
            f"reset_at ({data.org_timezone.key}) and reset_in all as configured",
        ),
        power,
    )
