"""The chat's 429 throttle: the documented answer, its wait to the microsecond (the emulator's
ManualClock), and the configuration it echoes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.api.status import DOMAIN, ERROR_INFO_TYPE, REASON_THROTTLING, Status
from harness.emulator import ManualClock

BodyFactory = Callable[..., dict[str, Any]]
ChatbotFactory = Callable[..., tuple[str, str]]
Bearer = Callable[[str], dict[str, str]]
ChatN = Callable[[httpx.Client, str, dict[str, Any], int], list[httpx.Response]]
Metadata = Callable[[httpx.Response], dict[str, str]]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"
S = 1_000_000_000
MS = 1_000_000


def test_the_throttle_answer_is_exactly_the_documented_one(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
    bearer: Bearer,
    chat_n: ChatN,
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


def test_wait_is_the_time_until_the_oldest_counted_admission_expires(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
    bearer: Bearer,
    chat_n: ChatN,
    throttle_metadata: Metadata,
) -> None:
    _, token = new_chatbot(client, chatbot_body(limit=3, duration="10s"))
    body = chat_body("d-wait")

    def send() -> httpx.Response:
        return client.post(CHAT, json=body, headers=bearer(token))

    for _ in range(3):  # admissions at 0 s, 2 s, 4 s
        assert send().status_code == 200
        clock.advance(2 * S)
    # now 6 s: the 0 s admission counts until 10 s
    assert throttle_metadata(send())["wait"] == "4s"
    clock.advance(4 * S - 1_000)  # 1 µs before the expiry
    metadata = throttle_metadata(send())
    assert (metadata["wait"], metadata["wait_sec"]) == ("1µs", "0.000001")
    clock.advance(1_000)
    assert send().status_code == 200  # at 10 s, admissions at 2, 4, 10 count
    clock.advance(1_234_567_891)  # 11.234567891 s: the 2 s admission expires at 12 s
    metadata = throttle_metadata(send())
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
    chat_n: ChatN,
    throttle_metadata: Metadata,
) -> None:
    _, token = new_chatbot(shared_client, chatbot_body(limit=1, duration=configured))
    responses = chat_n(shared_client, token, chat_body(), 2)
    assert responses[0].status_code == 200
    metadata = throttle_metadata(responses[1])
    assert metadata["duration"] == echoed
    assert metadata["wait"] == echoed  # the clock did not move: a whole window to wait


def test_a_non_ascii_throttle_message_is_echoed_exactly(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    chat_n: ChatN,
    throttle_metadata: Metadata,
) -> None:
    message = '訊息太多了，請稍候 🙏 — trop de messages « ici » \\ "quoted" \u00b5'
    _, token = new_chatbot(client, chatbot_body(limit=1, throttle_message=message))
    responses = chat_n(client, token, chat_body(), 2)
    assert throttle_metadata(responses[1])["throttle_message"] == message
    assert responses[1].json()["details"][0]["metadata"]["throttle_message"] == message


def test_vary_by_unset_throttles_the_whole_chatbot(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    bearer: Bearer,
    throttle_metadata: Metadata,
) -> None:
    _, token = new_chatbot(client, chatbot_body(limit=2, vary_by=None))
    statuses = [
        client.post(CHAT, json=chat_body(device), headers=bearer(token)).status_code
        for device in ("a", "b", "c")
    ]
    assert statuses == [200, 200, 429]
    third = client.post(CHAT, json=chat_body("d"), headers=bearer(token))
    assert throttle_metadata(third)["vary_by"] == "RATE_LIMIT_VARY_BY_UNSPECIFIED"
