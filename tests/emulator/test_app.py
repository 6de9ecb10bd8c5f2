"""Every endpoint and every error of the emulator, through a real server on loopback with httpx.

Time is the emulator's ManualClock, so waits and resets are asserted to the microsecond; only the
concurrency and latency tests use real time, and they assert counts or measured bounds.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from harness.api.status import (
    BAD_REQUEST_TYPE,
    DOMAIN,
    ERROR_INFO_TYPE,
    REASON_OUT_OF_QUOTA,
    REASON_THROTTLING,
    Status,
)
from harness.api.timestamps import parse_rfc3339
from harness.emulator import BackgroundEmulator, LatencyRange, ManualClock, SystemClock, policy_for

BodyFactory = Callable[..., dict[str, Any]]
ChatbotFactory = Callable[..., tuple[str, str]]
StartEmulator = Callable[..., BackgroundEmulator]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"
STATS = "/_emulator/stats"
S = 1_000_000_000
MS = 1_000_000
MANAGEMENT_FIELDS = (
    "name",
    "setting",
    "appearance",
    "reference",
    "domain_control",
    "rate_limit",
    "quota_limit",
)


def bearer(credential: str) -> dict[str, str]:
    return {"authorization": f"Bearer {credential}"}


def error_of(response: httpx.Response, http_status: int, code: int) -> Status:
    """The response's google.rpc.Status, after checking its HTTP status, code and message."""
    assert response.status_code == http_status, response.text
    assert response.headers["content-type"].startswith("application/json")
    status = Status.model_validate_json(response.content)
    assert status.code == code
    assert status.message
    return status


def violated_fields(response: httpx.Response) -> set[str]:
    """The fields a 400 names; at least one, each with a description."""
    status = error_of(response, 400, 3)
    bad_request = status.bad_request()
    assert bad_request is not None
    assert bad_request.field_violations
    assert all(violation.description for violation in bad_request.field_violations)
    return {violation.field for violation in bad_request.field_violations}


@pytest.fixture
def key_a(org_keys: tuple[str, str]) -> str:
    return org_keys[0]


@pytest.fixture
def key_b(org_keys: tuple[str, str]) -> str:
    return org_keys[1]


@pytest.fixture
def bot(
    client: httpx.Client, chatbot_body: BodyFactory, new_chatbot: ChatbotFactory
) -> tuple[str, str]:
    """A chatbot of organisation A without limits: ``(id, token)``."""
    return new_chatbot(client, chatbot_body())


@pytest.fixture
def shared_bot(
    shared_client: httpx.Client, chatbot_body: BodyFactory, new_chatbot: ChatbotFactory
) -> tuple[str, str]:
    """Like ``bot``, on the emulator shared by the tests whose clock does not move."""
    return new_chatbot(shared_client, chatbot_body())


# -- management endpoints ------------------------------------------------------------------------


