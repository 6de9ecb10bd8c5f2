"""``GET /bv/aisk/v1/chatbots/{id}``, and what every route of one chatbot answers another
organisation (403) and an unknown id (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.api.status import Status
from harness.emulator import ManualClock

BodyFactory = Callable[..., dict[str, Any]]
Bearer = Callable[[str], dict[str, str]]
ErrorOf = Callable[[httpx.Response, int, int], Status]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"
S = 1_000_000_000


def test_get_answers_the_body_create_answered(
    client: httpx.Client, chatbot_body: BodyFactory, key_a: str, clock: ManualClock, bearer: Bearer
) -> None:
    created = client.post(f"{BASE}/chatbots", json=chatbot_body(limit=3), headers=bearer(key_a))
    chatbot_id = created.json()["chatbot"]["id"]
    clock.advance(5 * S)  # a later read must not restamp the chatbot
    fetched = client.get(f"{BASE}/chatbots/{chatbot_id}", headers=bearer(key_a))
    assert fetched.status_code == 200
    assert fetched.json() == created.json()


def test_another_organisations_chatbot_is_403_and_left_alone(
    client: httpx.Client,
    bot: tuple[str, str],
    chat_body: BodyFactory,
    key_a: str,
    key_b: str,
    bearer: Bearer,
    error_of: ErrorOf,
) -> None:
    chatbot_id, token = bot
    url = f"{BASE}/chatbots/{chatbot_id}"
    error_of(client.get(url, headers=bearer(key_b)), 403, 7)
    error_of(client.delete(url, headers=bearer(key_b)), 403, 7)
    error_of(client.post(f"{url}/token", json={}, headers=bearer(key_b)), 403, 7)
    assert client.get(url, headers=bearer(key_a)).status_code == 200
    assert client.post(CHAT, json=chat_body(), headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "chatbot_id", ["0b5f3c9e-2d4a-4e6f-9a1b-7c8d2e3f4a5b", "not-a-uuid", "%20", "x" * 300]
)
def test_an_unknown_chatbot_id_is_404(
    shared_client: httpx.Client, key_a: str, chatbot_id: str, bearer: Bearer, error_of: ErrorOf
) -> None:
    url = f"{BASE}/chatbots/{chatbot_id}"
    error_of(shared_client.get(url, headers=bearer(key_a)), 404, 5)
    error_of(shared_client.delete(url, headers=bearer(key_a)), 404, 5)
    error_of(shared_client.post(f"{url}/token", json={}, headers=bearer(key_a)), 404, 5)
