"""The per-case summary printed at the end of a run and shown in the report's overview."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict

from harness.run.records import LATE_NS, Outcome, is_load_chat

__all__ = [
    "COUNT_COLUMNS",
    "OUTCOMES",
    "REFUSAL_COLUMNS",
    "RefusedChats",
    "late_sends",
    "refused_chats",
    "summarise",
]

# What ``refused_chats`` reads: the checks do not need a message, so it is read only for them.
REFUSAL_COLUMNS = ("kind", "phase", "case", "outcome", "http_status", "grpc_code", "message")

OUTCOMES = tuple(outcome.value for outcome in Outcome)
# The summary's count columns: every outcome, and the admitted chats that answered nothing.
COUNT_COLUMNS = (OUTCOMES[0], "empty_answer", *OUTCOMES[1:])


def summarise(records: pd.DataFrame) -> pd.DataFrame:
    """Per case: requests, each outcome, and latency percentiles (ms) from every request."""
    chats = records[is_load_chat(records)]
    if chats.empty:
        return pd.DataFrame(
            columns=["case", "requests", *COUNT_COLUMNS, "p50_ms", "p95_ms", "p99_ms"]
        )
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
    # Admitted, but the model said nothing: counted in "ok" (the limiter admitted it) and shown
    # on its own, since it is no answer (``well-formed`` fails it unless the case allows it).
    chars = chats["answer_chars"] if "answer_chars" in chats else pd.Series(pd.NA, chats.index)
    empty = (chats["outcome"] == Outcome.OK.value) & (chars == 0).fillna(False).astype(bool)
    per_case = empty.groupby(chats["case"]).sum().reindex(summary.index, fill_value=0)
    summary.insert(list(summary.columns).index("ok") + 1, "empty_answer", per_case.astype(int))
    return summary.reset_index()


def late_sends(records: pd.DataFrame) -> dict[str, int]:
    """Per open-model case: the sends that left more than ``LATE_NS`` after their intended
    instant (every sender of the key was busy, or the process fell behind its schedule)."""
    if "intended_send_mono_ns" not in records:
        return {}
    # Only the three columns read: a row filter copies every column it keeps.
    columns = ["case", "send_mono_ns", "intended_send_mono_ns"]
    scheduled = records.loc[records["intended_send_mono_ns"].notna(), columns]
    late = scheduled["send_mono_ns"] - scheduled["intended_send_mono_ns"] > LATE_NS
    counts = late.groupby(scheduled["case"].astype(str)).sum()
    return {str(case): int(count) for case, count in counts.items()}


class RefusedChats(BaseModel):
    """Load chats of one case the target refused alike with a 4xx that is neither a throttle
    nor an out-of-quota answer: a chatbot still training (400, code 9), a body it found
    malformed. Named in the summary and the verdict, so they never hide in ``client_error``."""

    model_config = ConfigDict(frozen=True)

    case: str
    http_status: int
    grpc_code: int | None
    message: str
    count: int

    def describe(self) -> str:
        """ "case 'burst': 12 × 400 code 9 ('chatbot is training')"."""
        code = f" code {self.grpc_code}" if self.grpc_code is not None else ""
        message = f" ({self.message!r})" if self.message else ""
        return f"case {self.case!r}: {self.count} × {self.http_status}{code}{message}"


def refused_chats(records: pd.DataFrame) -> list[RefusedChats]:
    """The load's chats answered with a 4xx other than a throttle or an out-of-quota answer,
    counted per case, status, code and message (``REFUSAL_COLUMNS``)."""
    refused = records[is_load_chat(records) & (records["outcome"] == Outcome.CLIENT_ERROR.value)]
    if refused.empty:
        return []
    groups = pd.DataFrame(
        {
            "case": refused["case"].astype(str),
            "http_status": refused["http_status"].astype(int),
            "grpc_code": refused["grpc_code"].fillna(-1).astype(int),
            "message": refused["message"].astype(object).fillna("").astype(str),
        }
    ).value_counts(sort=False)
    counted = groups.reset_index(name="refused").sort_values(["case", "http_status", "grpc_code"])
    return [
        RefusedChats(
            case=str(case),
            http_status=int(status),
            grpc_code=None if int(code) < 0 else int(code),
            message=str(message),
            count=int(count),
        )
        for case, status, code, message, count in counted.itertuples(index=False, name=None)
    ]
