"""The tables the report's charts draw: pure functions of a run's records, no I/O, no clock.

Instants follow the checks' rule (ARCHITECTURE.md): a request reached the server somewhere in
[send, recv], so every derived figure is either a sure bound or says which placement it assumes.
``send_ns``/``recv_ns`` are the sending process's monotonic clock moved onto the master's (all
traffic of a key shares one clock); ``t_s`` is the wall clock in seconds since the first chat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.api.duration import parse_duration
from harness.conformance import Tolerance
from harness.run.plan import RunPlan
from harness.run.records import is_load_chat

__all__ = [
    "REPORT_COLUMNS",
    "RateLimit",
    "check_outcomes",
    "key_requests",
    "load_chats",
    "over_time",
    "pick_keys",
    "quota_consumption",
    "quota_limits",
    "quota_resets",
    "rate_limits",
    "time_bin",
    "wait_vs_remaining",
    "window_admissions",
]

# What the notebooks read of the records: a fraction of every column.
REPORT_COLUMNS = (
    "request_id",
    "kind",
    "phase",
    "case",
    "key",
    "send_wall_ns",
    "recv_wall_ns",
    "send_mono_ns",
    "recv_mono_ns",
    "clock_offset_ns",
    "latency_ms",
    "outcome",
    "error_class",
    "wait_ns",
    "reset_at_ns",
    "m_reset_at",
    "answer_chars",
)

_TOLERANCE = Tolerance()


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A case's configured rate limit: ``limit`` admissions per ``duration_ns``."""

    limit: int
    duration_ns: int
    vary_by: str

    @property
    def duration_s(self) -> float:
        return self.duration_ns / 1e9


def rate_limits(plan: RunPlan) -> dict[str, RateLimit]:
    """Every rate-limited case of the run, by name, in the scenario's order."""
    return {
        entry.case.name: RateLimit(
            entry.case.rate_limit.limit,
            parse_duration(entry.case.rate_limit.duration),
            entry.case.rate_limit.vary_by,
        )
        for entry in plan.cases
        if entry.case.rate_limit is not None
    }


def quota_limits(plan: RunPlan) -> dict[str, int]:
    """Every case with a daily quota, by name: its limit in messages."""
    return {e.case.name: e.case.quota.limit for e in plan.cases if e.case.quota is not None}


def load_chats(records: pd.DataFrame) -> pd.DataFrame:
    """The load's chat requests (no set-up, no access probes), with the instants charts use."""
    chats = records[is_load_chat(records)].copy()
    chats["outcome"] = chats["outcome"].astype("string")
    chats["send_ns"] = chats["send_mono_ns"] + chats["clock_offset_ns"]
    chats["recv_ns"] = chats["recv_mono_ns"] + chats["clock_offset_ns"]
    start = chats["send_wall_ns"].min() if len(chats) else 0
    chats["t_s"] = (chats["send_wall_ns"] - start) / 1e9
    return chats.reset_index(drop=True)


def pick_keys(chats: pd.DataFrame, cases: Iterable[str], per_case: int = 1) -> pd.DataFrame:
    """The most throttled keys of each case (ties: most requests): the keys worth a picture.

    A run has many keys; the report draws a bounded number, and a key that was never throttled
    says nothing about the limit. Columns: case, key, requests, throttled (case order kept).
    """
    order = list(cases)
    sub = chats[chats["case"].isin(order)]
    counts = (
        sub.assign(throttled=sub["outcome"] == "throttled", case=sub["case"].astype(str))
        .assign(key=lambda frame: frame["key"].astype(str))
        .groupby(["case", "key"])
        .agg(requests=("throttled", "size"), throttled=("throttled", "sum"))
        .reset_index()
    )
    counts = counts[counts["throttled"] > 0]
    counts = counts.assign(rank=counts["case"].map({name: i for i, name in enumerate(order)}))
    counts = counts.sort_values(
        ["rank", "throttled", "requests", "key"], ascending=[True, False, False, True]
    )
    picked = counts.groupby("case", sort=False).head(per_case)
    return picked.drop(columns="rank").reset_index(drop=True)


def key_requests(chats: pd.DataFrame, case: str, key: str) -> pd.DataFrame:
    """One key's requests in send order; ``t_s``/``recv_t_s``: seconds since its first send."""
    mine = chats[(chats["case"] == case) & (chats["key"] == key)].sort_values("send_ns")
    origin = mine["send_ns"].min() if len(mine) else 0
    return mine.assign(
        t_s=(mine["send_ns"] - origin) / 1e9, recv_t_s=(mine["recv_ns"] - origin) / 1e9
    ).reset_index(drop=True)


