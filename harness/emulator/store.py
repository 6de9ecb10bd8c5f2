"""Organisations, chatbots and tokens: who may see what."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from pydantic import SecretStr

from harness.api.chatbot import RateLimitVaryBy

__all__ = ["MAX_TOKENS_PER_CHATBOT", "ChatbotEntry", "Limits", "Store", "credential_of"]


@dataclass(frozen=True, slots=True)
class Limits:
    """A chatbot's configured limits, ready for the hot path."""

    rate_limit: int | None
    duration_ns: int
    throttle_message: str
    vary_by: RateLimitVaryBy
    quota: int | None


@dataclass(slots=True)
class ChatbotEntry:
    id: str
    org: int
    wire: dict[str, object]  # the chatbot as create answered it (its status may move on)
    limits: Limits
    created_ns: int
    tokens: dict[str, None]  # insertion-ordered: the oldest is revoked first


_BEARER = "bearer "
# Minting more revokes the oldest: a soak that mints a token per user cannot grow without bound.
MAX_TOKENS_PER_CHATBOT = 1000


def credential_of(authorization: str | None) -> str | None:
    """The credential of an ``authorization`` header, with or without the ``Bearer`` scheme."""
    if authorization is None:
        return None
    value = authorization.strip()
    if value[: len(_BEARER)].lower() == _BEARER:
        value = value[len(_BEARER) :].strip()
    return value or None


class Store:
    def __init__(
        self, api_keys: tuple[SecretStr, ...], max_tokens_per_chatbot: int = MAX_TOKENS_PER_CHATBOT
    ) -> None:
        self.max_tokens_per_chatbot = max_tokens_per_chatbot
        self._orgs = {key.get_secret_value(): index for index, key in enumerate(api_keys)}
        self._chatbots: dict[str, ChatbotEntry] = {}
        self._tokens: dict[str, str] = {}
        self._counts = [0] * len(api_keys)

    def org_of(self, authorization: str | None) -> int | None:
        credential = credential_of(authorization)
        return None if credential is None else self._orgs.get(credential)

    def chatbot_of_token(self, authorization: str | None) -> ChatbotEntry | None:
        credential = credential_of(authorization)
        chatbot_id = None if credential is None else self._tokens.get(credential)
        return None if chatbot_id is None else self._chatbots.get(chatbot_id)

    @property
    def live_tokens(self) -> int:
        return len(self._tokens)

    def count(self, org: int) -> int:
        return self._counts[org]

    def add(
        self, org: int, wire: dict[str, object], limits: Limits, created_ns: int
    ) -> ChatbotEntry:
        chatbot_id = str(uuid.uuid4())
        entry = ChatbotEntry(chatbot_id, org, {**wire, "id": chatbot_id}, limits, created_ns, {})
        self._chatbots[chatbot_id] = entry
        self._counts[org] += 1
        return entry

    def get(self, chatbot_id: str) -> ChatbotEntry | None:
        return self._chatbots.get(chatbot_id)

    def remove(self, entry: ChatbotEntry) -> None:
        del self._chatbots[entry.id]
        for token in entry.tokens:
            self._tokens.pop(token, None)
        self._counts[entry.org] -= 1

    def mint(self, entry: ChatbotEntry) -> str:
        token = "cbt_" + secrets.token_urlsafe(32)
        if len(entry.tokens) >= self.max_tokens_per_chatbot:
            oldest = next(iter(entry.tokens))
            del entry.tokens[oldest]
            self._tokens.pop(oldest, None)
        entry.tokens[token] = None
        self._tokens[token] = entry.id
        return token
