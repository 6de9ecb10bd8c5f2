"""The emulator's HTTP face: Starlette routes that hand each request to ``EmulatorService``.

Every answer, including the framework's own 404 and 405 and anything unexpected, is a
``google.rpc.Status`` JSON body: a client of the real service never sees HTML or plain text here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.api.status import GrpcCode
from harness.emulator import answers
from harness.emulator.answers import Answer, Violation
from harness.emulator.service import EmulatorService, Peer

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


def build_app(service: EmulatorService) -> Starlette:
    limit = service.config.max_body_bytes

    def peer_of(request: Request) -> Peer:
        host = request.client.host if request.client is not None else ""
        return Peer(host, request.headers.get("x-forwarded-for"))

    def with_body(
        handler: Callable[[Request, bytes], Awaitable[Answer]], *, is_chat: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                raw = await _body(request, limit)
            except _TooLarge:
                violation = Violation("", f"the body must be at most {limit} bytes")
                refusal = answers.invalid_argument([violation])
                if is_chat:  # every chat answer takes the chat's delays
                    refusal = await service.refuse_chat(refusal, peer_of(request))
                return _respond(refusal)
            return _respond(await handler(request, raw))

        return endpoint

    def auth(request: Request) -> str | None:
        return request.headers.get("authorization")

    def chatbot_id(request: Request) -> str:
        return str(request.path_params["chatbot_id"])

    async def create_chatbot(request: Request, raw: bytes) -> Answer:
        return service.create_chatbot(auth(request), raw)

    async def get_chatbot(request: Request) -> Response:
        return _respond(service.get_chatbot(auth(request), chatbot_id(request)))

    async def delete_chatbot(request: Request) -> Response:
        return _respond(service.delete_chatbot(auth(request), chatbot_id(request)))

    async def create_token(request: Request, raw: bytes) -> Answer:
        return service.create_token(auth(request), chatbot_id(request), raw)

    async def chat(request: Request, raw: bytes) -> Answer:
        return await service.chat(auth(request), raw, peer_of(request))

    async def stats(request: Request) -> Response:
        if service.store.org_of(auth(request)) is None:
            return _respond(service.unauthenticated())
        return _respond(answers.ok(service.snapshot()))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code = _HTTP_TO_GRPC.get(status, GrpcCode.INTERNAL)
        message = f"{request.method} {request.url.path}: " + (
            exc.detail if isinstance(exc, HTTPException) else "internal error"
        )
        return _respond(answers.error_answer(code, message, http_status=status))

    base = "/bv/aisk/v1"
    routes = [  # the hot path first: Starlette tries routes in order
        Route(f"{base}/prompts:chat", with_body(chat, is_chat=True), methods=["POST"]),
        Route(f"{base}/chatbots", with_body(create_chatbot), methods=["POST"]),
        Route(f"{base}/chatbots/{{chatbot_id}}", get_chatbot, methods=["GET"]),
        Route(f"{base}/chatbots/{{chatbot_id}}", delete_chatbot, methods=["DELETE"]),
        Route(f"{base}/chatbots/{{chatbot_id}}/token", with_body(create_token), methods=["POST"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes, exception_handlers={HTTPException: http_error, Exception: http_error}
    )
    # Starlette answers "/chatbots/" with an empty 307 to "/chatbots"; the gateway has no such
    # redirect, so a trailing slash is an unknown path: a 404 Status like any other.
    app.router.redirect_slashes = False
    return app
