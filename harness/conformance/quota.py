"""Check 9: the daily quota, counted per chatbot per day of the organisation's time zone.

Instants here are wall-clock: a request's server instant lies in ``[S - ε, R + ε]`` where S and R
are its send and receive times on the recording master's clock and ε bounds how far the target's
clock may be from ours (``Tolerance.server_clock_ns``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from harness.api.timestamps import next_reset_candidates
from harness.conformance.answers import duration_text_ok, seconds_text_ok
from harness.conformance.findings import MAX_EVIDENCE, Finding, Outcome
from harness.conformance.spec import CheckInput

__all__ = ["quota_finding"]

DAY_NS = 86_400_000_000_000
LONGEST_DAY_NS = 25 * 3_600_000_000_000


def _local_dates(ns: pd.Series, zone: ZoneInfo) -> pd.Series:
    return pd.to_datetime(ns, unit="ns", utc=True).dt.tz_convert(zone).dt.date


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def _day_start_ns(day: date, zone: ZoneInfo) -> int:
    before = datetime(day.year, day.month, day.day, tzinfo=zone) - timedelta(days=1)
    return min(_ns(candidate) for candidate in next_reset_candidates(before, zone))


def _case_problems(
    rows: pd.DataFrame, quota: int, zone: ZoneInfo, epsilon: int, granularity: int
) -> list[tuple[str, pd.DataFrame]]:
    rows = rows.sort_values("send_wall_ns")
    early = rows["send_wall_ns"] + rows["clock_offset_ns"] - rows["clock_offset_err_ns"] - epsilon
    late = rows["recv_wall_ns"] + rows["clock_offset_ns"] + rows["clock_offset_err_ns"] + epsilon
    first_day, last_day = _local_dates(early, zone), _local_dates(late, zone)
    sure_day = first_day.where(first_day == last_day)
    problems: list[tuple[str, pd.DataFrame]] = []
    admitted = rows["outcome"] == "ok"
    counts = sure_day[admitted].value_counts()
    for day, count in counts.items():
        if count > quota:
            over = rows[admitted & (sure_day == day)]
            problems.append((f"{count} admitted on {day} (quota {quota})", over))
    refused = rows[rows["outcome"] == "out_of_quota"]
    consumers = rows["outcome"].isin(["ok", "client_error", "server_error", "transport_error"])
    for day in sorted(set(sure_day[refused.index].dropna())):
        first = refused[sure_day[refused.index] == day].iloc[0]
        start = _day_start_ns(day, zone)
        possible = consumers & (late >= start) & (early <= late[first.name])
        if int(possible.sum()) < quota:
            problems.append((
                f"refused for quota on {day} after only {int(possible.sum())} requests that could "
                "have used it (are throttled requests counted?)",
                rows.loc[[first.name]],
            ))  # fmt: skip
    if refused.empty:
        return problems
    early_r, late_r = early[refused.index], late[refused.index]
    checks: dict[str, Any] = {
        f"limit is not '{quota}'": refused["m_limit"] != str(quota),
        "reset_in is not a canonical Go duration": ~duration_text_ok(
            refused["m_reset_in"], refused["reset_in_ns"]
        ),
        "reset_in_sec is not reset_in in six-decimal seconds": ~seconds_text_ok(
            refused["m_reset_in_sec"], refused["reset_in_sec"], refused["reset_in_ns"]
        ),
        "reset_in is not within (0, 25h]": ~(
            (refused["reset_in_ns"] > 0) & (refused["reset_in_ns"] <= LONGEST_DAY_NS)
        ).fillna(False),
        "reset_at minus reset_in is not the answer's time": ~(
            (refused["reset_at_ns"] - refused["reset_in_ns"] >= early_r - granularity)
            & (refused["reset_at_ns"] - refused["reset_in_ns"] <= late_r + granularity)
        ).fillna(False),
    }
    reset_ok = _reset_at_ok(
        refused["reset_at_ns"], refused["reset_at_offset_s"],
        first_day.loc[refused.index], last_day.loc[refused.index], zone,
    )  # fmt: skip
    checks["reset_at is not the next local midnight, with the zone's offset"] = ~reset_ok
    for text, mask in checks.items():
        bad = refused[np.asarray(mask, dtype=bool)]
        if len(bad):
            problems.append((text, bad))
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
        allowed = {
            _ns(candidate)
            for day in days
            if day is not None and not pd.isna(day)
            for candidate in next_reset_candidates(
                datetime(day.year, day.month, day.day, 12, tzinfo=zone), zone
            )
        }
        verdicts[number] = (
            expected is not None
            and int(offset) == int(expected.total_seconds())
            and any(abs(int(at) - moment) <= 1000 for moment in allowed)
        )
    return pd.Series(verdicts[groups.ngroup().to_numpy()], index=reset_at_ns.index, dtype=bool)


def quota_finding(data: CheckInput) -> Finding:
    title = "Daily quota"
    chats = data.chats
    problems: list[tuple[str, str, pd.DataFrame]] = []
    judged = 0
    refusals = 0
    for case in data.cases.values():
        if case.quota is None:
            continue
        rows = chats[chats["case"] == case.name]
        if rows.empty:
            continue
        judged += 1
        refusals += int((rows["outcome"] == "out_of_quota").sum())
        tolerance = data.tolerance
        for text, bad in _case_problems(
            rows, case.quota, data.org_timezone, tolerance.server_clock_ns, tolerance.granularity_ns
        ):
            problems.append((case.name, text, bad))
    if problems:
        summary = "; ".join(f"case {name!r}: {text}" for name, text, _ in problems)
        evidence = tuple(problems[0][2]["request_id"].astype(str).head(MAX_EVIDENCE))
        return Finding("quota", title, Outcome.FAIL, summary, evidence)
    if not judged:
        return Finding("quota", title, Outcome.SKIPPED, "no case has a quota")
    if not refusals:
        return Finding(
            "quota", title, Outcome.INCONCLUSIVE,
            "the quota was never reached, so its refusal could not be judged",
        )  # fmt: skip
    return Finding(
        "quota", title, Outcome.PASS,
        f"{refusals} quota refusals: count, first refusal, limit, "
        f"reset_at ({data.org_timezone.key}) "
        "and reset_in all as configured",
    )  # fmt: skip
