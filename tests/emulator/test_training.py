"""A new chatbot trains for a while: its status, and chat refused until it is ready.

The status is derived from the emulator's clock, so a ManualClock moves a chatbot out of
training to the nanosecond; nothing here waits in real time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from harness.api.chatbot import ChatbotStatus
from harness.api.timestamps import parse_rfc3339
from harness.emulator import BackgroundEmulator, ManualClock, Training

BodyFactory = Callable[..., dict[str, Any]]
ChatbotFactory = Callable[..., tuple[str, str]]
StartEmulator = Callable[..., BackgroundEmulator]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"
S = 1_000_000_000
MS = 1_000_000
TRAINING_NS = 5 * S


def bearer(credential: str) -> dict[str, str]:
    return {"authorization": f"Bearer {credential}"}


@pytest.mark.parametrize(
    ("training", "offset_ns", "status"),
    [
        (Training(TRAINING_NS), 0, ChatbotStatus.TRAINING),
        (Training(TRAINING_NS), TRAINING_NS - 1, ChatbotStatus.TRAINING),
        (Training(TRAINING_NS), TRAINING_NS, ChatbotStatus.READY),
        (Training(TRAINING_NS, fails=True), TRAINING_NS - 1, ChatbotStatus.TRAINING),
        (Training(TRAINING_NS, fails=True), TRAINING_NS, ChatbotStatus.FAILED),
        (Training(TRAINING_NS, fails=True), 400 * 24 * 3600 * S, ChatbotStatus.FAILED),
        (Training(), 0, ChatbotStatus.READY),
        (Training(0, fails=True), 0, ChatbotStatus.FAILED),
    ],
)
def test_the_status_is_training_until_its_end_then_ready_or_failed(
    training: Training, offset_ns: int, status: ChatbotStatus
) -> None:
    created_ns = 1_800_000_000 * S
    assert training.status_at(created_ns, created_ns + offset_ns) is status


def test_a_training_cannot_last_a_negative_time() -> None:
    with pytest.raises(ValueError, match="negative"):
        Training(-1)


@pytest.fixture
def training_client(
    start_emulator: StartEmulator, request: pytest.FixtureRequest
) -> Iterator[httpx.Client]:
    fails = getattr(request, "param", False)
    emulator = start_emulator(training=Training(TRAINING_NS, fails=fails))
    with httpx.Client(base_url=emulator.base_url, timeout=10.0) as client:
        yield client


def _status_of(client: httpx.Client, chatbot_id: str, key: str) -> dict[str, Any]:
    got = client.get(f"{BASE}/chatbots/{chatbot_id}", headers=bearer(key))
    assert got.status_code == 200, got.text
    chatbot: dict[str, Any] = got.json()["chatbot"]
    return chatbot


def test_create_and_get_show_training_then_ready_with_updated_at_at_the_change(
    training_client: httpx.Client,
    chatbot_body: BodyFactory,
    org_keys: tuple[str, str],
    clock: ManualClock,
) -> None:
    key = org_keys[0]
    created = training_client.post(f"{BASE}/chatbots", json=chatbot_body(), headers=bearer(key))
    assert created.status_code == 200, created.text
    chatbot = created.json()["chatbot"]
    assert chatbot["status"] == ChatbotStatus.TRAINING.value
    clock.advance(TRAINING_NS - 1)
    during = _status_of(training_client, chatbot["id"], key)
    assert during == chatbot  # nothing changed yet, updated_at included
    clock.advance(1)
    after = _status_of(training_client, chatbot["id"], key)
    assert after["status"] == ChatbotStatus.READY.value
    assert after["created_at"] == chatbot["created_at"]
    updated = parse_rfc3339(after["updated_at"]) - parse_rfc3339(chatbot["created_at"])
    assert updated.total_seconds() == TRAINING_NS / S
    assert {k: v for k, v in after.items() if k not in {"status", "updated_at"}} == {
        k: v for k, v in chatbot.items() if k not in {"status", "updated_at"}
    }


def test_chat_during_training_is_400_code_9_and_spends_neither_budget_nor_quota(
    training_client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    org_keys: tuple[str, str],
    clock: ManualClock,
) -> None:
    _, limited = new_chatbot(training_client, chatbot_body(limit=1, duration="1h"))
    _, quota = new_chatbot(training_client, chatbot_body(limit=None, quota=1))
    for token in (limited, quota):  # tokens are minted while the chatbot trains
        for _ in range(3):
            refused = training_client.post(CHAT, json=chat_body(), headers=bearer(token))
            assert refused.status_code == 400, refused.text
            body = refused.json()
            assert body["code"] == 9
            assert "still training" in body["message"]
            assert body["details"] == []
    stats = training_client.get("/_emulator/stats", headers=bearer(org_keys[0])).json()
    assert (stats["not_ready"], stats["admitted"], stats["rejected"]) == (6, 0, 0)
    clock.advance(TRAINING_NS)
    for token in (limited, quota):  # the whole budget is left: one admitted, then refused
        statuses = [
            training_client.post(CHAT, json=chat_body(), headers=bearer(token)).status_code
            for _ in range(2)
        ]
        assert statuses == [200, 429]


@pytest.mark.parametrize("training_client", [True], indirect=True)
def test_a_failed_training_refuses_chat_for_ever(
    training_client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    org_keys: tuple[str, str],
    clock: ManualClock,
) -> None:
    chatbot_id, token = new_chatbot(training_client, chatbot_body(limit=1))
    training = training_client.post(CHAT, json=chat_body(), headers=bearer(token))
    assert (training.status_code, training.json()["code"]) == (400, 9)
    assert "still training" in training.json()["message"]
    for advance_ns in (TRAINING_NS, 30 * 24 * 3600 * S):
        clock.advance(advance_ns)
        assert _status_of(training_client, chatbot_id, org_keys[0])["status"] == (
            ChatbotStatus.FAILED.value
        )
        refused = training_client.post(CHAT, json=chat_body(), headers=bearer(token))
        assert (refused.status_code, refused.json()["code"]) == (400, 9)
        assert "training failed" in refused.json()["message"]


def test_a_malformed_chat_is_invalid_argument_even_during_training(
    training_client: httpx.Client, chatbot_body: BodyFactory, new_chatbot: ChatbotFactory
) -> None:
    """The request is checked before the chatbot's state, as gRPC services order them."""
    _, token = new_chatbot(training_client, chatbot_body())
    refused = training_client.post(CHAT, json={"question": "hi"}, headers=bearer(token))
    assert (refused.status_code, refused.json()["code"]) == (400, 3)
