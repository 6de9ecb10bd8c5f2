"""The HTTP layer's own answers, each a google.rpc.Status: an unknown path (404), a wrong method
(405), a body that is no JSON object or is larger than ``max_body_bytes`` (400) on every POST."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from harness.api.status import Status
from harness.emulator import BackgroundEmulator

BodyFactory = Callable[..., dict[str, Any]]
Bearer = Callable[[str], dict[str, str]]
ErrorOf = Callable[[httpx.Response, int, int], Status]
Fields = Callable[[httpx.Response], set[str]]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"
STATS = "/_emulator/stats"


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
    shared_client: httpx.Client, key_a: str, path: str, bearer: Bearer, error_of: ErrorOf
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
    shared_client: httpx.Client,
    key_a: str,
    method: str,
    path: str,
    bearer: Bearer,
    error_of: ErrorOf,
) -> None:
    error_of(shared_client.request(method, path, headers=bearer(key_a)), 405, 12)


@pytest.mark.parametrize(
    "content", [b"", b"not json", b"{", b"[]", b'[{"chatbot": {}}]', b"null", b"\xff\xfe", b"1e999"]
)
def test_a_body_that_is_not_a_json_object_is_400_on_every_post(
    shared_client: httpx.Client,
    shared_bot: tuple[str, str],
    key_a: str,
    content: bytes,
    bearer: Bearer,
    violated_fields: Fields,
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
    bearer: Bearer,
    violated_fields: Fields,
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
