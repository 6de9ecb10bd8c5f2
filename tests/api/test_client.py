"""AiskClient and AsyncAiskClient over httpx.MockTransport: requests, answers, errors, secrets.

Every behavioural test runs against both clients through the ``run`` fixture.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from harness.api import (
    AiskClient,
    AiskError,
    AsyncAiskClient,
    ChatbotBody,
    ChatRequest,
    ChatResponse,
    InvalidArgumentError,
    NotFoundError,
    OutOfQuotaError,
    PermissionDeniedError,
    ServerError,
    ThrottledError,
    TransportError,
    UnauthenticatedError,
    UnexpectedResponseError,
)
from harness.api.exchange import MAX_ANSWER_BYTES

FIXTURES = Path(__file__).parent / "fixtures"
BASE_URL = "http://aisk.test"
API_KEY = "sk-TEST-5ecret-9f3a"
TOKEN = "cbt-TEST-70ken-c0ffee"

Handler = Callable[[httpx.Request], httpx.Response]
Runner = Callable[..., Any]


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


class Recorder:
    """A MockTransport handler that answers with ``answer`` and keeps every request."""

    def __init__(self, answer: httpx.Response | Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request) if callable(self.answer) else self.answer

    @property
    def only(self) -> httpx.Request:
        assert len(self.requests) == 1
        return self.requests[0]


def answer(status: int, body: bytes | str = b"") -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(status, content=content)


def run_sync(handler: Handler, call: Callable[[Any], Any], **options: Any) -> Any:
    options.setdefault("api_key", API_KEY)
    with AiskClient(BASE_URL, transport=httpx.MockTransport(handler), **options) as client:
        return call(client)


def run_async(handler: Handler, call: Callable[[Any], Any], **options: Any) -> Any:
    options.setdefault("api_key", API_KEY)

    async def main() -> Any:
        transport = httpx.MockTransport(handler)
        async with AsyncAiskClient(BASE_URL, transport=transport, **options) as client:
            return await call(client)

    return asyncio.run(main())


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Runner:
    """``run(handler, lambda client: client.method(...), **client_options)`` on either client."""
    return run_sync if request.param == "sync" else run_async


def chat_request() -> ChatRequest:
    return ChatRequest.model_validate(fixture_json("schema_chat_request.json"))


# --- the calls ---------------------------------------------------------------------------------


def test_create_chatbot(run: Runner) -> None:
    recorder = Recorder(answer(200, fixture_bytes("seed_chatbot.json")))
    wanted = ChatbotBody.model_validate(fixture_json("schema_chatbot_create.json")).chatbot
    created = run(recorder, lambda client: client.create_chatbot(wanted))
    request = recorder.only
    assert request.method == "POST"
    assert request.url.raw_path == b"/bv/aisk/v1/chatbots"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == fixture_json("schema_chatbot_create.json")
    assert created == ChatbotBody.model_validate(fixture_json("seed_chatbot.json")).chatbot


def test_get_chatbot_quotes_the_id(run: Runner) -> None:
    recorder = Recorder(answer(200, fixture_bytes("seed_chatbot.json")))
    chatbot = run(recorder, lambda client: client.get_chatbot("a/b c?d#e:f"))
    request = recorder.only
    assert request.method == "GET"
    assert request.url.raw_path == b"/bv/aisk/v1/chatbots/a%2Fb%20c%3Fd%23e%3Af"
    assert request.content == b""
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert chatbot.id == "string"


@pytest.mark.parametrize("body", [b"{}", b"", b"\n"])
def test_delete_chatbot(run: Runner, body: bytes) -> None:
    recorder = Recorder(answer(200, body))
    assert run(recorder, lambda client: client.delete_chatbot("0f8fad5b")) is None
    assert recorder.only.method == "DELETE"
    assert recorder.only.url.raw_path == b"/bv/aisk/v1/chatbots/0f8fad5b"


def test_create_chatbot_token(run: Runner) -> None:
    recorder = Recorder(answer(200, json.dumps({"token": TOKEN})))
    token = run(recorder, lambda client: client.create_chatbot_token("0f8fad5b"))
    request = recorder.only
    assert request.method == "POST"
    assert request.url.raw_path == b"/bv/aisk/v1/chatbots/0f8fad5b/token"
    assert json.loads(request.content) == {}
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert isinstance(token, SecretStr)
    assert token.get_secret_value() == TOKEN
    assert TOKEN not in str(token)
    assert TOKEN not in repr(token)


@pytest.mark.parametrize("token", [TOKEN, SecretStr(TOKEN)], ids=["str", "SecretStr"])
def test_chat_uses_the_chatbot_token(run: Runner, token: str | SecretStr) -> None:
    recorder = Recorder(answer(200, fixture_bytes("schema_chat_response.json")))
    reply = run(
        recorder,
        lambda client: client.chat(token, chat_request(), headers={"x-forwarded-for": "10.0.0.7"}),
    )
    request = recorder.only
    assert request.method == "POST"
    assert request.url.raw_path == b"/bv/aisk/v1/prompts:chat"
    assert request.headers.get_list("authorization") == [f"Bearer {TOKEN}"]
    assert request.headers["x-forwarded-for"] == "10.0.0.7"
    assert json.loads(request.content) == fixture_json("schema_chat_request.json")
    assert reply == ChatResponse.model_validate(fixture_json("schema_chat_response.json"))


def test_the_credential_wins_over_a_header_of_the_same_name(run: Runner) -> None:
    recorder = Recorder(answer(200, fixture_bytes("schema_chat_response.json")))
    run(
        recorder,
        lambda client: client.chat(TOKEN, chat_request(), headers={"Authorization": "Bearer x"}),
    )
    assert recorder.only.headers.get_list("authorization") == [f"Bearer {TOKEN}"]


def test_client_headers_go_with_every_call(run: Runner) -> None:
    recorder = Recorder(answer(200, fixture_bytes("seed_chatbot.json")))
    run(
        recorder,
        lambda client: client.get_chatbot("x"),
        headers={"x-bv-org-id": "org-42"},
    )
    assert recorder.only.headers["x-bv-org-id"] == "org-42"


def test_without_a_key_no_authorization_is_sent(run: Runner) -> None:
    recorder = Recorder(answer(200, fixture_bytes("seed_chatbot.json")))
    run(recorder, lambda client: client.get_chatbot("x"), api_key=None)
    assert "authorization" not in recorder.only.headers


def test_a_base_url_path_prefix_is_kept(run: Runner) -> None:
    recorder = Recorder(answer(200, fixture_bytes("seed_chatbot.json")))

    def call(client: Any) -> Any:
        return client.get_chatbot("x")

    if run is run_sync:
        with AiskClient(
            "http://gw.test/aisk-proxy", API_KEY, transport=httpx.MockTransport(recorder)
        ) as client:
            call(client)
    else:

        async def main() -> None:
            transport = httpx.MockTransport(recorder)
            async with AsyncAiskClient(
                "http://gw.test/aisk-proxy", API_KEY, transport=transport
            ) as client:
                await call(client)

        asyncio.run(main())
    assert str(recorder.only.url) == "http://gw.test/aisk-proxy/bv/aisk/v1/chatbots/x"


@pytest.mark.parametrize("chatbot_id", ["", ".", ".."])
def test_ids_that_would_name_another_resource_are_refused(run: Runner, chatbot_id: str) -> None:
    recorder = Recorder(answer(200, fixture_bytes("seed_chatbot.json")))
    with pytest.raises(ValueError, match="chatbot id"):
        run(recorder, lambda client: client.get_chatbot(chatbot_id))
    assert recorder.requests == []


# --- error answers ----------------------------------------------------------------------------


def status_json(code: int, message: str, details: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"code": code, "message": message, "details": details or []})


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, status_json(3, "invalid"), InvalidArgumentError),
        (401, status_json(16, "unauthenticated"), UnauthenticatedError),
        (403, status_json(7, "forbidden"), PermissionDeniedError),
        (404, status_json(5, "no such chatbot"), NotFoundError),
        (500, status_json(13, "internal"), ServerError),
        (429, fixture_bytes("seed_429_throttling.json"), ThrottledError),
        (429, fixture_bytes("seed_429_out_of_quota.json"), OutOfQuotaError),
    ],
)
def test_error_answers_raise_their_kind(
    run: Runner, status: int, body: bytes | str, cls: type[AiskError]
) -> None:
    recorder = Recorder(answer(status, body))
    with pytest.raises(cls) as caught:
        run(recorder, lambda client: client.chat(TOKEN, chat_request()))
    error = caught.value
    assert type(error) is cls
    assert getattr(error, "http_status", None) == status
    assert len(recorder.requests) == 1  # no retry, whatever the answer


def test_a_throttle_carries_its_parsed_wait(run: Runner) -> None:
    recorder = Recorder(answer(429, fixture_bytes("seed_429_throttling.json")))
    with pytest.raises(ThrottledError) as caught:
        run(recorder, lambda client: client.chat(TOKEN, chat_request()))
    assert caught.value.info is not None
    assert caught.value.info.wait_ns == 36_581_786_000
    assert caught.value.info.vary_by == "RATE_LIMIT_VARY_BY_DEVICE_ID"
    assert str(caught.value) == "HTTP 429 throttled: wait 36.581786s"


def test_invalid_argument_carries_field_violations(run: Runner) -> None:
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "field_violations": [{"field": "chatbot.name", "description": "required"}],
        }
    ]
    recorder = Recorder(answer(400, status_json(3, "invalid chatbot", details)))
    chatbot = ChatbotBody.model_validate(fixture_json("schema_chatbot_create.json")).chatbot
    with pytest.raises(InvalidArgumentError) as caught:
        run(recorder, lambda client: client.create_chatbot(chatbot))
    assert [(v.field, v.description) for v in caught.value.field_violations] == [
        ("chatbot.name", "required")
    ]


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (502, "<html><h1>502 Bad Gateway</h1></html>", "not JSON"),
        (500, "", "empty"),
        (429, '{"code": 8, "message": "throt', "not JSON"),
        (403, "[]", "an array"),
        (301, "", "empty"),  # redirects are not followed
    ],
)
def test_error_answers_that_are_not_a_status(
    run: Runner, status: int, body: str, problem: str
) -> None:
    recorder = Recorder(answer(status, body))
    with pytest.raises(UnexpectedResponseError) as caught:
        run(recorder, lambda client: client.get_chatbot("x"))
    assert caught.value.http_status == status
    assert caught.value.status is None
    assert problem in caught.value.problem
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("call", "body", "problem"),
    [
        (lambda client: client.chat(TOKEN, chat_request()), "<html>ok</html>", "not JSON"),
        (lambda client: client.chat(TOKEN, chat_request()), '{"answer": 42}', "answer"),
        (lambda client: client.get_chatbot("x"), '{"chatbot": 5}', "chatbot"),
        (lambda client: client.get_chatbot("x"), "{}", "chatbot"),
        (lambda client: client.create_chatbot_token("x"), "{}", "no 'token'"),
        (lambda client: client.create_chatbot_token("x"), '{"token": ""}', "no 'token'"),
        (lambda client: client.delete_chatbot("x"), "[]", "an array"),
    ],
    ids=[
        "chat-html",
        "chat-type",
        "get-type",
        "get-missing",
        "token-missing",
        "token-empty",
        "delete",
    ],
)
def test_success_answers_that_do_not_validate(
    run: Runner, call: Callable[[Any], Any], body: str, problem: str
) -> None:
    recorder = Recorder(answer(200, body))
    with pytest.raises(UnexpectedResponseError) as caught:
        run(recorder, call)
    assert caught.value.http_status == 200
    assert problem in caught.value.problem
    assert problem in str(caught.value)


# --- transport failures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (httpx.ConnectError, "cannot connect"),
        (httpx.ConnectTimeout, "connect timeout"),
        (httpx.ReadTimeout, "read timeout"),
        (httpx.ReadError, "read error"),
        (httpx.RemoteProtocolError, "protocol error"),
    ],
)
def test_transport_failures_become_transport_errors(
    run: Runner, failure: type[httpx.RequestError], kind: str
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure(f"failed while sending {request.headers['authorization']}", request=request)

    with pytest.raises(TransportError) as caught:
        run(fail, lambda client: client.chat(TOKEN, chat_request()))
    error = caught.value
    assert error.kind == kind
    assert error.method == "POST"
    assert error.path == "/bv/aisk/v1/prompts:chat"
    assert str(error).startswith(f"POST http://aisk.test/bv/aisk/v1/prompts:chat: {kind}")
    assert TOKEN not in str(error)
    assert all(TOKEN not in str(arg) for arg in error.args)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


def test_a_refused_connection_is_a_transport_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with AiskClient(url, API_KEY, timeout=5.0) as client, pytest.raises(TransportError) as caught:
        client.get_chatbot("x")
    assert caught.value.kind == "cannot connect"
    assert f"GET {url}/bv/aisk/v1/chatbots/x: cannot connect" in str(caught.value)


def test_a_refused_connection_is_a_transport_error_async() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    async def main() -> None:
        async with AsyncAiskClient(url, API_KEY, timeout=5.0) as client:
            await client.get_chatbot("x")

    with pytest.raises(TransportError) as caught:
        asyncio.run(main())
    assert caught.value.kind == "cannot connect"


# --- secrets and life cycle -------------------------------------------------------------------


@pytest.mark.parametrize("api_key", [API_KEY, SecretStr(API_KEY)], ids=["str", "SecretStr"])
def test_repr_hides_the_api_key(api_key: str | SecretStr) -> None:
    sync_client = AiskClient(BASE_URL, api_key)
    async_client = AsyncAiskClient(BASE_URL, api_key)
    try:
        for client in (sync_client, async_client):
            text = repr(client)
            assert API_KEY not in text
            assert BASE_URL in text
            assert "**********" in text
    finally:
        sync_client.close()
        asyncio.run(async_client.aclose())


ECHOES = [
    (401, status_json(16, f"key {API_KEY} and token {TOKEN} are unknown")),
    (403, status_json(7, f"{TOKEN}")),
    (
        429,
        status_json(
            8, "x", [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": TOKEN}]
        ),
    ),
    (200, json.dumps({"answer": 1, TOKEN: {"nested": API_KEY}})),
]


@pytest.mark.parametrize(("status", "body"), ECHOES)
@pytest.mark.parametrize(
    ("call", "secrets"),
    [
        (lambda client: client.chat(TOKEN, chat_request()), (TOKEN, API_KEY)),
        (lambda client: client.get_chatbot("x"), (API_KEY,)),
    ],
    ids=["chat", "get_chatbot"],
)
def test_a_server_echoing_credentials_cannot_leak_them(
    run: Runner, status: int, body: str, call: Callable[[Any], Any], secrets: tuple[str, ...]
) -> None:
    # The client redacts what it holds: its API key and the credential of the call.
    with pytest.raises(AiskError) as caught:
        run(Recorder(answer(status, body)), call)
    error = caught.value
    for secret in secrets:
        assert secret not in str(error)
        assert secret not in repr(error)
        assert all(secret not in str(arg) for arg in error.args)
        assert secret not in getattr(error, "message", "")
        assert secret not in getattr(error, "problem", "")


def test_a_closed_client_sends_nothing() -> None:
    recorder = Recorder(answer(200, fixture_bytes("seed_chatbot.json")))
    with AiskClient(BASE_URL, API_KEY, transport=httpx.MockTransport(recorder)) as client:
        client.get_chatbot("x")
    with pytest.raises(RuntimeError):
        client.get_chatbot("x")
    assert len(recorder.requests) == 1


def test_a_closed_async_client_sends_nothing() -> None:
    recorder = Recorder(answer(200, fixture_bytes("seed_chatbot.json")))

    async def main() -> None:
        transport = httpx.MockTransport(recorder)
        async with AsyncAiskClient(BASE_URL, API_KEY, transport=transport) as client:
            await client.get_chatbot("x")
        with pytest.raises(RuntimeError):
            await client.get_chatbot("x")

    asyncio.run(main())
    assert len(recorder.requests) == 1


class EndlessBody:
    """A 2xx body of 64 MiB sent in 64 KiB chunks, counting how much the client pulled."""

    CHUNK = b"x" * 65_536

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Any:
        for _ in range(1_024):
            self.sent += len(self.CHUNK)
            yield self.CHUNK

    async def __aiter__(self) -> Any:
        for chunk in self:
            yield chunk


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_huge_answer_is_not_read_past_the_bound(mode: str) -> None:
    body = EndlessBody()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter(body) if mode == "sync" else body.__aiter__())

    runner = run_sync if mode == "sync" else run_async
    with pytest.raises(UnexpectedResponseError, match="larger than 8 MiB") as caught:
        runner(handler, lambda client: client.get_chatbot("bot-1"))
    assert "GET /bv/aisk/v1/chatbots/bot-1" in str(caught.value)
    assert MAX_ANSWER_BYTES < body.sent <= MAX_ANSWER_BYTES + len(EndlessBody.CHUNK)