def window_admissions(requests: pd.DataFrame, duration_ns: int) -> pd.DataFrame:
    """Over time, the admissions surely inside the window of one duration ending then.

    At instant t: admissions whose whole [send, recv] lies in (t − D⁻, t], with D⁻ a window
    surely shorter than the server's. A lower bound of what the limiter let through within one
    duration, so a correct limiter never shows more than ``limit`` (the checks' own bound). The
    count only changes when an answer arrives (+1) or an admission leaves the window (−1), so it
    is given at those instants, a step function. ``requests`` as ``key_requests`` returns;
    columns ``t_s`` (seconds since the key's first send), ``surely_within``.
    """
    ok = requests[requests["outcome"] == "ok"]
    if ok.empty:
        return pd.DataFrame({"t_s": pd.Series(dtype=float), "surely_within": pd.Series(dtype=int)})
    origin = requests["send_ns"].min()
    send = np.sort(ok["send_ns"].to_numpy(dtype=np.int64))
    recv = np.sort(ok["recv_ns"].to_numpy(dtype=np.int64))
    window = _TOLERANCE.short(duration_ns)
    instants = np.unique(np.concatenate([recv, send + window]))
    # recv_j ≤ t minus send_j ≤ t − D⁻: subtracting a request longer than the window that ends
    # after t too only lowers the count, which keeps it a lower bound.
    within = np.searchsorted(recv, instants, side="right") - np.searchsorted(
        send, instants - window, side="right"
    )
    return pd.DataFrame({"t_s": (instants - origin) / 1e9, "surely_within": np.maximum(within, 0)})


def wait_vs_remaining(chats: pd.DataFrame) -> pd.DataFrame:
    """Each throttle's reported ``wait`` against the time until its key's next admission.

    The next admission is the key's first one sent once the throttle's answer was in (so surely
    decided after it: a request in flight alongside could have been decided before); the time
    between them lies in [next send − throttle recv, next recv − throttle send]. It is an upper
    bound of the time that really remained (the client may have come back late), so honest waits
    put points on or above the diagonal; ``early`` marks admissions surely before the promise
    (the checks' retry slack allowed). Throttles never followed by an admission are left out.
    """
    columns = ["case", "key", "t_s", "wait_s", "remaining_lo_s", "remaining_hi_s", "early"]
    throttles = chats[(chats["outcome"] == "throttled") & chats["wait_ns"].notna()]
    admissions = chats[chats["outcome"] == "ok"]
    if throttles.empty or admissions.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
    left = _by_key(throttles[["case", "key", "t_s", "send_ns", "recv_ns", "wait_ns"]])
    right = _by_key(admissions[["case", "key", "send_ns", "recv_ns"]]).rename(
        columns={"send_ns": "next_send_ns", "recv_ns": "next_recv_ns"}
    )
    joined = pd.merge_asof(
        left.sort_values("recv_ns"),
        right.sort_values("next_send_ns"),
        left_on="recv_ns",
        right_on="next_send_ns",
        by=["case", "key"],
        direction="forward",
    ).dropna(subset=["next_send_ns"])
    wait = joined["wait_ns"].to_numpy(dtype=np.float64)
    lo = (joined["next_send_ns"] - joined["recv_ns"]).clip(lower=0).to_numpy(dtype=np.float64)
    hi = (joined["next_recv_ns"] - joined["send_ns"]).to_numpy(dtype=np.float64)
    frame = pd.DataFrame(
        {
            "case": joined["case"],
            "key": joined["key"],
            "t_s": joined["t_s"],
            "wait_s": wait / 1e9,
            "remaining_lo_s": lo / 1e9,
            "remaining_hi_s": hi / 1e9,
            "early": hi + _TOLERANCE.retry_slack(wait) < wait,
        }
    )
    return frame.sort_values(["case", "t_s"]).reset_index(drop=True)