def test_create_answers_a_ready_chatbot_that_echoes_its_settings(
    client: httpx.Client, chatbot_body: BodyFactory, key_a: str, clock: ManualClock
) -> None:
    body = chatbot_body(limit=5, quota=100)
    response = client.post(f"{BASE}/chatbots", json=body, headers=bearer(key_a))
    assert response.status_code == 200, response.text
    chatbot = response.json()["chatbot"]
    assert str(uuid.UUID(chatbot["id"])) == chatbot["id"]
    assert chatbot["status"] == "CHATBOT_STATUS_READY"
    assert chatbot["character_count"] == "0"
    for field in MANAGEMENT_FIELDS:
        assert chatbot[field] == body["chatbot"][field], field
    rfc3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"
    for stamp in ("created_at", "updated_at"):
        assert re.fullmatch(rfc3339, chatbot[stamp]), chatbot[stamp]
        assert parse_rfc3339(chatbot[stamp]) == datetime.fromtimestamp(clock.now_ns() // S, UTC)


def test_get_answers_the_body_create_answered(
    client: httpx.Client, chatbot_body: BodyFactory, key_a: str, clock: ManualClock
) -> None:
    created = client.post(f"{BASE}/chatbots", json=chatbot_body(limit=3), headers=bearer(key_a))
    chatbot_id = created.json()["chatbot"]["id"]
    clock.advance(5 * S)  # a later read must not restamp the chatbot
    fetched = client.get(f"{BASE}/chatbots/{chatbot_id}", headers=bearer(key_a))
    assert fetched.status_code == 200
    assert fetched.json() == created.json()


def test_delete_removes_the_chatbot_and_revokes_its_tokens(
    client: httpx.Client,
    bot: tuple[str, str],
    chat_body: BodyFactory,
    key_a: str,
) -> None:
    chatbot_id, token = bot
    assert client.post(CHAT, json=chat_body(), headers=bearer(token)).status_code == 200
    deleted = client.delete(f"{BASE}/chatbots/{chatbot_id}", headers=bearer(key_a))
    assert deleted.status_code == 200
    assert deleted.json() == {}
    error_of(client.get(f"{BASE}/chatbots/{chatbot_id}", headers=bearer(key_a)), 404, 5)
    error_of(client.delete(f"{BASE}/chatbots/{chatbot_id}", headers=bearer(key_a)), 404, 5)
    minted = client.post(f"{BASE}/chatbots/{chatbot_id}/token", json={}, headers=bearer(key_a))
    error_of(minted, 404, 5)
    error_of(client.post(CHAT, json=chat_body(), headers=bearer(token)), 401, 16)


@pytest.mark.parametrize("content", [b"{}", b"", b"  \n", b'{"unknown": 1}'])
def test_token_accepts_an_empty_object_or_no_body(
    shared_client: httpx.Client,
    shared_bot: tuple[str, str],
    chat_body: BodyFactory,
    key_a: str,
    content: bytes,
) -> None:
    chatbot_id, first_token = shared_bot
    headers = {**bearer(key_a), "content-type": "application/json"}
    minted = shared_client.post(
        f"{BASE}/chatbots/{chatbot_id}/token", content=content, headers=headers
    )
    assert minted.status_code == 200, minted.text
    token = minted.json()["token"]
    assert set(minted.json()) == {"token"}
    assert token != first_token
    assert shared_client.post(CHAT, json=chat_body(), headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("content", [b"[]", b"1", b'"token"', b"null", b"true", b"{", b"\xff"])
def test_token_rejects_a_body_that_is_not_a_json_object(
    shared_client: httpx.Client, shared_bot: tuple[str, str], key_a: str, content: bytes
) -> None:
    chatbot_id, _ = shared_bot
    minted = shared_client.post(
        f"{BASE}/chatbots/{chatbot_id}/token", content=content, headers=bearer(key_a)
    )
    assert violated_fields(minted) == {""}


# -- authentication ------------------------------------------------------------------------------

Call = Callable[[httpx.Client, dict[str, str]], httpx.Response]


def _management_calls(chatbot_id: str, body: dict[str, Any]) -> dict[str, Call]:
    return {
        "create": lambda c, h: c.post(f"{BASE}/chatbots", json=body, headers=h),
        "get": lambda c, h: c.get(f"{BASE}/chatbots/{chatbot_id}", headers=h),
        "delete": lambda c, h: c.delete(f"{BASE}/chatbots/{chatbot_id}", headers=h),
        "token": lambda c, h: c.post(f"{BASE}/chatbots/{chatbot_id}/token", json={}, headers=h),
        "stats": lambda c, h: c.get(STATS, headers=h),
    }


def _bad_authorizations(credential: str) -> dict[str, dict[str, str]]:
    return {
        "missing": {},
        "empty": {"authorization": ""},
        "unknown": bearer("no-such-credential"),
        "scheme only": {"authorization": "Bearer"},
        "basic scheme": {"authorization": f"Basic {credential}"},
        "truncated": bearer(credential[:-1]),
        "extended": bearer(credential + "x"),
        "doubled": bearer(f"{credential} {credential}"),
        "twice bearer": {"authorization": f"Bearer Bearer {credential}"},
    }


def test_every_management_endpoint_answers_401_to_a_missing_or_wrong_key(
    client: httpx.Client, bot: tuple[str, str], chatbot_body: BodyFactory, key_a: str
) -> None:
    chatbot_id, _ = bot
    for call_name, call in _management_calls(chatbot_id, chatbot_body()).items():
        for auth_name, headers in _bad_authorizations(key_a).items():
            response = call(client, headers)
            status = error_of(response, 401, 16)
            assert key_a not in status.message, (call_name, auth_name)
    # None of those calls deleted anything.
    assert client.get(f"{BASE}/chatbots/{chatbot_id}", headers=bearer(key_a)).status_code == 200


def test_chat_answers_401_to_a_missing_or_wrong_token(
    client: httpx.Client, bot: tuple[str, str], chat_body: BodyFactory
) -> None:
    _, token = bot
    for auth_name, headers in _bad_authorizations(token).items():
        response = client.post(CHAT, json=chat_body(), headers=headers)
        status = error_of(response, 401, 16)
        assert token not in status.message, auth_name
    # Authentication comes before the body: a bad body with a bad token is still 401.
    error_of(client.post(CHAT, content=b"not json", headers=bearer("nope")), 401, 16)


def test_a_chatbot_token_is_not_a_management_key_nor_a_key_a_chat_token(
    client: httpx.Client,
    bot: tuple[str, str],
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    key_a: str,
) -> None:
    chatbot_id, token = bot
    for call in _management_calls(chatbot_id, chatbot_body()).values():
        error_of(call(client, bearer(token)), 401, 16)
    error_of(client.post(CHAT, json=chat_body(), headers=bearer(key_a)), 401, 16)
    assert client.post(CHAT, json=chat_body(), headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("form", ["Bearer {}", "{}", "bearer {}", "BEARER   {}"])
def test_a_credential_works_with_or_without_the_bearer_scheme(
    shared_client: httpx.Client,
    shared_bot: tuple[str, str],
    chat_body: BodyFactory,
    key_a: str,
    form: str,
) -> None:
    chatbot_id, token = shared_bot
    management = {"authorization": form.format(key_a)}
    assert shared_client.get(f"{BASE}/chatbots/{chatbot_id}", headers=management).status_code == 200
    minted = shared_client.post(f"{BASE}/chatbots/{chatbot_id}/token", json={}, headers=management)
    assert minted.status_code == 200
    for credential in (token, minted.json()["token"]):
        chat = shared_client.post(
            CHAT, json=chat_body(), headers={"authorization": form.format(credential)}
        )
        assert chat.status_code == 200, chat.text
        assert set(chat.json()) >= {"answer", "citations"}


# -- 403, 404, 405 -------------------------------------------------------------------------------


def test_another_organisations_chatbot_is_403_and_left_alone(
    client: httpx.Client, bot: tuple[str, str], chat_body: BodyFactory, key_a: str, key_b: str
) -> None:
    chatbot_id, token = bot
    url = f"{BASE}/chatbots/{chatbot_id}"
    error_of(client.get(url, headers=bearer(key_b)), 403, 7)
    error_of(client.delete(url, headers=bearer(key_b)), 403, 7)
    error_of(client.post(f"{url}/token", json={}, headers=bearer(key_b)), 403, 7)
    assert client.get(url, headers=bearer(key_a)).status_code == 200
    assert client.post(CHAT, json=chat_body(), headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("chatbot_id", [str(uuid.uuid4()), "not-a-uuid", "%20", "x" * 300])
def test_an_unknown_chatbot_id_is_404(
    shared_client: httpx.Client, key_a: str, chatbot_id: str
) -> None:
    url = f"{BASE}/chatbots/{chatbot_id}"
    error_of(shared_client.get(url, headers=bearer(key_a)), 404, 5)
    error_of(shared_client.delete(url, headers=bearer(key_a)), 404, 5)
    error_of(shared_client.post(f"{url}/token", json={}, headers=bearer(key_a)), 404, 5)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/bv/aisk/v1",
        "/bv/aisk/v2/chatbots",
        f"{BASE}/prompts:init",
        f"{BASE}/x/y/z",
        f"{BASE}/chatbots/",  # no redirect to the slash-less route: a plain 404
        f"{BASE}/prompts:chat/",
    ],
)
def test_an_unknown_path_is_404_with_a_status_body(
    shared_client: httpx.Client, key_a: str, path: str
) -> None:
    for method in ("GET", "POST"):
        error_of(shared_client.request(method, path, headers=bearer(key_a)), 404, 5)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{BASE}/chatbots"),
        ("PUT", f"{BASE}/chatbots"),
        ("PATCH", f"{BASE}/chatbots/some-id"),
        ("POST", f"{BASE}/chatbots/some-id"),
        ("GET", f"{BASE}/chatbots/some-id/token"),
        ("GET", CHAT),
        ("DELETE", CHAT),
        ("POST", STATS),
    ],
)
def test_a_wrong_method_is_405_with_a_status_body(
    shared_client: httpx.Client, key_a: str, method: str, path: str
) -> None:
    error_of(shared_client.request(method, path, headers=bearer(key_a)), 405, 12)


