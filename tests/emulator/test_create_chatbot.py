"""``POST /bv/aisk/v1/chatbots``: a READY chatbot echoing its settings; each bad field named."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from harness.api.status import BAD_REQUEST_TYPE, Status
from harness.api.timestamps import parse_rfc3339
from harness.emulator import ManualClock

BodyFactory = Callable[..., dict[str, Any]]
Bearer = Callable[[str], dict[str, str]]
ErrorOf = Callable[[httpx.Response, int, int], Status]
Fields = Callable[[httpx.Response], set[str]]
WithValue = Callable[[dict[str, Any], str, Any], dict[str, Any]]

BASE = "/bv/aisk/v1"
S = 1_000_000_000
RATE = "chatbot.rate_limit"
QUOTA = "chatbot.quota_limit"

MANAGEMENT_FIELDS = (
    "name",
    "setting",
    "appearance",
    "reference",
    "domain_control",
    "rate_limit",
    "quota_limit",
)


def test_create_answers_a_ready_chatbot_that_echoes_its_settings(
    client: httpx.Client, chatbot_body: BodyFactory, key_a: str, clock: ManualClock, bearer: Bearer
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


def test_an_empty_chatbot_names_every_required_field(
    client: httpx.Client, key_a: str, bearer: Bearer, violated_fields: Fields
) -> None:
    response = client.post(f"{BASE}/chatbots", json={"chatbot": {}}, headers=bearer(key_a))
    assert violated_fields(response) == {
        f"chatbot.{field}"
        for field in ("name", "setting", "appearance", "reference", "rate_limit", "quota_limit")
    }


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
    bearer: Bearer,
    violated_fields: Fields,
    with_value: WithValue,
) -> None:
    body = with_value(chatbot_body(limit=5, quota=10), path, value)
    response = shared_client.post(f"{BASE}/chatbots", json=body, headers=bearer(key_a))
    assert violated_fields(response) == {field}


def test_every_bad_field_of_one_body_is_named_at_once(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    key_a: str,
    bearer: Bearer,
    violated_fields: Fields,
    with_value: WithValue,
) -> None:
    body = chatbot_body(limit=0, duration="1x", quota=10)
    body = with_value(body, f"{QUOTA}.setting.reset", ...)
    body = with_value(body, "chatbot.name", "")
    response = client.post(f"{BASE}/chatbots", json=body, headers=bearer(key_a))
    assert violated_fields(response) == {
        "chatbot.name",
        f"{RATE}.setting.limit",
        f"{RATE}.setting.duration",
        f"{QUOTA}.setting.reset",
    }


def test_bad_request_messages_list_violations_without_echoing_credentials(
    client: httpx.Client, key_a: str, bearer: Bearer, error_of: ErrorOf
) -> None:
    response = client.post(f"{BASE}/chatbots", json={"chatbot": {}}, headers=bearer(key_a))
    status = error_of(response, 400, 3)
    assert status.message.startswith("invalid argument: ")
    assert "(and 3 more)" in status.message
    assert key_a not in response.text
    assert response.json()["details"][0]["@type"] == BAD_REQUEST_TYPE
