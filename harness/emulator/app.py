"""The emulator's HTTP face: Starlette routes that hand each request to ``EmulatorService``.

Every answer, including the framework's own 404 and 405 and anything unexpected, is a
``google.rpc.Status`` JSON body: a client of the real service never sees HTML or plain text here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.api.status import GrpcCode
from harness.emulator import answers
from harness.emulator.answers import Answer, Violation
from harness.emulator.chat import Peer
from harness.emulator.service import EmulatorService

__all__ = ["build_app"]

JSON = "application/json"
# grpc-gateway answers an unknown path 404 (code 5) and a wrong method 405 (code 12, Unimplemented).
_HTTP_TO_GRPC = {404: GrpcCode.NOT_FOUND, 405: 12}


def _respond(answer: Answer) -> Response:
    return Response(answer.body, status_code=answer.status, media_type=JSON)


class _TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _peer_of(request: Request) -> Peer:
    host = request.client.host if request.client is not None else ""
    return Peer(host, request.headers.get("x-forwarded-for"))


def _auth(request: Request) -> str | None:
    return request.headers.get("authorization")


def _chatbot_id(request: Request) -> str:
    return str(request.path_params["chatbot_id"])


async def _http_error(request: Request, exc: Exception) -> Response:
    """The framework's own refusals (404, 405) and anything unexpected (500), as a Status."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = _HTTP_TO_GRPC.get(status, GrpcCode.INTERNAL)
    message = f"{request.method} {request.url.path}: " + (
        exc.detail if isinstance(exc, HTTPException) else "internal error"
    )
    return _respond(answers.error_answer(code, message, http_status=status))


BodyHandler = Callable[[Request, bytes], Awaitable[Answer]]
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class _Endpoints:
    """Each route's handler, handing the request to ``service``."""

    service: EmulatorService

    def with_body(self, handler: BodyHandler, *, is_chat: bool = False) -> Endpoint:
        """``handler`` on the request's body, read up to the limit; a larger body is a 400."""
        service = self.service
        limit = service.config.max_body_bytes

        async def endpoint(request: Request) -> Response:
            try:
                raw = await _body(request, limit)
            except _TooLarge:
                violation = Violation("", f"the body must be at most {limit} bytes")
                refusal = answers.invalid_argument([violation])
                if is_chat:  # every chat answer takes the chat's delays
                    refusal = await service.refuse_chat(refusal, _peer_of(request))
                return _respond(refusal)
            return _respond(await handler(request, raw))

        return endpoint

    async def create_chatbot(self, request: Request, raw: bytes) -> Answer:
        return self.service.create_chatbot(_auth(request), raw)

    async def get_chatbot(self, request: Request) -> Response:
        return _respond(self.service.get_chatbot(_auth(request), _chatbot_id(request)))

    async def delete_chatbot(self, request: Request) -> Response:
        return _respond(self.service.delete_chatbot(_auth(request), _chatbot_id(request)))

    async def create_token(self, request: Request, raw: bytes) -> Answer:
        return self.service.create_token(_auth(request), _chatbot_id(request), raw)

    async def chat(self, request: Request, raw: bytes) -> Answer:
        return await self.service.chat(_auth(request), raw, _peer_of(request))

    async def stats(self, request: Request) -> Response:
        if self.service.store.org_of(_auth(request)) is None:
            return _respond(self.service.unauthenticated())
        return _respond(answers.ok(self.service.snapshot()))


def build_app(service: EmulatorService) -> Starlette:
    """The emulator's Starlette app: the API's routes on ``service``, every error a Status."""
    endpoints = _Endpoints(service)
    base = "/bv/aisk/v1"
    chatbot = f"{base}/chatbots/{{chatbot_id}}"
    body = endpoints.with_body
    routes = [  # the hot path first: Starlette tries routes in order
        Route(f"{base}/prompts:chat", body(endpoints.chat, is_chat=True), methods=["POST"]),
        Route(f"{base}/chatbots", body(endpoints.create_chatbot), methods=["POST"]),
        Route(chatbot, endpoints.get_chatbot, methods=["GET"]),
        Route(chatbot, endpoints.delete_chatbot, methods=["DELETE"]),
        Route(f"{chatbot}/token", body(endpoints.create_token), methods=["POST"]),
        Route("/_emulator/stats", endpoints.stats, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes, exception_handlers={HTTPException: _http_error, Exception: _http_error}
    )
    # Starlette answers "/chatbots/" with an empty 307 to "/chatbots"; the gateway has no such
    # redirect, so a trailing slash is an unknown path: a 404 Status like any other.
    app.router.redirect_slashes = False
    return app
