"""The chat's 429 out of quota: the documented answer, the organisation's quota day, and a
throttle that consumes none of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, timedelta
from typing import Any

import httpx
import pytest

from harness.api.status import DOMAIN, ERROR_INFO_TYPE, REASON_OUT_OF_QUOTA, Status
from harness.api.timestamps import parse_rfc3339
from harness.emulator import ManualClock

BodyFactory = Callable[..., dict[str, Any]]
ChatbotFactory = Callable[..., tuple[str, str]]
Bearer = Callable[[str], dict[str, str]]
ErrorOf = Callable[[httpx.Response, int, int], Status]
ChatN = Callable[[httpx.Client, str, dict[str, Any], int], list[httpx.Response]]
Metadata = Callable[[httpx.Response], dict[str, str]]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"
S = 1_000_000_000


@pytest.fixture
def quota_metadata(error_of: ErrorOf) -> Metadata:
    """The ErrorInfo metadata of a 429 out-of-quota answer, after checking its Status."""

    def read(response: httpx.Response) -> dict[str, str]:
        status = error_of(response, 429, 8)
        assert status.message == "out of quota"
        assert len(status.details) == 1
        info = status.error_info()
        assert info is not None
        assert info.reason == REASON_OUT_OF_QUOTA
        assert info.domain == DOMAIN
        return info.metadata

    return read


def test_the_out_of_quota_answer_is_exactly_the_documented_one(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
    bearer: Bearer,
    quota_metadata: Metadata,
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
    assert quota_metadata(refused)["limit"] == "3"
    clock.advance(((1 * 60 + 23) * 60 + 4) * S + 567_891_000)
    metadata = quota_metadata(client.post(CHAT, json=chat_body(), headers=bearer(token)))
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
    bearer: Bearer,
    quota_metadata: Metadata,
) -> None:
    _, token = new_chatbot(client, chatbot_body(quota=1))

    def send() -> httpx.Response:
        return client.post(CHAT, json=chat_body(), headers=bearer(token))

    assert send().status_code == 200
    midnight_taipei = parse_rfc3339("2026-03-02T00:00:00+08:00")
    assert midnight_taipei.astimezone(UTC).date() == date(2026, 3, 1)
    clock.set(midnight_taipei - timedelta(microseconds=1))
    metadata = quota_metadata(send())
    assert (metadata["reset_in"], metadata["reset_in_sec"]) == ("1µs", "0.000001")
    clock.set(midnight_taipei)  # 2026-03-01T16:00Z: still March 1st in UTC
    assert send().status_code == 200
    assert quota_metadata(send())["reset_at"] == "2026-03-03T00:00:00+08:00"


def test_a_throttled_request_consumes_no_quota(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
    bearer: Bearer,
    chat_n: ChatN,
    throttle_metadata: Metadata,
    quota_metadata: Metadata,
) -> None:
    _, token = new_chatbot(client, chatbot_body(limit=1, duration="1s", quota=2))
    first, throttled = chat_n(client, token, chat_body(), 2)
    assert first.status_code == 200
    throttle_metadata(throttled)
    clock.advance(S)
    assert client.post(CHAT, json=chat_body(), headers=bearer(token)).status_code == 200
    clock.advance(S)
    quota_metadata(client.post(CHAT, json=chat_body(), headers=bearer(token)))
