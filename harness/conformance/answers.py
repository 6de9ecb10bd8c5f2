"""Checks 1 and 2: every answer has the documented shape; throttles echo the configuration."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.api.answer import UNREAD_BODY
from harness.api.status import DOMAIN, GrpcCode
from harness.conformance.context import CheckContext
from harness.conformance.evidence_rows import first_rows, rows_evidence, shown
from harness.conformance.findings import Evidence, Finding, Outcome, failure
from harness.conformance.power import REMEDY_RATE, Power, by_case, case_power, with_power
from harness.conformance.power import throttled as power_throttled
from harness.conformance.registry import check
from harness.conformance.spec import RateSpec
from harness.conformance.text_shapes import duration_text_ok, seconds_text_ok

__all__ = [
    "AnswerProblem",
    "MetadataProblem",
    "RowRule",
    "duration_text_ok",
    "seconds_text_ok",
    "throttle_metadata_finding",
    "well_formed_finding",
]

UNSPECIFIED_VARY = {"", "RATE_LIMIT_VARY_BY_UNSPECIFIED"}
Mask = npt.NDArray[np.bool_]


class AnswerProblem(StrEnum):
    SERVER_ERROR = "server-error"
    INVALID_BODY = "invalid-body"
    LIMIT_STATUS = "limit-status"  # a throttle or quota refusal without code 8 or the domain
    UNDOCUMENTED_REASON = "undocumented-reason"
    EMPTY_ANSWER = "empty-answer"  # an admitted chat whose answer is empty


class MetadataProblem(StrEnum):
    NO_RATE_LIMIT = "no-rate-limit"
    DURATION = "duration"
    LIMIT = "limit"
    THROTTLE_MESSAGE = "throttle-message"
    VARY_BY = "vary-by"
    WAIT_TEXT = "wait-text"
    WAIT_RANGE = "wait-range"
    WAIT_SEC = "wait-sec"


def _empty_answers(
    records: pd.DataFrame, answered: Mask, allowed: set[str]
) -> list[tuple[str, Evidence]]:
    """Admitted chats that answered nothing, in cases whose chat does not allow it."""
    chars = records["answer_chars"]
    empty_mask = answered & _mask(
        (records["kind"] == "chat")
        & (records["outcome"] == "ok")
        & chars.notna()
        & (chars == 0)
        & ~records["case"].isin(allowed)
    )
    if not empty_mask.any():
        return []
    empty = records.loc[empty_mask, ["request_id", "case", "key"]]
    expected = "an admitted chat answers something (or the scenario's chat allows empty answers)"
    proofs = [
        rows_evidence(AnswerProblem.EMPTY_ANSWER, rows, expected, 'answer ""')
        for _, rows in empty.groupby("case", observed=True, sort=True)
    ]
    cases = ", ".join(proof.case for proof in proofs)
    return [
        (f"{len(empty)} admitted chats answered nothing (an empty answer; {cases})", proof)
        for proof in proofs
    ]


def _mask(values: pd.Series | Mask) -> Mask:
    return np.asarray(values, dtype=bool)


def _answer_problems(
    records: pd.DataFrame, answered: Mask, allowed: set[str]
) -> list[tuple[str, Evidence]]:
    """``answered``: which records got an answer; ``allowed``: the cases whose empty answers
    are answers. Judged with row masks: only the first rows breaking a rule are copied."""
    problems: list[tuple[str, Evidence]] = _empty_answers(records, answered, allowed)
    outcome = records["outcome"]
    server = answered & _mask(outcome == "server_error")
    if server.any():
        rows = first_rows(records, server)
        status = shown(rows["http_status"].iloc[0])
        proof = rows_evidence(AnswerProblem.SERVER_ERROR, rows, "no 5xx", f"HTTP {status}")
        problems.append((f"{int(server.sum())} answers were 5xx (never a way to throttle)", proof))
    # A body cut short (by the target, or by our size bound) is not judged: only its status.
    answered = answered & ~_mask(records["error_class"].isin(UNREAD_BODY))
    invalid = answered & ~_mask(records["body_valid"].astype(bool))
    if invalid.any():
        rows = first_rows(records, invalid)
        first = str(rows["body_error"].iloc[0])
        expected = "a body the contract documents"
        proof = rows_evidence(AnswerProblem.INVALID_BODY, rows, expected, first)
        problems.append((f"{int(invalid.sum())} bodies break the contract (first: {first})", proof))
    limits = answered & _mask(outcome.isin(["throttled", "out_of_quota"]))
    wrong = limits & _mask(
        (records["grpc_code"] != GrpcCode.RESOURCE_EXHAUSTED) | (records["domain"] != DOMAIN)
    )
    if wrong.any():
        rows = first_rows(records, wrong)
        got = f"code {shown(rows['grpc_code'].iloc[0])}, domain {shown(rows['domain'].iloc[0])}"
        expected = f"code {int(GrpcCode.RESOURCE_EXHAUSTED)}, domain {DOMAIN}"
        proof = rows_evidence(AnswerProblem.LIMIT_STATUS, rows, expected, got)
        problems.append((f"{int(wrong.sum())} 429s without code 8 or domain {DOMAIN!r}", proof))
    unknown = answered & _mask((records["http_status"] == 429) & (outcome == "client_error"))
    if unknown.any():
        expected = "a 429 that says throttling or out of quota"
        kind = AnswerProblem.UNDOCUMENTED_REASON
        rows = first_rows(records, unknown)
        proof = rows_evidence(kind, rows, expected, "a 429 with another reason")
        problems.append((f"{int(unknown.sum())} 429s without a documented reason", proof))
    return problems


@check(1, "well-formed", "Answers are well-formed")
def well_formed_finding(context: CheckContext) -> Finding:
    records = context.data.records
    answered = _mask(records["outcome"] != "transport_error")
    if not answered.any():
        return Finding(Outcome.INCONCLUSIVE, "no request got an answer")
    allowed = {name for name, case in context.data.cases.items() if case.allow_empty_answers}
    problems = _answer_problems(records, answered, allowed)
    unread = int((answered & _mask(records["error_class"].isin(UNREAD_BODY))).sum())
    transport = int((~answered).sum())
    note = f"; {transport} requests got no answer" if transport else ""
    note += f"; {unread} bodies not read whole (truncated or too large)" if unread else ""
    if problems:
        summary = "; ".join(dict.fromkeys(text for text, _ in problems)) + note
        return failure(summary, (proof for _, proof in problems))
    return Finding(Outcome.PASS, f"{int(answered.sum()) - unread} answers match the contract{note}")


@dataclass(frozen=True)
class _Shapes:
    """What of each chat's metadata does not depend on its case: judged once for every row."""

    wait_ns: npt.NDArray[np.float64]
    wait_shaped: npt.NDArray[np.bool_]
    seconds_shaped: npt.NDArray[np.bool_]
    vary_unset: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, chats: pd.DataFrame) -> _Shapes:
        vary, wait = chats["m_vary_by"], chats["wait_ns"]
        return cls(
            wait.to_numpy(np.float64, na_value=np.nan),
            np.asarray(duration_text_ok(chats["m_wait"], wait), dtype=bool),
            np.asarray(seconds_text_ok(chats["m_wait_sec"], chats["wait_sec"], wait), dtype=bool),
            np.asarray(vary.isin(UNSPECIFIED_VARY) | vary.isna(), dtype=bool),
        )


