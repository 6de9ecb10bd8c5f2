"""Checks 1 and 2: every answer has the documented shape; throttles echo the configuration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.api.answer import UNREAD_BODY
from harness.api.duration import CANONICAL_DURATION
from harness.api.status import DOMAIN, GrpcCode
from harness.conformance.findings import MAX_EVIDENCE, Finding, Outcome
from harness.conformance.spec import CheckInput

__all__ = [
    "duration_text_ok",
    "seconds_text_ok",
    "throttle_metadata_finding",
    "well_formed_finding",
]

SECONDS_TEXT = r"^\d+\.\d{6}$"
UNSPECIFIED_VARY = {"", "RATE_LIMIT_VARY_BY_UNSPECIFIED"}
_ANSWER_COLUMNS = [
    "request_id", "outcome", "http_status", "grpc_code", "domain", "body_valid", "body_error",
    "error_class",
]  # fmt: skip


def _evidence(rows: pd.DataFrame) -> tuple[str, ...]:
    return tuple(rows["request_id"].astype(str).head(MAX_EVIDENCE))


def well_formed_finding(data: CheckInput) -> Finding:
    title = "Answers are well-formed"
    records = data.records
    # Only the columns judged here: a row filter copies what it keeps.
    answered = records.loc[records["outcome"] != "transport_error", _ANSWER_COLUMNS]
    if answered.empty:
        return Finding("well-formed", title, Outcome.INCONCLUSIVE, "no request got an answer")
    problems: list[tuple[str, pd.DataFrame]] = []
    server = answered[answered["outcome"] == "server_error"]
    if len(server):
        problems.append((f"{len(server)} answers were 5xx (never a way to throttle)", server))
    # A body cut short (by the target, or by our size bound) is not judged: only its status.
    unread_mask = answered["error_class"].isin(UNREAD_BODY)
    unread = int(unread_mask.sum())
    answered = answered[~unread_mask]
    invalid = answered[~answered["body_valid"].astype(bool)]
    if len(invalid):
        first = str(invalid["body_error"].iloc[0])
        problems.append((f"{len(invalid)} bodies break the contract (first: {first})", invalid))
    limits = answered[answered["outcome"].isin(["throttled", "out_of_quota"])]
    wrong = limits[
        (limits["grpc_code"] != GrpcCode.RESOURCE_EXHAUSTED) | (limits["domain"] != DOMAIN)
    ]
    if len(wrong):
        problems.append((f"{len(wrong)} 429s without code 8 or domain {DOMAIN!r}", wrong))
    unknown = answered[(answered["http_status"] == 429) & (answered["outcome"] == "client_error")]
    if len(unknown):
        problems.append((f"{len(unknown)} 429s without a documented reason", unknown))
    transport = int((records["outcome"] == "transport_error").sum())
    note = f"; {transport} requests got no answer" if transport else ""
    note += f"; {unread} bodies not read whole (truncated or too large)" if unread else ""
    if problems:
        summary = "; ".join(text for text, _ in problems) + note
        return Finding("well-formed", title, Outcome.FAIL, summary, _evidence(problems[0][1]))
    return Finding(
        "well-formed", title, Outcome.PASS, f"{len(answered)} answers match the contract{note}"
    )


def _fullmatch(texts: pd.Series, pattern: str) -> pd.Series:
    """Whether each text matches; missing texts do not. Vectorised on Arrow-backed text."""
    if texts.dtype == object:
        texts = texts.astype("string")
    matched = texts.str.fullmatch(pattern)
    return pd.Series(np.asarray(matched.fillna(False), dtype=bool), index=texts.index)


def duration_text_ok(texts: pd.Series, values: pd.Series) -> pd.Series:
    """Whether each text is Go's canonical ``Duration.String()`` of its parsed value.

    ``values`` were parsed from ``texts``, so a text of canonical shape that parsed is the
    canonical text of its value (``CANONICAL_DURATION`` is tested against the formatter).
    """
    shaped = _fullmatch(texts, CANONICAL_DURATION)
    return shaped & values.notna().to_numpy()


def seconds_text_ok(texts: pd.Series, values: pd.Series, duration_ns: pd.Series) -> pd.Series:
    """``*_sec`` is Go's ``%f`` (six decimals) of the same duration."""
    shaped = _fullmatch(texts, SECONDS_TEXT)
    close = (values.astype(float) - duration_ns.astype(float) / 1e9).abs() <= 5.01e-7
    return shaped & close.fillna(False)


