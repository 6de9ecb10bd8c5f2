"""Fuzzing every input of every endpoint: the emulator never fails and always answers a Status.

Most examples drive ``EmulatorService`` directly (no sockets, so hundreds run in seconds); a
smaller number go over HTTP to the shared loopback emulator, where Starlette, the body reader and
the error handlers are on the path too.

Properties, for every answer: the status is below 500; the body is strict JSON (no NaN or
Infinity); a non-2xx body is a ``google.rpc.Status`` with a code and a message whose HTTP status is
the gateway's for that code; every 4xx other than a throttle says what went wrong in words; every
400 names at least one field violation; every 429 carries metadata the harness can parse, or names
the emulator bound that was reached. Every endpoint is covered: the four of the API, chat, and
``/_emulator/stats``; bodies around the size limit; and random sequences that run into every bound.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from harness.api.duration import format_duration
from harness.api.status import GRPC_TO_HTTP, REASON_OUT_OF_QUOTA, REASON_THROTTLING, Status
from harness.api.views import QuotaInfo, ThrottleInfo
from harness.emulator import BackgroundEmulator, EmulatorConfig, EmulatorService, ManualClock
from harness.emulator.answers import EMULATOR_DOMAIN, REASON_EMULATOR_CAPACITY, Answer
from harness.emulator.chat import Peer

BodyFactory = Callable[..., dict[str, Any]]

BASE = "/bv/aisk/v1"
START_NS = 1_772_330_400 * 1_000_000_000  # 2026-03-01T10:00:00+08:00
MS = 1_000_000
# The framework's own answers: 405 is code 12 (Unimplemented), which the gateway maps to 501.
FRAMEWORK_ANSWERS = {(405, 12)}

SERVICE = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OVER_HTTP = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _no_constants(name: str) -> Any:
    raise AssertionError(f"the answer is not strict JSON: it contains {name}")


def assert_well_formed(status: int, body: bytes) -> None:
    """The properties every answer of the emulator must have (see the module docstring)."""
    assert status < 500, body
    json.loads(body, parse_constant=_no_constants)
    if 200 <= status < 300:
        return
    answer = Status.model_validate_json(body)
    assert answer.message
    assert answer.code != 0
    if status != 429:  # the documented 429s say just "throttle" / "out of quota"
        assert len(answer.message.split()) >= 3, answer.message
    assert GRPC_TO_HTTP.get(answer.code) == status or (status, answer.code) in FRAMEWORK_ANSWERS
    if status == 400:
        bad_request = answer.bad_request()
        assert bad_request is not None
        assert bad_request.field_violations
    if status == 429:
        info = answer.error_info()
        assert info is not None
        if info.reason == REASON_THROTTLING:
            ThrottleInfo.from_error_info(info)
        elif info.reason == REASON_EMULATOR_CAPACITY:
            assert info.domain == EMULATOR_DOMAIN
            assert set(info.metadata) == {"resource", "limit"}
            assert info.metadata["limit"] in answer.message
        else:
            assert info.reason == REASON_OUT_OF_QUOTA
            QuotaInfo.from_error_info(info)


def check(answer: Answer) -> Answer:
    assert_well_formed(answer.status, answer.body)
    return answer


# -- strategies ----------------------------------------------------------------------------------

HUGE_INTS = st.sampled_from(
    [2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**4000]
)
FIELD_NAMES = st.sampled_from(
    [
        "chatbot",
        "name",
        "setting",
        "appearance",
        "reference",
        "rate_limit",
        "quota_limit",
        "enabled",
        "limit",
        "duration",
        "vary_by",
        "reset",
        "question",
        "kb_ids",
        "metadata",
        "device",
        "id",
        "@type",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | HUGE_INTS
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2)  # lone surrogates
    | st.sampled_from(["", "1m", "0s", "-1s", "1x", "MODEL_LITE", "RATE_LIMIT_VARY_BY_IP"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(FIELD_NAMES | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
# Values that break a field: any JSON value, plus numbers just out of every range.
WRONG_VALUES = JSON_VALUES | st.sampled_from([0, -1, 2**31, 10**20, 1.5, -0.0, "", {}, []])
DELETE = object()


@st.composite
def encoded(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> bytes:
    """A value as a client might send it: JSON text (NaN and Infinity included), maybe escaped."""
    text = json.dumps(draw(values), ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path into a JSON value, the value's own root excluded."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((*prefix, key))
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((*prefix, index))
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> bytes:
    """``valid`` with one to three fields replaced by a wrong value or deleted."""
    body: Any = json.loads(json.dumps(valid))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(body)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        node = body
        for part in path[:-1]:
            node = node[part]
        value = draw(st.just(DELETE) | WRONG_VALUES)
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return json.dumps(body).encode()


AUTHORIZATIONS = st.none() | st.text(max_size=30) | st.sampled_from(["", "Bearer", "Bearer  "])


def service_with(org_keys: tuple[str, str]) -> EmulatorService:
    config = EmulatorConfig(api_keys=tuple(SecretStr(key) for key in org_keys))
    return EmulatorService(config, ManualClock(START_NS))


def chatbot_and_token(service: EmulatorService, key: str, body: dict[str, Any]) -> tuple[str, str]:
    created = service.create_chatbot(key, json.dumps(body).encode())
    assert created.status == 200, created.body
    chatbot_id = json.loads(created.body)["chatbot"]["id"]
    token = json.loads(service.create_token(key, chatbot_id, b"{}").body)["token"]
    return chatbot_id, token


def chat(service: EmulatorService, authorization: str | None, raw: bytes, peer: Peer) -> Answer:
    return check(asyncio.run(service.chat(authorization, raw, peer)))


def valid_chat(device: str = "device-1") -> dict[str, Any]:
    return {"question": "hello", "kb_ids": [], "metadata": {"device": {"id": device}}}


# -- the service, directly -----------------------------------------------------------------------


@SERVICE
@given(raw=encoded(JSON_VALUES) | st.binary(max_size=512))
def test_create_chatbot_survives_any_body(org_keys: tuple[str, str], raw: bytes) -> None:
    service = service_with(org_keys)
    answer = check(service.create_chatbot(org_keys[0], raw))
    if answer.status == 200:  # what was created can be read back the same
        chatbot = json.loads(answer.body)["chatbot"]
        fetched = check(service.get_chatbot(org_keys[0], chatbot["id"]))
        assert json.loads(fetched.body) == {"chatbot": chatbot}


@SERVICE
@given(data=st.data())
def test_create_chatbot_survives_any_mutation_of_a_valid_body(
    org_keys: tuple[str, str], chatbot_body: BodyFactory, data: st.DataObject
) -> None:
    valid = chatbot_body(limit=5, quota=10)
    raw = data.draw(mutated(valid))
    service = service_with(org_keys)
    answer = check(service.create_chatbot(org_keys[0], raw))
    if answer.status != 200:
        assert answer.status == 400


@SERVICE
@given(data=st.data())
def test_chat_survives_any_body(
    org_keys: tuple[str, str], chatbot_body: BodyFactory, data: st.DataObject
) -> None:
    service = service_with(org_keys)
    _, token = chatbot_and_token(service, org_keys[0], chatbot_body(limit=2, quota=3))
    raw = data.draw(
        encoded(JSON_VALUES) | st.binary(max_size=256) | mutated(valid_chat()), label="body"
    )
    forwarded = data.draw(st.none() | st.text(max_size=30), label="x-forwarded-for")
    answer = chat(service, token, raw, Peer("127.0.0.1", forwarded))
    assert answer.status in (200, 400)


@SERVICE
@given(
    authorization=AUTHORIZATIONS,
    chatbot_id=st.text(max_size=40),
    raw=encoded(JSON_VALUES) | st.binary(max_size=64),
)
def test_management_survives_any_credential_id_and_body(
    org_keys: tuple[str, str],
    chatbot_body: BodyFactory,
    authorization: str | None,
    chatbot_id: str,
    raw: bytes,
) -> None:
    service = service_with(org_keys)
    real_id, token = chatbot_and_token(service, org_keys[0], chatbot_body())
    for candidate in (authorization, org_keys[0], org_keys[1], token):
        for target in (chatbot_id, real_id):
            check(service.create_token(candidate, target, raw))
            check(service.get_chatbot(candidate, target))
        check(service.create_chatbot(candidate, raw))
        check(asyncio.run(service.chat(candidate, raw, Peer("10.0.0.1"))))
    for candidate in (authorization, org_keys[1], token):
        check(service.delete_chatbot(candidate, real_id))
    check(service.delete_chatbot(org_keys[0], chatbot_id))
    assert check(service.delete_chatbot(org_keys[0], real_id)).status == 200


@SERVICE
@given(
    limit=st.integers(1, 2**31 - 1) | st.integers(1, 4),
    duration_ns=st.integers(MS, 366 * 24 * 3600 * 1000 * MS),
    quota=st.none() | st.integers(1, 2**31 - 1) | st.integers(1, 4),
    vary_by=st.sampled_from([None, "RATE_LIMIT_VARY_BY_IP", "RATE_LIMIT_VARY_BY_DEVICE_ID"]),
    message=st.text(max_size=30),
    steps=st.lists(st.tuples(st.integers(0, 10**14), st.sampled_from(["a", "b", ""])), max_size=12),
)
def test_any_valid_configuration_answers_well_formed_429s(
    org_keys: tuple[str, str],
    chatbot_body: BodyFactory,
    limit: int,
    duration_ns: int,
    quota: int | None,
    vary_by: str | None,
    message: str,
    steps: list[tuple[int, str]],
) -> None:
    service = service_with(org_keys)
    assert isinstance(service.clock, ManualClock)
    duration = format_duration(duration_ns)
    body = chatbot_body(
        limit=limit, duration=duration, quota=quota, vary_by=vary_by, throttle_message=message
    )
    _, token = chatbot_and_token(service, org_keys[0], body)
    for advance_ns, device in steps:
        service.clock.advance(advance_ns)
        answer = chat(service, token, json.dumps(valid_chat(device)).encode(), Peer("127.0.0.1"))
        if answer.status == 429:
            info = Status.model_validate_json(answer.body).error_info()
            assert info is not None
            if info.reason == REASON_THROTTLING:
                throttle = ThrottleInfo.from_error_info(info)
                assert throttle.limit == limit
                assert throttle.duration_ns == duration_ns
                assert throttle.throttle_message == message
                # the wait is reported in whole microseconds, rounded up
                assert 0 < throttle.wait_ns <= -(-duration_ns // 1_000) * 1_000
            else:
                assert quota is not None
                assert QuotaInfo.from_error_info(info).limit == quota


# -- over HTTP -----------------------------------------------------------------------------------

HEADER_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)


@pytest.fixture(scope="module")
def http_bot(
    shared_client: httpx.Client, org_keys: tuple[str, str], chatbot_body: BodyFactory
) -> tuple[str, str]:
    auth = {"authorization": org_keys[0]}
    created = shared_client.post(f"{BASE}/chatbots", json=chatbot_body(limit=3), headers=auth)
    chatbot_id = created.json()["chatbot"]["id"]
    token = shared_client.post(f"{BASE}/chatbots/{chatbot_id}/token", headers=auth).json()
    return chatbot_id, token["token"]


def assert_http_well_formed(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("application/json")
    assert_well_formed(response.status_code, response.content)


@OVER_HTTP
@given(
    raw=encoded(JSON_VALUES) | st.binary(max_size=512),
    endpoint=st.sampled_from(["create", "token", "chat"]),
)
def test_every_post_survives_any_body_over_http(
    shared_client: httpx.Client,
    http_bot: tuple[str, str],
    org_keys: tuple[str, str],
    raw: bytes,
    endpoint: str,
) -> None:
    chatbot_id, token = http_bot
    url, credential = {
        "create": (f"{BASE}/chatbots", org_keys[0]),
        "token": (f"{BASE}/chatbots/{chatbot_id}/token", org_keys[0]),
        "chat": (f"{BASE}/prompts:chat", token),
    }[endpoint]
    headers = {"authorization": credential, "content-type": "application/json"}
    assert_http_well_formed(shared_client.post(url, content=raw, headers=headers))


@OVER_HTTP
@given(data=st.data())
def test_mutated_bodies_survive_over_http(
    shared_client: httpx.Client,
    http_bot: tuple[str, str],
    org_keys: tuple[str, str],
    chatbot_body: BodyFactory,
    data: st.DataObject,
) -> None:
    _, token = http_bot
    create = data.draw(mutated(chatbot_body(limit=5, quota=10)), label="create body")
    response = shared_client.post(
        f"{BASE}/chatbots", content=create, headers={"authorization": org_keys[0]}
    )
    assert_http_well_formed(response)
    talk = data.draw(mutated(valid_chat(data.draw(HEADER_TEXT))), label="chat body")
    response = shared_client.post(
        f"{BASE}/prompts:chat", content=talk, headers={"authorization": token}
    )
    assert_http_well_formed(response)


@OVER_HTTP
@given(
    segment=st.text(max_size=40),
    tail=st.sampled_from(["", "/token", "/x", ":chat"]),
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH"]),
    authorization=HEADER_TEXT,
)
def test_any_path_method_and_credential_survive_over_http(
    shared_client: httpx.Client,
    org_keys: tuple[str, str],
    segment: str,
    tail: str,
    method: str,
    authorization: str,
) -> None:
    # Never the real key: a DELETE must not remove the chatbots other tests use.
    path = f"{BASE}/chatbots/{quote(segment, safe='')}{tail}"
    for credential in (authorization, org_keys[1]):
        response = shared_client.request(method, path, headers={"authorization": credential})
        assert_http_well_formed(response)


@OVER_HTTP
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    authorization=HEADER_TEXT,
    raw=st.binary(max_size=64),
)
def test_the_stats_endpoint_survives_any_method_credential_and_body_over_http(
    shared_client: httpx.Client, org_keys: tuple[str, str], method: str, authorization: str,
    raw: bytes,
) -> None:  # fmt: skip
    for credential in (authorization, org_keys[1]):
        response = shared_client.request(
            method, "/_emulator/stats", headers={"authorization": credential}, content=raw
        )
        assert_http_well_formed(response)
        if method == "GET" and credential == org_keys[1]:
            assert response.status_code == 200


SMALL_BODY = 64


@pytest.fixture(scope="module")
def small_body_emulator(
    org_keys: tuple[str, str], chatbot_body: BodyFactory
) -> Iterator[tuple[httpx.Client, str, str]]:
    """An emulator that reads at most 64 bytes of body: (client, chatbot id, token)."""
    config = EmulatorConfig(
        api_keys=tuple(SecretStr(key) for key in org_keys), max_body_bytes=SMALL_BODY
    )
    with BackgroundEmulator(config, ManualClock(START_NS)) as emulator:
        chatbot_id, token = chatbot_and_token(emulator.service, org_keys[0], chatbot_body())
        with httpx.Client(base_url=emulator.base_url, timeout=10.0) as client:
            yield client, chatbot_id, token


@OVER_HTTP
@given(
    raw=st.binary(min_size=0, max_size=3 * SMALL_BODY),
    endpoint=st.sampled_from(["create", "token", "chat"]),
)
def test_a_body_over_the_limit_is_a_400_naming_the_limit_on_every_post(
    small_body_emulator: tuple[httpx.Client, str, str],
    org_keys: tuple[str, str],
    raw: bytes,
    endpoint: str,
) -> None:
    client, chatbot_id, token = small_body_emulator
    url, credential = {
        "create": (f"{BASE}/chatbots", org_keys[0]),
        "token": (f"{BASE}/chatbots/{chatbot_id}/token", org_keys[0]),
        "chat": (f"{BASE}/prompts:chat", token),
    }[endpoint]
    response = client.post(url, content=raw, headers={"authorization": credential})
    assert_http_well_formed(response)
    if len(raw) > SMALL_BODY:
        assert response.status_code == 400
        assert f"at most {SMALL_BODY} bytes" in response.json()["message"]


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["create", "mint", "delete", "chat", "wait"]),
        st.integers(0, 5),  # which chatbot (or token) the operation picks
        st.sampled_from(["a", "b", "c", "d", "e"]),  # the device of a chat
    ),
    max_size=40,
)


@SERVICE
@given(operations=OPERATIONS)
def test_random_sequences_run_into_every_bound_and_every_answer_stays_well_formed(
    org_keys: tuple[str, str], chatbot_body: BodyFactory, operations: list[tuple[str, int, str]]
) -> None:
    config = EmulatorConfig(
        api_keys=tuple(SecretStr(key) for key in org_keys),
        max_chatbots_per_org=2,
        max_tokens_per_chatbot=2,
        max_rate_keys=3,
    )
    service = EmulatorService(config, ManualClock(START_NS))
    assert isinstance(service.clock, ManualClock)
    chatbots: list[str] = []
    tokens: list[str] = []
    body = json.dumps(chatbot_body(limit=2, duration="1s", quota=3)).encode()
    for operation, pick, device in operations:
        if operation == "create":
            answer = check(service.create_chatbot(org_keys[0], body))
            event(f"create {answer.status}")
            if answer.status == 200:
                chatbots.append(json.loads(answer.body)["chatbot"]["id"])
        elif operation in ("mint", "delete") and chatbots:
            chatbot_id = chatbots[pick % len(chatbots)]
            if operation == "mint":
                minted = check(service.create_token(org_keys[0], chatbot_id, b""))
                tokens.append(json.loads(minted.body)["token"])
            else:
                check(service.delete_chatbot(org_keys[0], chatbot_id))
                chatbots.remove(chatbot_id)
        elif operation == "chat" and tokens:
            raw = json.dumps(valid_chat(device)).encode()
            answer = chat(service, tokens[pick % len(tokens)], raw, Peer("127.0.0.1"))
            event(f"chat {answer.status}")
        elif operation == "wait":
            service.clock.advance(pick * 400 * MS)
        assert service.store.count(0) <= 2
        assert service.store.live_tokens <= 2 * len(chatbots)
        assert len(service.limiter) <= 3
        assert len(service.quota) <= len(chatbots)