@dataclass(frozen=True, slots=True)
class RowRule:
    """A rule every row of a frame must keep: its kind, the complaint when broken, where it is
    broken (a boolean per row), what it expects, and the column whose value in the first row
    breaking it the evidence shows."""

    kind: str
    complaint: str
    broken: npt.ArrayLike
    expected: str
    shows: str


def _metadata_rules(
    chats: pd.DataFrame, shapes: _Shapes, rate: RateSpec, longest_ns: int
) -> list[RowRule]:
    """Every rule of one case, each broken where (among all chats: masked by case later)."""
    vary_wrong = ~shapes.vary_unset if not rate.vary_by else chats["m_vary_by"] != rate.vary_by
    duration, message, wait = rate.canonical_duration, rate.throttle_message, shapes.wait_ns
    return [
        RowRule(
            MetadataProblem.DURATION,
            f"duration is not {duration!r}",
            chats["m_duration"] != duration,
            duration,
            "m_duration",
        ),
        RowRule(
            MetadataProblem.LIMIT,
            f"limit is not '{rate.limit}'",
            chats["m_limit"] != str(rate.limit),
            str(rate.limit),
            "m_limit",
        ),
        RowRule(
            MetadataProblem.THROTTLE_MESSAGE,
            "throttle_message is not the configured one",
            chats["m_throttle_message"] != message,
            message,
            "m_throttle_message",
        ),
        RowRule(
            MetadataProblem.VARY_BY,
            f"vary_by is not {rate.vary_by or 'unset'!r}",
            vary_wrong,
            rate.vary_by or "unset",
            "m_vary_by",
        ),
        RowRule(
            MetadataProblem.WAIT_TEXT,
            "wait is not a canonical Go duration",
            ~shapes.wait_shaped,
            "a canonical Go duration",
            "m_wait",
        ),
        RowRule(
            MetadataProblem.WAIT_RANGE,
            f"wait is not in (0, {duration}]",
            ~((wait > 0) & (wait <= longest_ns)),
            f"in (0, {duration}]",
            "m_wait",
        ),
        RowRule(
            MetadataProblem.WAIT_SEC,
            "wait_sec is not wait in six-decimal seconds",
            ~shapes.seconds_shaped,
            "wait in six-decimal seconds",
            "m_wait_sec",
        ),
    ]