def throttle_metadata_finding(data: CheckInput) -> Finding:
    """Judged column by column with row masks: no copy of millions of throttle rows."""
    title = "Throttle metadata echoes the configuration"
    chats = data.chats
    throttled = np.asarray(chats["outcome"] == "throttled", dtype=bool)
    if not throttled.any():
        unanswered = int((chats["outcome"] == "transport_error").sum())
        if unanswered:
            return Finding(
                "throttle-metadata", title, Outcome.INCONCLUSIVE,
                f"no throttle seen, and {unanswered} chat requests got no answer",
            )  # fmt: skip
        return Finding("throttle-metadata", title, Outcome.SKIPPED, "no throttle in this run")
    tolerance = data.tolerance
    # The shape of the texts does not depend on the case: judged once for every row.
    wait_shaped = np.asarray(duration_text_ok(chats["m_wait"], chats["wait_ns"]), dtype=bool)
    seconds_shaped = np.asarray(
        seconds_text_ok(chats["m_wait_sec"], chats["wait_sec"], chats["wait_ns"]), dtype=bool
    )
    wait = chats["wait_ns"].to_numpy(np.float64, na_value=np.nan)
    vary = chats["m_vary_by"]
    vary_unset = np.asarray(vary.isin(UNSPECIFIED_VARY) | vary.isna(), dtype=bool)
    complaints: dict[str, np.ndarray] = {}
    for case_name in pd.unique(chats["case"][throttled]):
        in_case = throttled & np.asarray(chats["case"] == case_name, dtype=bool)
        case = data.cases.get(str(case_name))
        if case is None or case.rate is None:
            complaints["throttled although the case has no rate limit"] = in_case
            continue
        rate = case.rate
        longest = tolerance.long(rate.duration_ns) + tolerance.granularity_ns
        checks = {
            f"duration is not {rate.canonical_duration!r}": chats["m_duration"]
            != rate.canonical_duration,
            f"limit is not '{rate.limit}'": chats["m_limit"] != str(rate.limit),
            "throttle_message is not the configured one": chats["m_throttle_message"]
            != rate.throttle_message,
            f"vary_by is not {rate.vary_by or 'unset'!r}": ~vary_unset
            if not rate.vary_by
            else vary != rate.vary_by,
            "wait is not a canonical Go duration": ~wait_shaped,
            f"wait is not in (0, {rate.canonical_duration}]": ~((wait > 0) & (wait <= longest)),
            "wait_sec is not wait in six-decimal seconds": ~seconds_shaped,
        }
        for text, mask in checks.items():
            bad = in_case & np.asarray(mask, dtype=bool)
            if bad.any():
                complaints[f"case {case_name!r}: {text}"] = bad
    if complaints:
        first = chats[next(iter(complaints.values()))]
        summary = "; ".join(f"{text} ({int(bad.sum())}x)" for text, bad in complaints.items())
        example = first.iloc[0]
        shown = {k: example[f"m_{k}"] for k in ("duration", "limit", "vary_by", "wait", "wait_sec")}
        return Finding(
            "throttle-metadata", title, Outcome.FAIL, summary, _evidence(first.head(MAX_EVIDENCE)),
            {"example_metadata": {k: None if pd.isna(v) else str(v) for k, v in shown.items()}},
        )  # fmt: skip
    return Finding(
        "throttle-metadata", title, Outcome.PASS,
        f"{int(throttled.sum())} throttles echo duration, limit, message and vary_by; "
        "waits well-formed",
    )  # fmt: skip