def _by_key(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain-string case and key (merge_asof's ``by`` wants equal types on both sides)."""
    return frame.assign(case=frame["case"].astype(str), key=frame["key"].astype(str))


def time_bin(span_s: float, bins: int = 40) -> float:
    """A round bin width (s) giving at most about ``bins`` bins over ``span_s``; at least 0.1 s."""
    raw = max(span_s / bins, 0.1)
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if step >= raw:
            return float(step)
    return float(np.ceil(raw / 3600) * 3600)


def over_time(chats: pd.DataFrame, bin_s: float | None = None) -> pd.DataFrame:
    """Per time bin (by send instant): latency p50/p95/p99 (ms) and answers/s by outcome.

    Percentiles come from every request of the bin, never from averages. The last bin's rate is
    divided by the time it really covers, so a partial bin does not look like a drop.
    """
    if chats.empty:
        return pd.DataFrame(columns=["t_s", "p50_ms", "p95_ms", "p99_ms", "requests_per_s"])
    span = float(chats["t_s"].max())
    width = bin_s if bin_s is not None else time_bin(span)
    start = (chats["t_s"] // width) * width
    by_bin = chats.groupby(start)["latency_ms"]
    latency = pd.DataFrame({f"p{q}_ms": by_bin.quantile(q / 100) for q in (50, 95, 99)})
    counts = chats.groupby([start, chats["outcome"]], observed=True).size().unstack(fill_value=0)
    starts = np.asarray(counts.index, dtype=np.float64)
    covered = np.minimum(width, np.maximum(span - starts, width / 10))
    rates = counts.div(covered, axis=0).add_suffix("_per_s")
    frame = latency.join(rates)
    frame["requests_per_s"] = counts.sum(axis=1) / covered
    return frame.rename_axis("t_s").reset_index()


def quota_consumption(chats: pd.DataFrame, quotas: Mapping[str, int]) -> pd.DataFrame:
    """Per quota case, in answer order: messages admitted and refused for quota so far.

    The quota counts per chatbot, whichever key sent, so all of a case's requests are merged on
    the wall clock. Columns: case, t_s (answer, seconds since the first chat), consumed, refused.
    """
    sub = chats[chats["case"].isin(list(quotas))]
    if sub.empty:
        return pd.DataFrame(columns=["case", "t_s", "consumed", "refused", "limit"])
    start = chats["send_wall_ns"].min()
    sub = sub.assign(case=sub["case"].astype(str)).sort_values("recv_wall_ns")
    frame = pd.DataFrame(
        {
            "case": sub["case"],
            "t_s": (sub["recv_wall_ns"] - start) / 1e9,
            "consumed": (sub["outcome"] == "ok").groupby(sub["case"]).cumsum(),
            "refused": (sub["outcome"] == "out_of_quota").groupby(sub["case"]).cumsum(),
        }
    )
    frame["limit"] = frame["case"].map(dict(quotas))
    return frame.reset_index(drop=True)


def quota_resets(chats: pd.DataFrame, quotas: Mapping[str, int]) -> pd.DataFrame:
    """Per quota case: admitted, refused, the first refusal, and the ``reset_at`` it announced.

    ``reset_at`` is the text the target wrote (with its zone offset); ``reset_in_h`` the hours
    from the first refusal's answer to it; ``resets`` how many distinct instants were announced.
    """
    rows: list[dict[str, Any]] = []
    start = chats["send_wall_ns"].min() if len(chats) else 0
    for case, limit in quotas.items():
        mine = chats[chats["case"] == case]
        refused = mine[mine["outcome"] == "out_of_quota"].sort_values("recv_wall_ns")
        first = refused.iloc[0] if len(refused) else None
        reset_ns = first["reset_at_ns"] if first is not None else None
        rows.append(
            {
                "case": case,
                "limit": limit,
                "admitted": int((mine["outcome"] == "ok").sum()),
                "refused": len(refused),
                "first_refusal_t_s": (first["recv_wall_ns"] - start) / 1e9
                if first is not None
                else None,
                "reset_at": first["m_reset_at"] if first is not None else None,
                "reset_in_h": (reset_ns - first["recv_wall_ns"]) / 3.6e12
                if first is not None and pd.notna(reset_ns)
                else None,
                "resets": int(refused["reset_at_ns"].nunique()),
            }
        )
    return pd.DataFrame(rows)


_CHECK_COLUMNS = ["id", "title", "outcome", "summary", "explanation", "explained_by"]


def check_outcomes(verdict: Mapping[str, Any]) -> pd.DataFrame:
    """The verdict's checks as a table, in ``verdict.json`` order: id, title, outcome, summary,
    and for a failed check the root-cause decision (``explanation``: "root cause" or "explained
    by …"; ``explained_by``: the roots' ids, comma-separated; "" for a verdict without them)."""
    rows = [
        {
            **{key: check.get(key, "") for key in _CHECK_COLUMNS[:-1]},
            "explained_by": ", ".join(check.get("explained_by", [])),
        }
        for check in verdict.get("checks", [])
    ]
    return pd.DataFrame(rows, columns=_CHECK_COLUMNS)
