"""How long a chat answer takes: the decision delay, then the latency, plus the model's time.

The service-level tests give the service a sleep that moves its ManualClock and logs what it was
asked, so every delay and instant is exact. The loopback tests use real time and assert only
lower bounds and orderings, which a busy machine cannot break.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import SecretStr

from harness.api.duration import parse_duration
from harness.api.timestamps import parse_rfc3339
from harness.emulator import (
    BackgroundEmulator,
    EmulatorConfig,
    EmulatorService,
    LatencyRange,
    ManualClock,
    SystemClock,
)
from harness.emulator.chat import Peer

BodyFactory = Callable[..., dict[str, Any]]
ChatbotFactory = Callable[..., tuple[str, str]]
StartEmulator = Callable[..., BackgroundEmulator]

KEY = "org-key-delays-5e1b"
CHAT = "/bv/aisk/v1/prompts:chat"
S = 1_000_000_000
MS = 1_000_000
US = 1_000


def fixed(ns: int) -> LatencyRange:
    return LatencyRange(ns, ns)


class SleepLog:
    """The service's sleep: moves its ManualClock by what it is asked, and logs each request."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.asked: list[int] = []

    async def __call__(self, seconds: float) -> None:
        ns = round(seconds * 1e9)
        self.asked.append(ns)
        self.clock.advance(ns)


class Service:
    """A service on a ManualClock whose delays are logged, and terse ways to use it."""

    def __init__(self, start_ns: int, **settings: Any) -> None:
        self.clock = ManualClock(start_ns)
        self.sleeps = SleepLog(self.clock)
        config = EmulatorConfig(api_keys=(SecretStr(KEY),), **settings)
        self.service = EmulatorService(config, self.clock, self.sleeps)

    def token(self, body: dict[str, Any]) -> str:
        created = self.service.create_chatbot(KEY, json.dumps(body).encode())
        chatbot_id = json.loads(created.body)["chatbot"]["id"]
        return str(json.loads(self.service.create_token(KEY, chatbot_id, b"").body)["token"])

    def chat(self, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], list[int]]:
        """The answer's status and body, and the delays it slept."""
        before = len(self.sleeps.asked)
        answer = asyncio.run(
            self.service.chat(f"Bearer {token}", json.dumps(body).encode(), Peer("127.0.0.1"))
        )
        return answer.status, json.loads(answer.body), self.sleeps.asked[before:]


def test_an_admission_takes_latency_plus_model_latency_and_every_refusal_the_latency(
    start_ns: int, chatbot_body: BodyFactory, chat_body: BodyFactory
) -> None:
    h = Service(
        start_ns,
        decision_delay=fixed(20 * MS),
        latency=fixed(50 * MS),
        model_latency=fixed(100 * MS),
    )
    token = h.token(chatbot_body(limit=1, duration="1h"))
    quota_token = h.token(chatbot_body(limit=None, quota=1))
    admitted = h.chat(token, chat_body())
    throttled = h.chat(token, chat_body())
    h.chat(quota_token, chat_body())
    out_of_quota = h.chat(quota_token, chat_body())
    malformed = h.chat(token, {"question": ""})
    unknown_token = h.chat("cbt_unknown", chat_body())
    assert admitted[0] == 200
    assert admitted[2] == [20 * MS, 150 * MS]  # decision delay, then latency + model latency
    refusals = (throttled, out_of_quota, malformed, unknown_token)
    assert [status for status, _, _ in refusals] == [429, 429, 400, 401]
    for _, _, slept in refusals:
        assert slept == [20 * MS, 50 * MS]  # decision delay, then the latency alone


def test_an_overloaded_models_503_takes_the_latency_without_a_slot(
    start_ns: int, chatbot_body: BodyFactory, chat_body: BodyFactory
) -> None:
    """One slot, no queue: the first chat holds the slot; the second is refused and waits L."""
    held = asyncio.Event()
    release = asyncio.Event()
    asked: list[int] = []

    async def sleep(seconds: float) -> None:
        asked.append(round(seconds * 1e9))
        if seconds > 0.1:  # the admitted answer: keep its slot until the test lets go
            held.set()
            await release.wait()

    config = EmulatorConfig(
        api_keys=(SecretStr(KEY),),
        latency=fixed(50 * MS),
        model_latency=fixed(100 * MS),
        max_concurrency=1,
        max_queue=0,
    )
    service = EmulatorService(config, ManualClock(start_ns), sleep)
    created = service.create_chatbot(KEY, json.dumps(chatbot_body(limit=None)).encode())
    chatbot_id = json.loads(created.body)["chatbot"]["id"]
    token = json.loads(service.create_token(KEY, chatbot_id, b"").body)["token"]
    raw = json.dumps(chat_body()).encode()

    async def scenario() -> tuple[int, int]:
        first = asyncio.create_task(service.chat(f"Bearer {token}", raw, Peer("127.0.0.1")))
        await held.wait()
        refused = await service.chat(f"Bearer {token}", raw, Peer("127.0.0.1"))
        release.set()
        return (await first).status, refused.status

    assert asyncio.run(scenario()) == (200, 503)
    assert asked == [150 * MS, 50 * MS]


