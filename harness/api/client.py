"""HTTP clients for the chatbot API: ``AiskClient`` (sync) and ``AsyncAiskClient``, over one core.

The core is a ``_Call``: what to send (method, path, credential, JSON body, headers) and how to read
a success. Both clients build the httpx request from it with ``_build_request`` and hand the answer
to ``_read_answer``; they differ only in ``send`` versus ``await send``.

Decisions where the seeds are silent:
- The credential goes in ``authorization: Bearer <credential>`` (BlendVision's public swagger);
  with no credential the header is omitted, so a probe can see the 401 path.
- No retries, no redirects: every request sent is one request seen by the target's limiter.
- Credentials are ``SecretStr``; ``repr`` shows none, and they are removed from every error text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from harness.api.chat import ChatRequest, ChatResponse
from harness.api.chatbot import Chatbot, ChatbotBody, TokenBody, WireModel
from harness.api.errors import (
    BodyProblem,
    TransportError,
    UnexpectedResponseError,
    decode_body,
    describe_problem,
    error_from_response,
    one_line,
)
from harness.api.transport import Body, aread_bounded, read_bounded, transport_failure

__all__ = ["CHATBOTS_PATH", "CHAT_PATH", "AiskClient", "AsyncAiskClient"]

T = TypeVar("T")

CHATBOTS_PATH: Final = "/bv/aisk/v1/chatbots"
CHAT_PATH: Final = "/bv/aisk/v1/prompts:chat"
DEFAULT_TIMEOUT_S: Final = 30.0
# Management answers are a few KiB; a target sending more is misbehaving, and is not read further.
MAX_ANSWER_BYTES: Final = 8 * 2**20


@dataclass(frozen=True, slots=True)
class _Call(Generic[T]):
    """One API call: the request to send and the reader of its 2xx body (raises BodyProblem)."""

    method: str
    path: str
    credential: SecretStr | None
    read: Callable[[bytes], T]
    body: dict[str, object] | None = None
    headers: Mapping[str, str] | None = None


def _as_secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


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


def _create_chatbot(api_key: SecretStr | None, chatbot: Chatbot) -> _Call[Chatbot]:
    body: dict[str, object] = {"chatbot": chatbot.to_wire()}
    return _Call("POST", CHATBOTS_PATH, api_key, _read_chatbot, body)


def _get_chatbot(api_key: SecretStr | None, chatbot_id: str) -> _Call[Chatbot]:
    return _Call("GET", _chatbot_path(chatbot_id), api_key, _read_chatbot)


def _delete_chatbot(api_key: SecretStr | None, chatbot_id: str) -> _Call[None]:
    return _Call("DELETE", _chatbot_path(chatbot_id), api_key, _read_empty)


def _create_token(api_key: SecretStr | None, chatbot_id: str) -> _Call[SecretStr]:
    return _Call("POST", _chatbot_path(chatbot_id, "/token"), api_key, _read_token, {})


def _chat(
    token: str | SecretStr, request: ChatRequest, headers: Mapping[str, str] | None
) -> _Call[ChatResponse]:
    return _Call("POST", CHAT_PATH, _as_secret(token), _read_chat, request.to_wire(), headers)


def _build_request(http: httpx.Client | httpx.AsyncClient, call: _Call[Any]) -> httpx.Request:
    headers = httpx.Headers(call.headers)
    secret = call.credential.get_secret_value() if call.credential is not None else ""
    if secret:
        headers["authorization"] = f"Bearer {secret}"
    return http.build_request(call.method, call.path, json=call.body, headers=headers)


def _content(body: Body, call: _Call[Any], status: int) -> bytes:
    """The whole answer, or an error when it was larger than ``MAX_ANSWER_BYTES``."""
    if body.problem:
        raise _too_large(call, status)
    return body.data


def _too_large(call: _Call[Any], status: int) -> UnexpectedResponseError:
    problem = f"the answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB; reading stopped"
    return UnexpectedResponseError(
        f"HTTP {status} unexpected answer to {call.method} {call.path}: {problem}",
        problem=problem,
        http_status=status,
    )


def _read_answer(call: _Call[T], status: int, content: bytes, secrets: tuple[str, ...]) -> T:
    if not 200 <= status <= 299:
        raise error_from_response(status, content, redact=secrets)
    try:
        return call.read(content)
    except BodyProblem as exc:
        problem = describe_problem(exc, secrets)
        raise UnexpectedResponseError(
            f"HTTP {status} unexpected answer to {call.method} {call.path}: {problem}",
            problem=problem,
            http_status=status,
        ) from None


def _transport_error(
    request: httpx.Request, exc: httpx.RequestError, secrets: tuple[str, ...]
) -> TransportError:
    failure = transport_failure(exc)
    url = request.url
    # netloc has no userinfo; the path is the raw (quoted) one, without any query.
    where = f"{url.scheme}://{url.netloc.decode('ascii')}{url.raw_path.decode('ascii')}"
    where = where.split("?", 1)[0]
    detail = one_line(str(exc), secrets)
    text = f"{request.method} {where}: {failure.label}" + (f" ({detail})" if detail else "")
    return TransportError(
        text,
        method=request.method,
        path=url.path,
        kind=failure.label,
        error_class=failure.error_class,
    )


class _ClientBase:
    """What both clients hold: the base URL and the API key, kept out of ``repr``."""

    def __init__(self, base_url: str, api_key: str | SecretStr | None) -> None:
        self._base_url = base_url
        self._api_key = _as_secret(api_key)

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        key = "None" if self._api_key is None else repr(self._api_key)
        return f"{type(self).__name__}(base_url={self._base_url!r}, api_key={key})"

    def _secrets(self, call: _Call[Any]) -> tuple[str, ...]:
        found = (call.credential, self._api_key)
        return tuple(secret.get_secret_value() for secret in found if secret is not None)


class AiskClient(_ClientBase):
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

    def _call(self, call: _Call[T]) -> T:
        request, secrets = _build_request(self._http, call), self._secrets(call)
        try:
            response = self._http.send(request, stream=True)
            try:
                body = read_bounded(response.iter_bytes(), MAX_ANSWER_BYTES)
            finally:
                response.close()
        except httpx.RequestError as exc:
            raise _transport_error(request, exc, secrets) from exc
        content = _content(body, call, response.status_code)
        return _read_answer(call, response.status_code, content, secrets)

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


class AsyncAiskClient(_ClientBase):
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

    async def _call(self, call: _Call[T]) -> T:
        request, secrets = _build_request(self._http, call), self._secrets(call)
        try:
            response = await self._http.send(request, stream=True)
            try:
                body = await aread_bounded(response.aiter_bytes(), MAX_ANSWER_BYTES)
            finally:
                await response.aclose()
        except httpx.RequestError as exc:
            raise _transport_error(request, exc, secrets) from exc
        content = _content(body, call, response.status_code)
        return _read_answer(call, response.status_code, content, secrets)

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
