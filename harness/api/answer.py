"""One HTTP answer of the API as the harness records it: outcome, Status fields, 429 metadata.

The one classifier of an answer (pure; it runs on the load's hot path): the load's records, the
set-up's probes and the client's errors (``error_answers.py`` takes ``outcome_of``) all read an
answer through it. The body is parsed once; 429 metadata is kept both as the raw text and as parsed
values (``metadata_columns.py``), so the checks can judge the format (Go's canonical duration
text) as well as the number.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, NamedTuple

from pydantic import ValidationError

from harness.api.chat import ChatResponse
from harness.api.chatbot import ChatbotBody, TokenBody, WireModel
from harness.api.metadata_columns import NO_METADATA, metadata_columns
from harness.api.status import REASON_OUT_OF_QUOTA, REASON_THROTTLING, Status

__all__ = [
    "MAX_BODY_BYTES",
    "UNREAD_BODY",
    "Answer",
    "ErrorClass",
    "Int32",
    "Outcome",
    "classify_answer",
    "outcome_of",
    "transport_answer",
    "unread_answer",
]

# Bodies are read up to this size and no further, so a target streaming gigabytes cannot exhaust
# the harness's memory; the API's answers are a few KiB.
MAX_BODY_BYTES = 1 << 20

# An integer column stored as a 32-bit integer (``harness.run`` derives the record schema from
# these annotations: int is int64, float float64, str string, bool boolean).
Int32 = Annotated[int, "int32"]


class Outcome(StrEnum):
    """What the target decided, as far as the answer shows it."""

    OK = "ok"  # a 2xx
    THROTTLED = "throttled"  # a 429 with the throttling reason
    OUT_OF_QUOTA = "out_of_quota"  # a 429 with the out-of-quota reason
    CLIENT_ERROR = "client_error"  # any other 4xx, or a 429 with another reason
    SERVER_ERROR = "server_error"  # a 5xx, even one that says "throttle"
    TRANSPORT_ERROR = "transport_error"  # no HTTP answer at all


class ErrorClass(StrEnum):
    """Why an answer is not a whole, parseable one ("" when it is).

    No answer at all (outcome transport_error): timeout | connect (refused, unreachable) |
    reset (reset or closed before any answer) | truncated (closed before the whole answer) |
    protocol (not HTTP) | interrupted (our own stop) | other. An answer whose status is known but
    whose body is not usable: truncated or too_large (the body was not read whole, so it is not
    judged) | not_json | empty (judged: they break the contract).
    """

    NONE = ""
    TIMEOUT = "timeout"
    CONNECT = "connect"
    RESET = "reset"
    TRUNCATED = "truncated"
    PROTOCOL = "protocol"
    INTERRUPTED = "interrupted"
    OTHER = "other"
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    EMPTY = "empty"


# A body that was not read whole: its status stands, its contents are not judged.
UNREAD_BODY = frozenset({ErrorClass.TRUNCATED, ErrorClass.TOO_LARGE})

# The model a 2xx body of each endpoint must validate against; None: any JSON object.
_SUCCESS_MODELS: dict[str, type[WireModel] | None] = {
    "chat": ChatResponse,
    "create_chatbot": ChatbotBody,
    "get_chatbot": ChatbotBody,
    "create_token": TokenBody,
    "delete_chatbot": None,
}


class Answer(NamedTuple):
    """The answer columns of a record (``harness.run.records``), declared here and only here."""

    http_status: Int32
    outcome: Outcome
    grpc_code: Int32 | None
    message: str | None
    reason: str | None
    domain: str | None
    body_valid: bool
    body_error: str
    error_class: ErrorClass
    response_bytes: int
    m_duration: str | None
    duration_ns: int | None
    m_limit: str | None
    limit: int | None
    m_throttle_message: str | None
    m_vary_by: str | None
    m_wait: str | None
    wait_ns: int | None
    m_wait_sec: str | None
    wait_sec: float | None
    m_reset_at: str | None
    reset_at_ns: int | None
    reset_at_offset_s: Int32 | None
    m_reset_in: str | None
    reset_in_ns: int | None
    m_reset_in_sec: str | None
    reset_in_sec: float | None
    m_other: str
    detail: str
    answer_chars: Int32 | None  # an admitted chat's answer: its length in characters
    citations: Int32 | None  # and how many citations it gave


def transport_answer(error_class: ErrorClass, error_text: str) -> Answer:
    """The answer columns of a request that got no HTTP answer at all."""
    return Answer(
        0,
        Outcome.TRANSPORT_ERROR,
        None,
        None,
        None,
        None,
        False,
        error_text[:200],
        error_class,
        0,
        *NO_METADATA,
        "",
        None,
        None,
    )


def unread_answer(http_status: int, error_class: ErrorClass, error_text: str, size: int) -> Answer:
    """The answer columns of an answer whose status arrived but whose body could not be read whole.

    The status still says what the target decided (a 2xx admitted the request); the body is not
    judged, and a 429 without its reason counts as neither throttle nor quota refusal.
    """
    return Answer(
        http_status,
        outcome_of(http_status, None),
        None,
        None,
        None,
        None,
        False,
        error_text[:200],
        error_class,
        size,
        *NO_METADATA,
        "",
        None,
        None,
    )


def outcome_of(http_status: int, reason: str | None) -> Outcome:
    """The outcome of an HTTP status and ErrorInfo reason: the status first, then a 429's reason."""
    if 200 <= http_status < 300:
        return Outcome.OK
    if http_status >= 500:
        return Outcome.SERVER_ERROR
    if http_status == 429 and reason == REASON_THROTTLING:
        return Outcome.THROTTLED
    if http_status == 429 and reason == REASON_OUT_OF_QUOTA:
        return Outcome.OUT_OF_QUOTA
    return Outcome.CLIENT_ERROR


