"""The per-case summary printed at the end of a run and shown in the report's overview."""

from __future__ import annotations

import pandas as pd

from harness.run.records import LATE_NS, Outcome, is_load_chat

__all__ = ["OUTCOMES", "late_sends", "summarise"]

OUTCOMES = tuple(outcome.value for outcome in Outcome)


def summarise(records: pd.DataFrame) -> pd.DataFrame:
    """Per case: requests, each outcome, and latency percentiles (ms) from every request."""
    chats = records[is_load_chat(records)]
    if chats.empty:
        return pd.DataFrame(columns=["case", "requests", *OUTCOMES, "p50_ms", "p95_ms", "p99_ms"])
    counts = chats.pivot_table(
        index="case", columns="outcome", values="request_id", aggfunc="count"
    )
    counts = counts.reindex(columns=list(OUTCOMES), fill_value=0).fillna(0).astype(int)
    by_case = chats.groupby("case")["latency_ms"]
    latency = pd.DataFrame(
        {f"p{round(q * 100)}_ms": by_case.quantile(q) for q in (0.5, 0.95, 0.99)}
    )
    summary = counts.join(latency)
    summary.insert(0, "requests", counts.sum(axis=1))
    return summary.reset_index()


def late_sends(records: pd.DataFrame) -> dict[str, int]:
    """Per open-model case: the sends that left more than ``LATE_NS`` after their intended
    instant (every sender of the key was busy, or the process fell behind its schedule)."""
    if "intended_send_mono_ns" not in records:
        return {}
    scheduled = records[records["intended_send_mono_ns"].notna()]
    late = scheduled["send_mono_ns"] - scheduled["intended_send_mono_ns"] > LATE_NS
    counts = late.groupby(scheduled["case"].astype(str)).sum()
    return {str(case): int(count) for case, count in counts.items()}