# -- 400 -----------------------------------------------------------------------------------------


def test_an_empty_chatbot_names_every_required_field(client: httpx.Client, key_a: str) -> None:
    response = client.post(f"{BASE}/chatbots", json={"chatbot": {}}, headers=bearer(key_a))
    assert violated_fields(response) == {
        f"chatbot.{field}"
        for field in ("name", "setting", "appearance", "reference", "rate_limit", "quota_limit")
    }


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``body`` with the dotted ``path`` set to ``value`` (``...`` deletes it)."""
    copy: dict[str, Any] = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    node = copy
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return copy


RATE = "chatbot.rate_limit"
QUOTA = "chatbot.quota_limit"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (f"{RATE}.setting", ..., f"{RATE}.setting"),
        (f"{RATE}.setting", None, f"{RATE}.setting"),
        (f"{RATE}.setting.limit", 0, f"{RATE}.setting.limit"),
        (f"{RATE}.setting.limit", -1, f"{RATE}.setting.limit"),
        (f"{RATE}.setting.limit", 2**31, f"{RATE}.setting.limit"),
        (f"{RATE}.setting.limit", 2**64, f"{RATE}.setting.limit"),
        (f"{RATE}.setting.limit", "five", f"{RATE}.setting.limit"),
        (f"{RATE}.setting.limit", 1.5, f"{RATE}.setting.limit"),
        (f"{RATE}.setting.duration", "1x", f"{RATE}.setting.duration"),
        (f"{RATE}.setting.duration", "", f"{RATE}.setting.duration"),
        (f"{RATE}.setting.duration", "0s", f"{RATE}.setting.duration"),
        (f"{RATE}.setting.duration", "-1s", f"{RATE}.setting.duration"),
        (f"{RATE}.setting.duration", "1", f"{RATE}.setting.duration"),
        (f"{RATE}.setting.duration", 60, f"{RATE}.setting.duration"),
        (f"{RATE}.setting.duration", "9000h", f"{RATE}.setting.duration"),
        (f"{RATE}.setting.vary_by", "NOPE", f"{RATE}.setting.vary_by"),
        (f"{RATE}.setting.throttle_message", "x" * 5000, f"{RATE}.setting.throttle_message"),
        (f"{QUOTA}.setting.reset", ..., f"{QUOTA}.setting.reset"),
        (f"{QUOTA}.setting.reset", "QUOTA_LIMIT_RESET_WEEKLY", f"{QUOTA}.setting.reset"),
        (f"{QUOTA}.setting.limit", 0, f"{QUOTA}.setting.limit"),
        (f"{QUOTA}.setting", ..., f"{QUOTA}.setting"),
        ("chatbot.name", "   ", "chatbot.name"),
        ("chatbot.setting.model", "MODEL_HUGE", "chatbot.setting.model"),
        ("chatbot.setting.creativity", 1.5, "chatbot.setting.creativity"),
        ("chatbot.setting.response_length.output", 0, "chatbot.setting.response_length.output"),
        ("chatbot.appearance.setting", ..., "chatbot.appearance.setting"),
        ("chatbot.rate_limit", ..., "chatbot.rate_limit"),
        ("chatbot.quota_limit", ..., "chatbot.quota_limit"),
    ],
)
def test_a_bad_create_field_is_named_alone(
    shared_client: httpx.Client,
    chatbot_body: BodyFactory,
    key_a: str,
    path: str,
    value: Any,
    field: str,
) -> None:
    body = _with(chatbot_body(limit=5, quota=10), path, value)
    response = shared_client.post(f"{BASE}/chatbots", json=body, headers=bearer(key_a))
    assert violated_fields(response) == {field}


def test_every_bad_field_of_one_body_is_named_at_once(
    client: httpx.Client, chatbot_body: BodyFactory, key_a: str
) -> None:
    body = chatbot_body(limit=0, duration="1x", quota=10)
    body = _with(body, f"{QUOTA}.setting.reset", ...)
    body = _with(body, "chatbot.name", "")
    response = client.post(f"{BASE}/chatbots", json=body, headers=bearer(key_a))
    assert violated_fields(response) == {
        "chatbot.name",
        f"{RATE}.setting.limit",
        f"{RATE}.setting.duration",
        f"{QUOTA}.setting.reset",
    }


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("question", ..., "question"),
        ("question", "  ", "question"),
        ("question", 42, "question"),
        ("question", "q" * 20_000, "question"),
        ("kb_ids", ..., "kb_ids"),
        ("kb_ids", "kb-1", "kb_ids"),
        ("kb_ids", [1], "kb_ids[0]"),
        ("metadata", ..., "metadata"),
        ("metadata", None, "metadata"),
        ("metadata", [], "metadata"),
        ("metadata.device", "phone", "metadata.device"),
        ("metadata.device.id", "d" * 300, "metadata.device.id"),
    ],
)
def test_a_bad_chat_field_is_named_alone(
    shared_client: httpx.Client,
    shared_bot: tuple[str, str],
    chat_body: BodyFactory,
    path: str,
    value: Any,
    field: str,
) -> None:
    _, token = shared_bot
    response = shared_client.post(CHAT, json=_with(chat_body(), path, value), headers=bearer(token))
    assert violated_fields(response) == {field}


@pytest.mark.parametrize(
    "content", [b"", b"not json", b"{", b"[]", b'[{"chatbot": {}}]', b"null", b"\xff\xfe", b"1e999"]
)
def test_a_body_that_is_not_a_json_object_is_400_on_every_post(
    shared_client: httpx.Client, shared_bot: tuple[str, str], key_a: str, content: bytes
) -> None:
    chatbot_id, token = shared_bot
    create = shared_client.post(f"{BASE}/chatbots", content=content, headers=bearer(key_a))
    assert violated_fields(create) == {""}
    chat = shared_client.post(CHAT, content=content, headers=bearer(token))
    assert violated_fields(chat) == {""}
    if content.strip():  # an empty token body is the documented "{}"
        url = f"{BASE}/chatbots/{chatbot_id}/token"
        assert violated_fields(shared_client.post(url, content=content, headers=bearer(key_a))) == {
            ""
        }


def _padded(body: dict[str, Any], size: int) -> bytes:
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


def test_a_body_of_exactly_max_body_bytes_is_read_and_one_more_byte_is_400(
    client: httpx.Client,
    emulator: BackgroundEmulator,
    bot: tuple[str, str],
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    key_a: str,
) -> None:
    limit = emulator.service.config.max_body_bytes
    chatbot_id, token = bot
    posts = [
        (f"{BASE}/chatbots", chatbot_body(), key_a),
        (f"{BASE}/chatbots/{chatbot_id}/token", {}, key_a),
        (CHAT, chat_body(), token),
    ]
    for url, body, credential in posts:
        headers = {**bearer(credential), "content-type": "application/json"}
        fits = client.post(url, content=_padded(body, limit), headers=headers)
        assert fits.status_code == 200, (url, fits.text)
        too_big = client.post(url, content=_padded(body, limit + 1), headers=headers)
        assert violated_fields(too_big) == {""}, url

        # Without a content-length (chunked), the limit holds while reading.
        def chunks(raw: bytes = _padded(body, limit + 1)) -> Iterator[bytes]:
            for start in range(0, len(raw), 8192):
                yield raw[start : start + 8192]

        streamed = client.post(url, content=chunks(), headers=headers)
        assert violated_fields(streamed) == {""}, url
        # The connection is still usable after a refused body.
        assert client.get(STATS, headers=bearer(key_a)).status_code == 200


# -- 429: throttled ------------------------------------------------------------------------------


def chat_n(
    client: httpx.Client, token: str, body: dict[str, Any], count: int
) -> list[httpx.Response]:
    return [client.post(CHAT, json=body, headers=bearer(token)) for _ in range(count)]


def test_the_throttle_answer_is_exactly_the_documented_one(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
) -> None:
    _, token = new_chatbot(client, chatbot_body(limit=5, duration="1m"))
    assert [r.status_code for r in chat_n(client, token, chat_body("d-1"), 5)] == [200] * 5
    clock.advance(23_500 * MS)
    throttled = client.post(CHAT, json=chat_body("d-1"), headers=bearer(token))
    assert throttled.status_code == 429
    assert throttled.headers["content-type"].startswith("application/json")
    assert throttled.json() == {
        "code": 8,
        "message": "throttle",
        "details": [
            {
                "@type": ERROR_INFO_TYPE,
                "reason": REASON_THROTTLING,
                "domain": DOMAIN,
                "metadata": {
                    "duration": "1m0s",
                    "limit": "5",
                    "throttle_message": "Too many messages in a row",
                    "vary_by": "RATE_LIMIT_VARY_BY_DEVICE_ID",
                    "wait": "36.5s",
                    "wait_sec": "36.500000",
                },
            }
        ],
    }
    Status.model_validate_json(throttled.content)


def _throttle_metadata(response: httpx.Response) -> dict[str, str]:
    status = error_of(response, 429, 8)
    assert status.message == "throttle"
    assert len(status.details) == 1
    info = status.error_info()
    assert info is not None
    assert info.reason == REASON_THROTTLING
    assert info.domain == DOMAIN
    return info.metadata


def test_wait_is_the_time_until_the_oldest_counted_admission_expires(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
) -> None:
    _, token = new_chatbot(client, chatbot_body(limit=3, duration="10s"))
    body = chat_body("d-wait")

    def send() -> httpx.Response:
        return client.post(CHAT, json=body, headers=bearer(token))

    for _ in range(3):  # admissions at 0 s, 2 s, 4 s
        assert send().status_code == 200
        clock.advance(2 * S)
    # now 6 s: the 0 s admission counts until 10 s
    assert _throttle_metadata(send())["wait"] == "4s"
    clock.advance(4 * S - 1_000)  # 1 µs before the expiry
    metadata = _throttle_metadata(send())
    assert (metadata["wait"], metadata["wait_sec"]) == ("1µs", "0.000001")
    clock.advance(1_000)
    assert send().status_code == 200  # at 10 s, admissions at 2, 4, 10 count
    clock.advance(1_234_567_891)  # 11.234567891 s: the 2 s admission expires at 12 s
    metadata = _throttle_metadata(send())
    # 0.765432109 s, reported rounded up to the microsecond so a retry then is admitted
    assert (metadata["wait"], metadata["wait_sec"]) == ("765.433ms", "0.765433")
    clock.advance(765_433_000)
    assert send().status_code == 200
    # Throttled requests consumed nothing: a second device has its own full budget.
    assert [r.status_code for r in chat_n(client, token, chat_body("d-other"), 4)] == [
        200,
        200,
        200,
        429,
    ]


@pytest.mark.parametrize(
    ("configured", "echoed"),
    [
        ("1m", "1m0s"),
        ("1s", "1s"),
        ("90s", "1m30s"),
        ("1h", "1h0m0s"),
        ("1.5s", "1.5s"),
        ("250ms", "250ms"),
        ("1h2m3s", "1h2m3s"),
    ],
)
def test_duration_is_echoed_in_go_format(
    shared_client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    configured: str,
    echoed: str,
) -> None:
    _, token = new_chatbot(shared_client, chatbot_body(limit=1, duration=configured))
    responses = chat_n(shared_client, token, chat_body(), 2)
    assert responses[0].status_code == 200
    metadata = _throttle_metadata(responses[1])
    assert metadata["duration"] == echoed
    assert metadata["wait"] == echoed  # the clock did not move: a whole window to wait


def test_a_non_ascii_throttle_message_is_echoed_exactly(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
) -> None:
    message = '訊息太多了，請稍候 🙏 — trop de messages « ici » \\ "quoted" \u00b5'
    _, token = new_chatbot(client, chatbot_body(limit=1, throttle_message=message))
    responses = chat_n(client, token, chat_body(), 2)
    assert _throttle_metadata(responses[1])["throttle_message"] == message
    assert responses[1].json()["details"][0]["metadata"]["throttle_message"] == message


def test_vary_by_unset_throttles_the_whole_chatbot(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
) -> None:
    _, token = new_chatbot(client, chatbot_body(limit=2, vary_by=None))
    statuses = [
        client.post(CHAT, json=chat_body(device), headers=bearer(token)).status_code
        for device in ("a", "b", "c")
    ]
    assert statuses == [200, 200, 429]
    third = client.post(CHAT, json=chat_body("d"), headers=bearer(token))
    assert _throttle_metadata(third)["vary_by"] == "RATE_LIMIT_VARY_BY_UNSPECIFIED"


# -- 429: out of quota ---------------------------------------------------------------------------


def _quota_metadata(response: httpx.Response) -> dict[str, str]:
    status = error_of(response, 429, 8)
    assert status.message == "out of quota"
    assert len(status.details) == 1
    info = status.error_info()
    assert info is not None
    assert info.reason == REASON_OUT_OF_QUOTA
    assert info.domain == DOMAIN
    return info.metadata


def test_the_out_of_quota_answer_is_exactly_the_documented_one(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
) -> None:
    _, token = new_chatbot(client, chatbot_body(quota=3))
    statuses = [
        client.post(CHAT, json=chat_body(f"d-{i}"), headers=bearer(token)).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 200]
    refused = client.post(CHAT, json=chat_body("d-9"), headers=bearer(token))
    assert refused.json() == {
        "code": 8,
        "message": "out of quota",
        "details": [
            {
                "@type": ERROR_INFO_TYPE,
                "reason": REASON_OUT_OF_QUOTA,
                "domain": DOMAIN,
                "metadata": {
                    "limit": "3",
                    "reset_at": "2026-03-02T00:00:00+08:00",  # started at 10:00 Taipei
                    "reset_in": "14h0m0s",
                    "reset_in_sec": "50400.000000",
                },
            }
        ],
    }
    assert _quota_metadata(refused)["limit"] == "3"
    clock.advance(((1 * 60 + 23) * 60 + 4) * S + 567_891_000)
    metadata = _quota_metadata(client.post(CHAT, json=chat_body(), headers=bearer(token)))
    assert metadata == {
        "limit": "3",
        "reset_at": "2026-03-02T00:00:00+08:00",
        "reset_in": "12h36m55.432109s",
        "reset_in_sec": "45415.432109",
    }


def test_the_quota_day_is_the_organisations_not_utcs(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
) -> None:
    _, token = new_chatbot(client, chatbot_body(quota=1))

    def send() -> httpx.Response:
        return client.post(CHAT, json=chat_body(), headers=bearer(token))

    assert send().status_code == 200
    midnight_taipei = parse_rfc3339("2026-03-02T00:00:00+08:00")
    assert midnight_taipei.astimezone(UTC).date() == date(2026, 3, 1)
    clock.set(midnight_taipei - timedelta(microseconds=1))
    metadata = _quota_metadata(send())
    assert (metadata["reset_in"], metadata["reset_in_sec"]) == ("1µs", "0.000001")
    clock.set(midnight_taipei)  # 2026-03-01T16:00Z: still March 1st in UTC
    assert send().status_code == 200
    assert _quota_metadata(send())["reset_at"] == "2026-03-03T00:00:00+08:00"


def test_a_throttled_request_consumes_no_quota(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
) -> None:
    _, token = new_chatbot(client, chatbot_body(limit=1, duration="1s", quota=2))
    first, throttled = chat_n(client, token, chat_body(), 2)
    assert first.status_code == 200
    _throttle_metadata(throttled)
    clock.advance(S)
    assert client.post(CHAT, json=chat_body(), headers=bearer(token)).status_code == 200
    clock.advance(S)
    _quota_metadata(client.post(CHAT, json=chat_body(), headers=bearer(token)))


# -- the client's address -------------------------------------------------------------------------


def _loopback_alias_or_skip(address: str) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((address, 0))
    except OSError as exc:
        pytest.skip(f"cannot send from {address} on this machine: {exc.strerror}")
    finally:
        probe.close()


def test_vary_by_ip_keys_on_the_peer_address(
    emulator: BackgroundEmulator,
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    key_a: str,
) -> None:
    addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    for address in addresses[1:]:
        _loopback_alias_or_skip(address)
    _, token = new_chatbot(client, chatbot_body(limit=2, vary_by="RATE_LIMIT_VARY_BY_IP"))
    for address in addresses:
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(base_url=emulator.base_url, transport=transport) as peer:
            # The same device id everywhere: only the address can tell these apart.
            statuses = [r.status_code for r in chat_n(peer, token, chat_body("shared"), 3)]
            assert statuses == [200, 200, 429], address
    stats = client.get(STATS, headers=bearer(key_a))
    assert stats.status_code == 200
    snapshot = stats.json()
    assert set(addresses) <= set(snapshot["peers"])
    assert (snapshot["admitted"], snapshot["throttled"]) == (6, 3)
    error_of(client.get(STATS, headers=bearer(token)), 401, 16)


def test_x_forwarded_for_is_ignored_unless_trusted(
    start_emulator: StartEmulator,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    key_a: str,
) -> None:
    body = chatbot_body(limit=2, vary_by="RATE_LIMIT_VARY_BY_IP")
    rotating = [f"203.0.113.{i}" for i in range(1, 11)]  # a new address on every request
    pairs = [f"203.0.113.{i // 2 + 1}" for i in range(10)]  # each address twice
    behind = [f"198.51.100.7, 203.0.113.{i}" for i in range(1, 4)]  # one client, many proxies

    def send(emulator: BackgroundEmulator, forwarded: list[str]) -> tuple[list[int], list[str]]:
        with httpx.Client(base_url=emulator.base_url) as client:
            _, token = new_chatbot(client, body)
            found = []
            for address in forwarded:
                headers = {**bearer(token), "x-forwarded-for": address}
                found.append(client.post(CHAT, json=chat_body(), headers=headers).status_code)
            peers = client.get(STATS, headers=bearer(key_a)).json()["peers"]
            return found, peers

    untrusted, peers = send(start_emulator(), rotating)
    assert untrusted == [200, 200] + [429] * 8  # rotating the header buys nothing
    assert peers == ["127.0.0.1"]  # the peer is the socket's, whatever the header says
    trusting = start_emulator(trust_forwarded_for=True)
    assert send(trusting, pairs)[0] == [200] * 10  # each forwarded address has its own budget
    assert send(trusting, behind)[0] == [200, 200, 429]  # the first (client) address counts


# -- concurrency and latency (real time) ----------------------------------------------------------


async def _burst(base_url: str, token: str, body: dict[str, Any], count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as client:
        responses = await asyncio.gather(
            *(client.post(CHAT, json=body, headers=bearer(token)) for _ in range(count))
        )
    return [response.status_code for response in responses]


@pytest.mark.parametrize(("fault", "racy"), [(None, False), ("race-check-record", True)])
def test_simultaneous_requests_take_exactly_limit_admissions(
    start_emulator: StartEmulator,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    fault: str | None,
    racy: bool,
) -> None:
    emulator = start_emulator(clock_=SystemClock(), policy=policy_for(fault))
    with httpx.Client(base_url=emulator.base_url) as client:
        _, token = new_chatbot(client, chatbot_body(limit=5, duration="1m"))
    statuses = asyncio.run(_burst(emulator.base_url, token, chat_body(str(uuid.uuid4())), 40))
    assert set(statuses) <= {200, 429}
    admitted = statuses.count(200)
    if racy:
        assert admitted > 5
    else:
        assert admitted == 5


def test_an_admission_is_recorded_at_its_decision_before_the_simulated_latency(
    start_emulator: StartEmulator,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
    key_a: str,
) -> None:
    """The ManualClock moves while the first answer is still "thinking"; its record must not.

    The emulator's stats show the admission before the first answer can have been sent (its
    model latency has not elapsed since we sent it), the clock is moved then, and the wait
    reported to a second request proves the admission counts from the instant it was decided.
    """
    # 300 ms rather than tens: the proof below needs a stats round trip to fit inside the latency.
    latency_ns = 300 * MS
    emulator = start_emulator(model_latency=LatencyRange(latency_ns, latency_ns + 60 * MS))
    with httpx.Client(base_url=emulator.base_url) as client:
        _, token = new_chatbot(client, chatbot_body(limit=1, duration="1s"))

    async def scenario() -> tuple[float, float, httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(base_url=emulator.base_url, timeout=30.0) as client:
            sent = time.monotonic()
            first = asyncio.create_task(client.post(CHAT, json=chat_body(), headers=bearer(token)))
            while (await client.get(STATS, headers=bearer(key_a))).json()["admitted"] == 0:
                assert not first.done(), "the admission was not counted before its answer"
            seen = time.monotonic() - sent
            clock.advance(400 * MS)
            answered = await first
            elapsed = time.monotonic() - sent
            second = await client.post(CHAT, json=chat_body(), headers=bearer(token))
            return seen, elapsed, answered, second

    seen, elapsed, answered, second = asyncio.run(scenario())
    latency_s = latency_ns / S
    assert answered.status_code == 200
    assert elapsed >= latency_s  # the answer waited out the latency after the decision
    assert seen < latency_s, f"stats took {seen:.3f}s: too slow to tell the order apart"
    metadata = _throttle_metadata(second)
    assert (metadata["wait"], metadata["wait_sec"]) == ("600ms", "0.600000")


def test_bad_request_messages_list_violations_without_echoing_credentials(
    client: httpx.Client, key_a: str
) -> None:
    response = client.post(f"{BASE}/chatbots", json={"chatbot": {}}, headers=bearer(key_a))
    status = error_of(response, 400, 3)
    assert status.message.startswith("invalid argument: ")
    assert "(and 3 more)" in status.message
    assert key_a not in response.text
    assert response.json()["details"][0]["@type"] == BAD_REQUEST_TYPE