def _error_answer(http_status: int, body: bytes) -> Answer:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deep for json
        return Answer(
            http_status,
            outcome_of(http_status, None),
            None,
            None,
            None,
            None,
            False,
            "body is empty" if not body else "body is not JSON",
            _body_class(body),
            len(body),
            *NO_METADATA,
            "",
            None,
            None,
        )
    error = ""
    try:
        status = Status.model_validate(document)
    except ValidationError as exc:
        error = f"not a google.rpc.Status: {_first_error(exc)}"
        status = None
    info = status.error_info() if status is not None else None
    raw_info = _raw_error_info(document)
    reason = raw_info.get("reason") if raw_info is not None else None
    reason = reason if isinstance(reason, str) else None
    domain = raw_info.get("domain") if raw_info is not None else None
    metadata = raw_info.get("metadata") if raw_info is not None else None
    if isinstance(metadata, dict):
        columns, complaint = metadata_columns(metadata)
        error = error or complaint
    else:
        columns = NO_METADATA
    code = document.get("code") if isinstance(document, dict) else None
    message = document.get("message") if isinstance(document, dict) else None
    head = (
        http_status,
        outcome_of(http_status, reason),
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        message if isinstance(message, str) else None,
        reason,
        domain if isinstance(domain, str) else None,
        not error and (info is not None or http_status != 429),
        error or ("" if info is not None or http_status != 429 else "429 without an ErrorInfo"),
        ErrorClass.NONE,
        len(body),
    )
    return Answer._make((*head, *columns, "", None, None))


def _raw_error_info(document: Any) -> dict[str, Any] | None:
    """The first detail calling itself an ErrorInfo, read leniently so odd answers still count."""
    if not isinstance(document, dict) or not isinstance(document.get("details"), list):
        return None
    for detail in document["details"]:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(
            "google.rpc.ErrorInfo"
        ):
            return detail
    return None


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{location}: {first['msg']}"


# A target often repeats a success body word for word (the emulator always does); validating it
# once is enough. Answers are immutable tuples, so sharing one is safe.
@lru_cache(maxsize=1024)
def _success_answer(kind: str, http_status: int, body: bytes) -> Answer:
    model = _SUCCESS_MODELS.get(kind)
    error = ""
    detail = ""
    answer_chars: int | None = None
    citations: int | None = None
    try:
        if model is None:
            if not isinstance(json.loads(body), dict):
                error = "body is not a JSON object"
        else:
            parsed = model.model_validate_json(body)
            if isinstance(parsed, ChatbotBody):
                detail = _settings_detail(parsed)
            elif isinstance(parsed, ChatResponse):
                answer_chars, citations = len(parsed.answer), len(parsed.citations)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            error = "body is empty" if not body else "body is not JSON"
        else:
            error = f"not a {model.__name__ if model else 'JSON object'}: {_first_error(exc)}"
    except (ValueError, RecursionError):
        error = "body is empty" if not body else "body is not JSON"
    unusable = (
        _body_class(body) if error in ("body is empty", "body is not JSON") else ErrorClass.NONE
    )
    return Answer(
        http_status,
        Outcome.OK,
        None,
        None,
        None,
        None,
        not error,
        error,
        unusable,
        len(body),
        *NO_METADATA,
        detail,
        answer_chars,
        citations,
    )


def _body_class(body: bytes) -> ErrorClass:
    return ErrorClass.EMPTY if not body else ErrorClass.NOT_JSON


def _settings_detail(body: ChatbotBody) -> str:
    chatbot = body.chatbot
    settings = {
        "rate_limit": chatbot.rate_limit.to_wire() if chatbot.rate_limit else None,
        "quota_limit": chatbot.quota_limit.to_wire() if chatbot.quota_limit else None,
    }
    return json.dumps(settings, sort_keys=True)


def classify_answer(kind: str, http_status: int, body: bytes) -> Answer:
    """The answer columns for an HTTP answer of ``http_status`` with ``body`` to ``kind``."""
    if 200 <= http_status < 300:
        return _success_answer(kind, http_status, body)
    return _error_answer(http_status, body)
