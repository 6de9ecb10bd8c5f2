"""Request bodies in, models or field violations out: every problem named with what is expected.

Pydantic reads the JSON (lax, as protojson is: ``"5"`` is a fine int32); the rules the schema
cannot say (required sub-objects, ranges, "required if enabled") are checked here, all at once, so
one 400 lists every violated field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TypeVar

from pydantic import ValidationError

from harness.api.chat import ChatRequest
from harness.api.chatbot import (
    Chatbot,
    ChatbotBody,
    Model,
    QuotaLimitReset,
    RateLimitVaryBy,
    Theme,
    WireModel,
)
from harness.api.duration import DurationError, parse_duration
from harness.emulator.answers import Violation

__all__ = [
    "MAX_DURATION_NS",
    "MIN_DURATION_NS",
    "TokenRequest",
    "chat_violations",
    "chatbot_violations",
    "parse",
    "validated",
]

INT32_MAX = 2**31 - 1
MIN_DURATION_NS = 1_000_000  # 1ms: shorter windows are below any network's resolution
MAX_DURATION_NS = 366 * 24 * 3600 * 1_000_000_000
MAX_TEXT = 4096
MAX_QUESTION = 16_384

M = TypeVar("M", bound=WireModel)


class TokenRequest(WireModel):
    """The body of ``POST /chatbots/{id}/token``: an empty JSON object (extra fields ignored)."""


def _path(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part and not part.startswith(("function-", "tagged-union")):
            text += f".{part}" if text else part
    return text


def parse(raw: bytes, model: type[M]) -> tuple[M | None, list[Violation]]:
    """The body as ``model``, or the violations that stop it from being one."""
    try:
        return model.model_validate_json(raw), []
    except ValidationError as exc:
        violations: list[Violation] = []
        for error in exc.errors(include_input=False, include_url=False):
            if error["type"] == "json_invalid":
                violations.append(Violation("", f"the body must be a JSON object: {error['msg']}"))
            elif error["type"] == "model_type" and not error["loc"]:
                violations.append(Violation("", "the body must be a JSON object"))
            else:
                violations.append(Violation(_path(error["loc"]), error["msg"]))
        return None, violations


def validated(
    raw: bytes, model: type[M], rules: Callable[[M], list[Violation]]
) -> tuple[M | None, list[Violation]]:
    """The body as ``model`` if it also obeys ``rules``, else None and every violation."""
    body, violations = parse(raw, model)
    if body is not None:
        violations = rules(body)
    return (body, []) if body is not None and not violations else (None, violations)


def _int_range(field: str, value: int, low: int, what: str) -> list[Violation]:
    if low <= value <= INT32_MAX:
        return []
    return [Violation(field, f"expected {what} between {low} and {INT32_MAX}, got {value}")]


def _text(field: str, value: str, limit: int = MAX_TEXT) -> list[Violation]:
    if len(value) <= limit:
        return []
    return [Violation(field, f"expected at most {limit} characters, got {len(value)}")]


def _one_of(field: str, enum_type: type[StrEnum]) -> Violation:
    return Violation(field, "expected one of " + ", ".join(member.value for member in enum_type))


def _required(field: str, what: str) -> Violation:
    return Violation(field, f"required: {what}")


def _setting_violations(chatbot: Chatbot) -> list[Violation]:
    setting = chatbot.setting
    if setting is None:
        return [_required("chatbot.setting", "the model and response length settings")]
    found: list[Violation] = []
    if setting.model != Model.LITE:
        found.append(Violation("chatbot.setting.model", f"expected {Model.LITE.value}"))
    if not 0.0 <= setting.creativity <= 1.0:
        found.append(Violation("chatbot.setting.creativity", "expected a number from 0 to 1"))
    found += _text("chatbot.setting.character_role", setting.character_role)
    found += _text("chatbot.setting.character_description", setting.character_description)
    length = setting.response_length
    if length is None:
        found.append(_required("chatbot.setting.response_length", "an object with 'enabled'"))
    else:
        field = "chatbot.setting.response_length"
        found += _int_range(f"{field}.input", length.input, 0, "a length")
        found += _int_range(f"{field}.output", length.output, 0, "a length")
        if length.enabled and length.output <= 0:
            found.append(_required(f"{field}.output", "a positive output length when enabled"))
    return found


def _appearance_violations(chatbot: Chatbot) -> list[Violation]:
    appearance = chatbot.appearance
    if appearance is None:
        return [_required("chatbot.appearance", "an object with 'enabled'")]
    if not appearance.enabled:
        return []
    if appearance.setting is None:
        return [_required("chatbot.appearance.setting", "the appearance when it is enabled")]
    found: list[Violation] = []
    if not isinstance(appearance.setting.theme, Theme):
        found.append(_one_of("chatbot.appearance.setting.theme", Theme))
    profile = appearance.setting.profile
    if profile is not None and profile.image is not None and not profile.image.id:
        found.append(_required("chatbot.appearance.setting.profile.image.id", "the image id"))
    return found


def _rate_limit_violations(chatbot: Chatbot) -> list[Violation]:
    rate_limit = chatbot.rate_limit
    if rate_limit is None:
        return [_required("chatbot.rate_limit", "an object with 'enabled'")]
    if not rate_limit.enabled:
        return []
    setting = rate_limit.setting
    field = "chatbot.rate_limit.setting"
    if setting is None:
        return [_required(field, "limit and duration when the rate limit is enabled")]
    found = _int_range(f"{field}.limit", setting.limit, 1, "a number of messages")
    found += _text(f"{field}.throttle_message", setting.throttle_message)
    if not isinstance(setting.vary_by, RateLimitVaryBy):
        found.append(_one_of(f"{field}.vary_by", RateLimitVaryBy))
    try:
        duration_ns = parse_duration(setting.duration)
    except DurationError as exc:
        return [*found, Violation(f"{field}.duration", str(exc))]
    if not MIN_DURATION_NS <= duration_ns <= MAX_DURATION_NS:
        found.append(Violation(f"{field}.duration", "expected a Go duration from '1ms' to '8784h'"))
    return found


def _quota_violations(chatbot: Chatbot) -> list[Violation]:
    quota = chatbot.quota_limit
    if quota is None:
        return [_required("chatbot.quota_limit", "an object with 'enabled'")]
    if not quota.enabled:
        return []
    field = "chatbot.quota_limit.setting"
    if quota.setting is None:
        return [_required(field, "limit and reset when the quota is enabled")]
    found = _int_range(f"{field}.limit", quota.setting.limit, 1, "a number of messages")
    if quota.setting.reset != QuotaLimitReset.DAILY:
        found.append(Violation(f"{field}.reset", f"expected {QuotaLimitReset.DAILY.value}"))
    return found


def chatbot_violations(body: ChatbotBody) -> list[Violation]:
    """Every rule of the create-chatbot body that the JSON schema alone does not express."""
    chatbot = body.chatbot
    found: list[Violation] = []
    if not chatbot.name.strip():
        found.append(_required("chatbot.name", "a non-empty name"))
    found += _text("chatbot.name", chatbot.name, 256)
    found += _setting_violations(chatbot)
    found += _appearance_violations(chatbot)
    if chatbot.reference is None:
        found.append(_required("chatbot.reference", "an object with the citation settings"))
    found += _rate_limit_violations(chatbot)
    found += _quota_violations(chatbot)
    return found


def chat_violations(request: ChatRequest) -> list[Violation]:
    found: list[Violation] = []
    if not request.question.strip():
        found.append(_required("question", "a non-empty question"))
    found += _text("question", request.question, MAX_QUESTION)
    if "kb_ids" not in request.model_fields_set:
        found.append(_required("kb_ids", "a list of knowledge-base ids (may be empty)"))
    if request.metadata is None:
        found.append(_required("metadata", "an object with the session and device"))
    elif request.metadata.device is not None:
        found += _text("metadata.device.id", request.metadata.device.id, 256)
    return found
