"""``DELETE /bv/aisk/v1/chatbots/{id}``: the chatbot and every token of it are gone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from harness.api.status import Status

BodyFactory = Callable[..., dict[str, Any]]
Bearer = Callable[[str], dict[str, str]]
ErrorOf = Callable[[httpx.Response, int, int], Status]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"


def test_delete_removes_the_chatbot_and_revokes_its_tokens(
    client: httpx.Client,
    bot: tuple[str, str],
    chat_body: BodyFactory,
    key_a: str,
    bearer: Bearer,
    error_of: ErrorOf,
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
