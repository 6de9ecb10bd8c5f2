"""HTTP clients for the chatbot API: ``AiskClient`` (sync) and ``AsyncAiskClient``, over one core.

Each method builds the ``Call`` of its API call (what to send, how to read a success); the core
(``exchange.py``) builds the request and reads the answer, so the two clients differ only in
``send`` versus ``await send``.

Decisions where the seeds are silent:
- The credential goes in ``authorization: Bearer <credential>`` (BlendVision's public swagger);
  with no credential the header is omitted, so a probe can see the 401 path.
- No retries, no redirects: every request sent is one request seen by the target's limiter.
- Credentials are ``SecretStr``; ``repr`` shows none, and they are removed from every error text.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Final, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from harness.api.bodies import BodyProblem, decode_body
from harness.api.chat import ChatRequest, ChatResponse
from harness.api.chatbot import Chatbot, ChatbotBody, TokenBody, WireModel
from harness.api.exchange import (
    MAX_ANSWER_BYTES,
    Call,
    ClientBase,
    as_secret,
    build_request,
    read_answer,
    transport_error,
)
from harness.api.transport import aread_bounded, read_bounded

__all__ = ["CHATBOTS_PATH", "CHAT_PATH", "AiskClient", "AsyncAiskClient"]

T = TypeVar("T")

CHATBOTS_PATH: Final = "/bv/aisk/v1/chatbots"
CHAT_PATH: Final = "/bv/aisk/v1/prompts:chat"
DEFAULT_TIMEOUT_S: Final = 30.0


def _chatbot_path(chatbot_id: str, suffix: str = "") -> str:
    # "." and ".." would be resolved away by URL normalisation and hit another resource.
    if chatbot_id in ("", ".", ".."):
        raise ValueError(f"invalid chatbot id {chatbot_id!r}: expected the chatbot's uuid")
    return f"{CHATBOTS_PATH}/{quote(chatbot_id, safe='')}{suffix}"


def _read_chatbot(body: bytes) -> Chatbot:
    return decode_body(body, ChatbotBody).chatbot


def _read_token(body: bytes) -> SecretStr:
    token = decode_body(body, TokenBody).token
    if not token:
        raise BodyProblem("token answer has no 'token'")
    return SecretStr(token)


def _read_empty(body: bytes) -> None:
    # google.protobuf.Empty: "{}", though an empty body is tolerated.
    if body.strip():
        decode_body(body, WireModel)


def _read_chat(body: bytes) -> ChatResponse:
    return decode_body(body, ChatResponse)


def _create_chatbot(api_key: SecretStr | None, chatbot: Chatbot) -> Call[Chatbot]:
    body: dict[str, object] = {"chatbot": chatbot.to_wire()}
    return Call("POST", CHATBOTS_PATH, api_key, _read_chatbot, body)


def _get_chatbot(api_key: SecretStr | None, chatbot_id: str) -> Call[Chatbot]:
    return Call("GET", _chatbot_path(chatbot_id), api_key, _read_chatbot)


def _delete_chatbot(api_key: SecretStr | None, chatbot_id: str) -> Call[None]:
    return Call("DELETE", _chatbot_path(chatbot_id), api_key, _read_empty)


def _create_token(api_key: SecretStr | None, chatbot_id: str) -> Call[SecretStr]:
    return Call("POST", _chatbot_path(chatbot_id, "/token"), api_key, _read_token, {})


def _chat(
    token: str | SecretStr, request: ChatRequest, headers: Mapping[str, str] | None
) -> Call[ChatResponse]:
    return Call("POST", CHAT_PATH, as_secret(token), _read_chat, request.to_wire(), headers)


class AiskClient(ClientBase):
    """Synchronous client: one method per call; raises ``AiskError`` subclasses.

    ``api_key`` is the organisation API key used for the chatbot calls; ``chat`` takes the
    chatbot token instead. ``headers`` are sent with every request (e.g. ``x-bv-org-id``).
    ``transport`` replaces the network (tests pass ``httpx.MockTransport``).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(base_url, api_key)
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers=headers,
            transport=transport if transport is not None else httpx.HTTPTransport(retries=0),
        )

    def _call(self, call: Call[T]) -> T:
        request, secrets = build_request(self._http, call), self._secrets(call)
        try:
            response = self._http.send(request, stream=True)
            try:
                body = read_bounded(response.iter_bytes(), MAX_ANSWER_BYTES)
            finally:
                response.close()
        except httpx.RequestError as exc:
            raise transport_error(request, exc, secrets) from exc
        return read_answer(call, response.status_code, body, secrets)

    def create_chatbot(self, chatbot: Chatbot) -> Chatbot:
        """``POST /bv/aisk/v1/chatbots``: create a chatbot; the answer carries its id."""
        return self._call(_create_chatbot(self._api_key, chatbot))

    def get_chatbot(self, chatbot_id: str) -> Chatbot:
        """``GET /bv/aisk/v1/chatbots/{id}``."""
        return self._call(_get_chatbot(self._api_key, chatbot_id))

    def delete_chatbot(self, chatbot_id: str) -> None:
        """``DELETE /bv/aisk/v1/chatbots/{id}``: clean up after a run."""
        self._call(_delete_chatbot(self._api_key, chatbot_id))

    def create_chatbot_token(self, chatbot_id: str) -> SecretStr:
        """``POST /bv/aisk/v1/chatbots/{id}/token``: the credential for ``chat``."""
        return self._call(_create_token(self._api_key, chatbot_id))

    def chat(
        self,
        token: str | SecretStr,
        request: ChatRequest,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> ChatResponse:
        """``POST /bv/aisk/v1/prompts:chat`` with the chatbot token; ``headers`` for this call."""
        return self._call(_chat(token, request, headers))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncAiskClient(ClientBase):
    """Asynchronous twin of ``AiskClient``: same methods, same errors, awaited."""

    def __init__(
        self,
        base_url: str,
        api_key: str | SecretStr | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(base_url, api_key)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            headers=headers,
            transport=transport if transport is not None else httpx.AsyncHTTPTransport(retries=0),
        )

    async def _call(self, call: Call[T]) -> T:
        request, secrets = build_request(self._http, call), self._secrets(call)
        try:
            response = await self._http.send(request, stream=True)
            try:
                body = await aread_bounded(response.aiter_bytes(), MAX_ANSWER_BYTES)
            finally:
                await response.aclose()
        except httpx.RequestError as exc:
            raise transport_error(request, exc, secrets) from exc
        return read_answer(call, response.status_code, body, secrets)

    async def create_chatbot(self, chatbot: Chatbot) -> Chatbot:
        return await self._call(_create_chatbot(self._api_key, chatbot))

    async def get_chatbot(self, chatbot_id: str) -> Chatbot:
        return await self._call(_get_chatbot(self._api_key, chatbot_id))

    async def delete_chatbot(self, chatbot_id: str) -> None:
        await self._call(_delete_chatbot(self._api_key, chatbot_id))

    async def create_chatbot_token(self, chatbot_id: str) -> SecretStr:
        return await self._call(_create_token(self._api_key, chatbot_id))

    async def chat(
        self,
        token: str | SecretStr,
        request: ChatRequest,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> ChatResponse:
        return await self._call(_chat(token, request, headers))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
