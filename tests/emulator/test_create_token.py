"""``POST /bv/aisk/v1/chatbots/{id}/token``: a new token per call, from "{}" or no body at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

BodyFactory = Callable[..., dict[str, Any]]
Bearer = Callable[[str], dict[str, str]]
Fields = Callable[[httpx.Response], set[str]]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"


@pytest.mark.parametrize("content", [b"{}", b"", b"  \n", b'{"unknown": 1}'])
def test_token_accepts_an_empty_object_or_no_body(
    shared_client: httpx.Client,
    shared_bot: tuple[str, str],
    chat_body: BodyFactory,
    key_a: str,
    content: bytes,
    bearer: Bearer,
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
    shared_client: httpx.Client,
    shared_bot: tuple[str, str],
    key_a: str,
    content: bytes,
    bearer: Bearer,
    violated_fields: Fields,
) -> None:
    chatbot_id, _ = shared_bot
    minted = shared_client.post(
        f"{BASE}/chatbots/{chatbot_id}/token", content=content, headers=bearer(key_a)
    )
    assert violated_fields(minted) == {""}
