"""Checks 1 and 2: every answer has the documented shape; throttles echo the configuration."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
]  # fmt: skip
_METADATA_COLUMNS = [
    "request_id", "case", "m_duration", "m_limit", "m_throttle_message", "m_vary_by", "m_wait",
    "wait_ns", "m_wait_sec", "wait_sec",
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
    if problems:
        summary = "; ".join(text for text, _ in problems) + note
        return Finding("well-formed", title, Outcome.FAIL, summary, _evidence(problems[0][1]))
    return Finding(
        "well-formed", title, Outcome.PASS, f"{len(answered)} answers match the contract{note}"
    )


def duration_text_ok(texts: pd.Series, values: pd.Series) -> pd.Series:
    """Whether each text is Go's canonical ``Duration.String()`` of its parsed value.

    ``values`` were parsed from ``texts``, so a text of canonical shape that parsed is the
    canonical text of its value (``CANONICAL_DURATION`` is tested against the formatter).
    """
    shaped = texts.astype("string").str.fullmatch(CANONICAL_DURATION).fillna(False)
    return (shaped & values.notna()).astype(bool)


def seconds_text_ok(texts: pd.Series, values: pd.Series, duration_ns: pd.Series) -> pd.Series:
    """``*_sec`` is Go's ``%f`` (six decimals) of the same duration."""
    shaped = texts.astype("string").str.fullmatch(SECONDS_TEXT).fillna(False)
    close = (values.astype(float) - duration_ns.astype(float) / 1e9).abs() <= 5.01e-7
    return shaped & close.fillna(False)


def throttle_metadata_finding(data: CheckInput) -> Finding:
    title = "Throttle metadata echoes the configuration"
    chats = data.chats
    throttled = chats.loc[chats["outcome"] == "throttled", _METADATA_COLUMNS]
    if throttled.empty:
        return Finding("throttle-metadata", title, Outcome.SKIPPED, "no throttle in this run")
    tolerance = data.tolerance
    complaints: dict[str, pd.DataFrame] = {}
    for case_name, rows in throttled.groupby("case"):
        case = data.cases.get(str(case_name))
        if case is None or case.rate is None:
            complaints["throttled although the case has no rate limit"] = rows
            continue
        rate = case.rate
        vary = rows["m_vary_by"].astype("string").fillna("")
        checks = {
            f"duration is not {rate.canonical_duration!r}": rows["m_duration"]
            != rate.canonical_duration,
            f"limit is not '{rate.limit}'": rows["m_limit"] != str(rate.limit),
            "throttle_message is not the configured one": rows["m_throttle_message"]
            != rate.throttle_message,
            f"vary_by is not {rate.vary_by or 'unset'!r}": ~vary.isin(UNSPECIFIED_VARY)
            if not rate.vary_by
            else vary != rate.vary_by,
            "wait is not a canonical Go duration": ~duration_text_ok(
                rows["m_wait"], rows["wait_ns"]
            ),
            f"wait is not in (0, {rate.canonical_duration}]": ~(
                (rows["wait_ns"] > 0)
                & (rows["wait_ns"] <= tolerance.long(rate.duration_ns) + tolerance.granularity_ns)
            ).fillna(False),
            "wait_sec is not wait in six-decimal seconds": ~seconds_text_ok(
                rows["m_wait_sec"], rows["wait_sec"], rows["wait_ns"]
            ),
        }
        for text, mask in checks.items():
            bad = rows[np.asarray(mask, dtype=bool)]
            if len(bad):
                complaints[f"case {case_name!r}: {text}"] = bad
    if complaints:
        first = next(iter(complaints.values()))
        summary = "; ".join(f"{text} ({len(rows)}x)" for text, rows in complaints.items())
        example = first.iloc[0]
        shown = {k: example[f"m_{k}"] for k in ("duration", "limit", "vary_by", "wait", "wait_sec")}
        return Finding(
            "throttle-metadata", title, Outcome.FAIL, summary, _evidence(first),
            {"example_metadata": {k: None if v is None else str(v) for k, v in shown.items()}},
        )  # fmt: skip
    return Finding(
        "throttle-metadata", title, Outcome.PASS,
        f"{len(throttled)} throttles echo duration, limit, message and vary_by; waits well-formed",
    )  # fmt: skip