def test_the_decision_is_taken_after_the_decision_delay_on_the_service_clock(
    start_ns: int, chatbot_body: BodyFactory, chat_body: BodyFactory
) -> None:
    """An out-of-quota answer's ``reset_in`` is midnight minus its decision instant: exact here."""
    h = Service(start_ns, decision_delay=fixed(200 * MS))
    token = h.token(chatbot_body(limit=None, quota=1))
    assert h.chat(token, chat_body())[0] == 200
    arrival = h.clock.now_ns()
    status, body, slept = h.chat(token, chat_body())
    assert (status, slept) == (429, [200 * MS])
    metadata = body["details"][0]["metadata"]
    reset_at = parse_rfc3339(metadata["reset_at"])
    decided_ns = int(reset_at.timestamp()) * S - parse_duration(metadata["reset_in"])
    assert decided_ns == arrival + 200 * MS


def test_a_delay_range_is_drawn_per_request_within_its_bounds(
    start_ns: int, chatbot_body: BodyFactory, chat_body: BodyFactory
) -> None:
    h = Service(start_ns, latency=LatencyRange(5 * MS, 30 * MS), seed=7)
    token = h.token(chatbot_body(limit=None))
    slept = [h.chat(token, chat_body())[2] for _ in range(50)]
    assert all(len(one) == 1 and 5 * MS <= one[0] <= 30 * MS for one in slept)
    assert len({one[0] for one in slept}) > 1  # drawn, not fixed


def test_no_delay_configured_means_no_sleep_at_all(
    start_ns: int, chatbot_body: BodyFactory, chat_body: BodyFactory
) -> None:
    h = Service(start_ns)
    token = h.token(chatbot_body(limit=1))
    assert [h.chat(token, chat_body())[0] for _ in range(2)] == [200, 429]
    assert h.sleeps.asked == []


def _timed_post(client: httpx.Client, token: str, body: Any) -> tuple[httpx.Response, float]:
    sent = time.monotonic()
    response = client.post(CHAT, json=body, headers={"authorization": f"Bearer {token}"})
    return response, time.monotonic() - sent


def test_on_loopback_a_refusal_takes_at_least_the_latency_and_an_admission_the_sum(
    start_emulator: StartEmulator,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
) -> None:
    emulator = start_emulator(
        clock_=SystemClock(), latency=fixed(50 * MS), model_latency=fixed(100 * MS), seed=1
    )
    with httpx.Client(base_url=emulator.base_url, timeout=10.0) as client:
        _, token = new_chatbot(client, chatbot_body(limit=1, duration="1h"))
        admitted, admitted_s = _timed_post(client, token, chat_body())
        throttled, throttled_s = _timed_post(client, token, chat_body())
        unknown, unknown_s = _timed_post(client, "cbt_unknown", chat_body())
        too_large, too_large_s = _timed_post(client, token, {"question": "x" * 300_000})
    assert [r.status_code for r in (admitted, throttled, unknown, too_large)] == [
        200,
        429,
        401,
        400,
    ]
    assert admitted_s >= 0.150
    assert min(throttled_s, unknown_s, too_large_s) >= 0.050


def test_on_loopback_the_decision_lies_at_least_the_decision_delay_inside_the_request(
    start_emulator: StartEmulator,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
) -> None:
    """The emulator's SystemClock is read here before sending and after the answer."""
    delay_ns = 100 * MS
    emulator = start_emulator(clock_=SystemClock(), decision_delay=fixed(delay_ns))
    clock = emulator.service.clock
    with httpx.Client(base_url=emulator.base_url, timeout=10.0) as client:
        _, token = new_chatbot(client, chatbot_body(limit=None, quota=1))
        assert _timed_post(client, token, chat_body())[0].status_code == 200
        sent_ns = clock.now_ns()
        refused, _ = _timed_post(client, token, chat_body())
        received_ns = clock.now_ns()
    assert refused.status_code == 429
    metadata = refused.json()["details"][0]["metadata"]
    reset_at = parse_rfc3339(metadata["reset_at"])
    # reset_in is rounded up to the microsecond, so this is the decision or at most 1 µs before.
    decided_ns = int(reset_at.timestamp()) * S - parse_duration(metadata["reset_in"])
    assert decided_ns > sent_ns + delay_ns - US
    assert decided_ns <= received_ns


def test_with_delays_simultaneous_requests_still_admit_exactly_the_limit(
    start_emulator: StartEmulator,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
) -> None:
    """Check and record stay atomic whatever the delays around them (test_chat_timing has none)."""
    emulator = start_emulator(
        clock_=SystemClock(),
        decision_delay=LatencyRange(0, 20 * MS),
        latency=LatencyRange(5 * MS, 30 * MS),
        model_latency=LatencyRange(0, 10 * MS),
    )
    with httpx.Client(base_url=emulator.base_url) as client:
        _, token = new_chatbot(client, chatbot_body(limit=5, duration="1m"))

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=emulator.base_url, timeout=30.0) as client:
            headers = {"authorization": f"Bearer {token}"}
            answers = await asyncio.gather(
                *(client.post(CHAT, json=chat_body(), headers=headers) for _ in range(40))
            )
        return [answer.status_code for answer in answers]

    statuses = asyncio.run(burst())
    assert sorted(statuses) == [200] * 5 + [429] * 35