def _complaints(context: CheckContext, throttled: np.ndarray) -> list[tuple[str, int, Evidence]]:
    """Each broken rule of each case: its complaint, how many throttles broke it, its evidence
    (read from the first rows breaking it only: no copy of millions of throttle rows)."""
    chats, tolerance = context.data.chats, context.tolerance
    shapes = _Shapes.of(chats)
    found: list[tuple[str, int, Evidence]] = []
    for case_name in pd.unique(chats["case"][throttled]):
        in_case = throttled & np.asarray(chats["case"] == case_name, dtype=bool)
        case = context.data.cases.get(str(case_name))
        if case is None or case.rate is None:
            kind, expected = MetadataProblem.NO_RATE_LIMIT, "no throttle: the case has no limit"
            first = first_rows(chats, in_case)
            proof = rows_evidence(kind, first, expected, "throttled")
            text = f"case {case_name!r}: throttled although the case has no rate limit"
            found.append((text, int(in_case.sum()), proof))
            continue
        longest = tolerance.long(case.rate.duration_ns) + tolerance.granularity_ns
        for rule in _metadata_rules(chats, shapes, case.rate, longest):
            bad = in_case & np.asarray(rule.broken, dtype=bool)
            if bad.any():
                first = first_rows(chats, bad)
                observed = shown(first[rule.shows].iloc[0])
                proof = rows_evidence(rule.kind, first, rule.expected, observed)
                found.append((f"case {case_name!r}: {rule.complaint}", int(bad.sum()), proof))
    return found


@check(2, "throttle-metadata", "Throttle metadata echoes the configuration")
def throttle_metadata_finding(context: CheckContext) -> Finding:
    """Judged column by column with row masks: no copy of millions of throttle rows."""
    chats = context.data.chats
    # Each case's own configuration is echoed only in its own throttles (a minute's "1m0s").
    power = Power.of(
        case_power(
            case, keys, [power_throttled(b) for b in keys], "was never throttled", REMEDY_RATE
        )
        for case, keys in by_case(context.buckets).items()
    )
    throttled = np.asarray(chats["outcome"] == "throttled", dtype=bool)
    if not throttled.any():
        unanswered = int((chats["outcome"] == "transport_error").sum())
        if unanswered:
            why = f"no throttle seen, and {unanswered} chat requests got no answer"
            return with_power(Finding(Outcome.INCONCLUSIVE, why), power)
        # Skipped only without a rate-limited case; with one, it never reached its limit.
        return with_power(Finding(Outcome.SKIPPED, "no throttle in this run"), power)
    complaints = _complaints(context, throttled)
    if complaints:
        summary = "; ".join(f"{text} ({count}x)" for text, count, _ in complaints)
        return failure(summary, (proof for _, _, proof in complaints))
    return with_power(
        Finding(
            Outcome.PASS,
            f"{int(throttled.sum())} throttles echo duration, limit, message and vary_by; "
            "waits well-formed",
        ),
        power,
    )
