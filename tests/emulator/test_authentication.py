"""Who may call what: the organisation key for management, the chatbot token for chat, and a 401
for every other credential on every endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.api.status import Status

BodyFactory = Callable[..., dict[str, Any]]
Bearer = Callable[[str], dict[str, str]]
ErrorOf = Callable[[httpx.Response, int, int], Status]
BadAuthorizations = Callable[[str], dict[str, dict[str, str]]]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"
STATS = "/_emulator/stats"


Call = Callable[[httpx.Client, dict[str, str]], httpx.Response]


def _management_calls(chatbot_id: str, body: dict[str, Any]) -> dict[str, Call]:
    return {
        "create": lambda c, h: c.post(f"{BASE}/chatbots", json=body, headers=h),
        "get": lambda c, h: c.get(f"{BASE}/chatbots/{chatbot_id}", headers=h),
        "delete": lambda c, h: c.delete(f"{BASE}/chatbots/{chatbot_id}", headers=h),
        "token": lambda c, h: c.post(f"{BASE}/chatbots/{chatbot_id}/token", json={}, headers=h),
        "stats": lambda c, h: c.get(STATS, headers=h),
    }


@pytest.fixture
def bad_authorizations(bearer: Bearer) -> BadAuthorizations:
    """Every wrong way to send a credential, by name."""

    def wrong(credential: str) -> dict[str, dict[str, str]]:
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

    return wrong


def test_every_management_endpoint_answers_401_to_a_missing_or_wrong_key(
    client: httpx.Client,
    bot: tuple[str, str],
    chatbot_body: BodyFactory,
    key_a: str,
    bearer: Bearer,
    error_of: ErrorOf,
    bad_authorizations: BadAuthorizations,
) -> None:
    chatbot_id, _ = bot
    for call_name, call in _management_calls(chatbot_id, chatbot_body()).items():
        for auth_name, headers in bad_authorizations(key_a).items():
            response = call(client, headers)
            status = error_of(response, 401, 16)
            assert key_a not in status.message, (call_name, auth_name)
    # None of those calls deleted anything.
    assert client.get(f"{BASE}/chatbots/{chatbot_id}", headers=bearer(key_a)).status_code == 200


def test_chat_answers_401_to_a_missing_or_wrong_token(
    client: httpx.Client,
    bot: tuple[str, str],
    chat_body: BodyFactory,
    bearer: Bearer,
    error_of: ErrorOf,
    bad_authorizations: BadAuthorizations,
) -> None:
    _, token = bot
    for auth_name, headers in bad_authorizations(token).items():
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
    bearer: Bearer,
    error_of: ErrorOf,
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
