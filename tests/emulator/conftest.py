"""Real emulators on loopback for the emulator's tests, and helpers that speak plain httpx.

Helpers are handed out as fixtures (not imported): without ``__init__.py`` files, every
``conftest.py`` of the tree is the same module name, so ``from conftest import ...`` is fragile.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr

from harness.api.status import DOMAIN, REASON_THROTTLING, Status
from harness.emulator import BackgroundEmulator, Clock, EmulatorConfig, ManualClock

# Distinctive, so a leak into a message, a log line or stdout is easy to spot.
ORG_A_KEY = "test-org-a-key-4f1c9e2b7d"
ORG_B_KEY = "test-org-b-key-9a0e3c6f51"
TAIPEI = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 1, 10, 0, 0, tzinfo=TAIPEI)
START_NS = int(START.timestamp()) * 1_000_000_000
BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"

StartEmulator = Callable[..., BackgroundEmulator]
BodyFactory = Callable[..., dict[str, Any]]
ChatbotFactory = Callable[..., tuple[str, str]]


def default_config(**changes: Any) -> EmulatorConfig:
    """The emulator of these tests: two organisations, the correct policy, no latency."""
    config = EmulatorConfig(api_keys=(SecretStr(ORG_A_KEY), SecretStr(ORG_B_KEY)))
    return replace(config, **changes)


def make_chatbot_body(
    *,
    limit: int | None = None,
    duration: str = "1m",
    vary_by: str | None = "RATE_LIMIT_VARY_BY_DEVICE_ID",
    throttle_message: str = "Too many messages in a row",
    quota: int | None = None,
    name: str = "conformance bot",
) -> dict[str, Any]:
    """A valid create-chatbot body; ``limit`` / ``quota`` None leave that limit disabled."""
    rate_limit: dict[str, Any] = {"enabled": False}
    if limit is not None:
        setting: dict[str, Any] = {
            "limit": limit,
            "duration": duration,
            "throttle_message": throttle_message,
        }
        if vary_by is not None:
            setting["vary_by"] = vary_by
        rate_limit = {"enabled": True, "setting": setting}
    quota_limit: dict[str, Any] = {"enabled": False}
    if quota is not None:
        quota_limit = {
            "enabled": True,
            "setting": {"limit": quota, "reset": "QUOTA_LIMIT_RESET_DAILY"},
        }
    return {
        "chatbot": {
            "name": name,
            "setting": {
                "model": "MODEL_LITE",
                "character_role": "support agent",
                "creativity": 0.3,
                "response_length": {"enabled": True, "input": 200, "output": 400},
            },
            "appearance": {
                "enabled": True,
                "setting": {
                    "profile": {"image": {"id": "img-1"}, "display_name": "Bot"},
                    "message": {"welcome": "Hi", "placeholder": "Ask me"},
                    "theme": "CHATBOT_THEME_DARK",
                    "color": {"user_message": "#112233", "widget": "#445566"},
                },
            },
            "reference": {"kb_selection": True, "display_citation": True, "player": {}},
            "domain_control": {"enabled": False, "domains": []},
            "rate_limit": rate_limit,
            "quota_limit": quota_limit,
        }
    }


def make_chat_body(
    device_id: str | None = "device-1", question: str = "What is a limit?"
) -> dict[str, Any]:
    """A valid ``prompts:chat`` body; ``device_id`` None sends no device."""
    metadata: dict[str, Any] = {"session_id": "s-1", "conversation_id": "c-1", "language": "en"}
    if device_id is not None:
        metadata["device"] = {"id": device_id, "platform": "ios", "category": "mobile"}
    return {"question": question, "kb_ids": [], "metadata": metadata}


def create_chatbot_and_token(
    client: httpx.Client, body: dict[str, Any], api_key: str = ORG_A_KEY
) -> tuple[str, str]:
    """Create a chatbot and mint a token for it: ``(chatbot_id, token)``."""
    auth = {"authorization": f"Bearer {api_key}"}
    created = client.post(f"{BASE}/chatbots", json=body, headers=auth)
    assert created.status_code == 200, created.text
    chatbot_id = created.json()["chatbot"]["id"]
    minted = client.post(f"{BASE}/chatbots/{chatbot_id}/token", json={}, headers=auth)
    assert minted.status_code == 200, minted.text
    token = minted.json()["token"]
    assert isinstance(token, str)
    assert token
    return chatbot_id, token


def bearer_header(credential: str) -> dict[str, str]:
    return {"authorization": f"Bearer {credential}"}


def status_of_error(response: httpx.Response, http_status: int, code: int) -> Status:
    """The response's google.rpc.Status, after checking its HTTP status, code and message."""
    assert response.status_code == http_status, response.text
    assert response.headers["content-type"].startswith("application/json")
    status = Status.model_validate_json(response.content)
    assert status.code == code
    assert status.message
    return status


