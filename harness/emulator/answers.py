"""What the emulator says: a status and a JSON body, built here so every answer has one shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.api.chatbot import ChatbotStatus
from harness.api.duration import format_duration, format_seconds
from harness.api.status import (
    BAD_REQUEST_TYPE,
    DOMAIN,
    ERROR_INFO_TYPE,
    GRPC_TO_HTTP,
    REASON_OUT_OF_QUOTA,
    REASON_THROTTLING,
    GrpcCode,
)
from harness.api.timestamps import format_rfc3339
from harness.emulator.policy import Policy
from harness.emulator.quota import QuotaExhausted

__all__ = [
    "Answer",
    "Violation",
    "capacity_exhausted",
    "chat_answer",
    "encode",
    "error_answer",
    "invalid_argument",
    "not_ready",
    "ok",
    "out_of_quota",
    "round_up_to_micros",
    "throttled",
]

MICROSECOND_NS = 1_000
SECOND_NS = 1_000_000_000
DEFAULT_THROTTLE_MESSAGE = "rate limit exceeded"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Violation:
    """One ``google.rpc.BadRequest.FieldViolation``: the field path and what is expected there."""

    field: str
    description: str


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def ok(body: Any) -> Answer:
    return Answer(200, encode(body))


def chat_answer(answer: str, citations_json: bytes) -> Answer:
    """The prompts:chat answer; the citations come pre-encoded, as they never change."""
    return Answer(200, b'{"answer":' + encode(answer) + b',"citations":' + citations_json + b"}")


def error_answer(
    code: int,
    message: str,
    details: list[dict[str, Any]] | None = None,
    *,
    http_status: int | None = None,
) -> Answer:
    """A ``google.rpc.Status`` answer, with the HTTP status grpc-gateway gives its code."""
    body = {"code": code, "message": message, "details": details or []}
    return Answer(http_status or GRPC_TO_HTTP[code], encode(body))


def invalid_argument(violations: list[Violation]) -> Answer:
    described = "; ".join(f"{v.field or 'body'}: {v.description}" for v in violations[:3])
    more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
    detail = {
        "@type": BAD_REQUEST_TYPE,
        "field_violations": [{"field": v.field, "description": v.description} for v in violations],
    }
    return error_answer(GrpcCode.INVALID_ARGUMENT, f"invalid argument: {described}{more}", [detail])


def not_ready(status: ChatbotStatus) -> Answer:
    """A chat on a chatbot that cannot answer yet (or ever): 400, code 9, no budget spent."""
    if status is ChatbotStatus.TRAINING:
        message = (
            "the chatbot is still training (CHATBOT_STATUS_TRAINING): "
            "it can chat once its status is CHATBOT_STATUS_READY"
        )
    else:
        message = f"the chatbot cannot chat: its training failed ({status.value})"
    return error_answer(GrpcCode.FAILED_PRECONDITION, message)


# The emulator's own refusals when one of its bounds is reached: not the API's domain, so no
# client can mistake them for a throttle or a quota answer.
EMULATOR_DOMAIN = "emulator.aisk-harness"
REASON_EMULATOR_CAPACITY = "EMULATOR_CAPACITY"


def capacity_exhausted(resource: str, limit: int, message: str) -> Answer:
    """429 (code 8) with an ErrorInfo naming which bound of the emulator was reached."""
    info = {
        "@type": ERROR_INFO_TYPE,
        "reason": REASON_EMULATOR_CAPACITY,
        "domain": EMULATOR_DOMAIN,
        "metadata": {"resource": resource, "limit": str(limit)},
    }
    return error_answer(GrpcCode.RESOURCE_EXHAUSTED, message, [info])


def round_up_to_micros(ns: int) -> int:
    """Waits are reported in whole microseconds, rounded up so a retry after them is admitted."""
    return -(-ns // MICROSECOND_NS) * MICROSECOND_NS


def _error_info(reason: str, metadata: dict[str, str]) -> dict[str, Any]:
    return {"@type": ERROR_INFO_TYPE, "reason": reason, "domain": DOMAIN, "metadata": metadata}


def throttled(
    *,
    policy: Policy,
    limit: int,
    duration_ns: int,
    throttle_message: str,
    vary_by: str,
    true_wait_ns: int,
) -> Answer:
    """The documented throttle answer (or the fault's version of it)."""
    wait_ns = int(round_up_to_micros(true_wait_ns) * policy.wait_factor)
    if policy.wait_whole_seconds:
        wait_ns -= wait_ns % SECOND_NS
    duration_text = (
        f"{duration_ns / SECOND_NS:g}s"
        if policy.duration_as_seconds
        else format_duration(duration_ns)
    )
    wait_sec = f"{wait_ns / 1_000_000:.3f}" if policy.wait_sec_millis else format_seconds(wait_ns)
    metadata = {
        "duration": duration_text,
        "limit": str(limit),
        "throttle_message": (
            DEFAULT_THROTTLE_MESSAGE if policy.throttle_message_default else throttle_message
        ),
        "vary_by": vary_by,
        "wait": format_duration(wait_ns),
        "wait_sec": wait_sec,
    }
    body = {
        "code": policy.throttle_grpc_code,
        "message": "throttle",
        "details": [_error_info(REASON_THROTTLING, metadata)],
    }
    return Answer(policy.throttle_http_status, encode(body))


def out_of_quota(refusal: QuotaExhausted) -> Answer:
    """The documented out-of-quota answer; ``reset_at`` keeps the offset of the refusal's zone."""
    reset_in_ns = round_up_to_micros(refusal.reset_in_ns)
    metadata = {
        "limit": str(refusal.limit),
        "reset_at": format_rfc3339(refusal.reset_at),
        "reset_in": format_duration(reset_in_ns),
        "reset_in_sec": format_seconds(reset_in_ns),
    }
    return error_answer(
        GrpcCode.RESOURCE_EXHAUSTED, "out of quota", [_error_info(REASON_OUT_OF_QUOTA, metadata)]
    )