def fields_of_400(response: httpx.Response) -> set[str]:
    """The fields a 400 names; at least one, each with a description."""
    status = status_of_error(response, 400, 3)
    bad_request = status.bad_request()
    assert bad_request is not None
    assert bad_request.field_violations
    assert all(violation.description for violation in bad_request.field_violations)
    return {violation.field for violation in bad_request.field_violations}


def post_chats(
    client: httpx.Client, token: str, body: dict[str, Any], count: int
) -> list[httpx.Response]:
    return [client.post(CHAT, json=body, headers=bearer_header(token)) for _ in range(count)]


def metadata_of_throttle(response: httpx.Response) -> dict[str, str]:
    """The ErrorInfo metadata of a 429 throttle, after checking its Status is the documented one."""
    status = status_of_error(response, 429, 8)
    assert status.message == "throttle"
    assert len(status.details) == 1
    info = status.error_info()
    assert info is not None
    assert info.reason == REASON_THROTTLING
    assert info.domain == DOMAIN
    return info.metadata


def body_with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
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


@pytest.fixture
def clock() -> ManualClock:
    """The emulator's clock, at 2026-03-01T10:00:00+08:00 until a test moves it."""
    return ManualClock(START_NS)


@pytest.fixture
def start_emulator(clock: ManualClock) -> Iterator[StartEmulator]:
    """Start emulators (default: this test's ManualClock); all are stopped at teardown."""
    started: list[BackgroundEmulator] = []

    def start(*, clock_: Clock | None = None, **changes: Any) -> BackgroundEmulator:
        emulator = BackgroundEmulator(default_config(**changes), clock_ or clock).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(start_emulator: StartEmulator) -> BackgroundEmulator:
    return start_emulator()


@pytest.fixture
def client(emulator: BackgroundEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[BackgroundEmulator]:
    """One emulator for the tests that do not move time: its ManualClock stays at START.

    Each such test makes its own chatbot (limiter and quota state are per chatbot), so they
    cannot see each other; sharing the server saves a start and a stop per test.
    """
    with BackgroundEmulator(default_config(), ManualClock(START_NS)) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def shared_client(shared_emulator: BackgroundEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_emulator.base_url, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="session")
def chatbot_body() -> BodyFactory:
    return make_chatbot_body


@pytest.fixture(scope="session")
def chat_body() -> Callable[..., dict[str, Any]]:
    return make_chat_body


@pytest.fixture(scope="session")
def new_chatbot() -> ChatbotFactory:
    return create_chatbot_and_token


@pytest.fixture(scope="session")
def org_keys() -> tuple[str, str]:
    """The API keys of the emulator's two organisations."""
    return ORG_A_KEY, ORG_B_KEY


@pytest.fixture(scope="session")
def start_ns() -> int:
    return START_NS


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


@pytest.fixture(scope="session")
def bearer() -> Callable[[str], dict[str, str]]:
    """``bearer(credential)``: the authorization header that sends it."""
    return bearer_header


@pytest.fixture(scope="session")
def error_of() -> Callable[[httpx.Response, int, int], Status]:
    """``error_of(response, http_status, code)``: its Status, checked (``status_of_error``)."""
    return status_of_error


@pytest.fixture(scope="session")
def violated_fields() -> Callable[[httpx.Response], set[str]]:
    """``violated_fields(response)``: the fields a 400 names (``fields_of_400``)."""
    return fields_of_400


@pytest.fixture(scope="session")
def chat_n() -> Callable[[httpx.Client, str, dict[str, Any], int], list[httpx.Response]]:
    """``chat_n(client, token, body, count)``: that many chats, one after another."""
    return post_chats


@pytest.fixture(scope="session")
def throttle_metadata() -> Callable[[httpx.Response], dict[str, str]]:
    """``throttle_metadata(response)``: a throttle's metadata (``metadata_of_throttle``)."""
    return metadata_of_throttle


@pytest.fixture(scope="session")
def with_value() -> Callable[[dict[str, Any], str, Any], dict[str, Any]]:
    """``with_value(body, path, value)``: a copy with one dotted field set or deleted."""
    return body_with
