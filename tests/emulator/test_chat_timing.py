"""The chat in real time: simultaneous requests take exactly the limit, and an admission counts
from its decision, before the simulated latency. These assert counts or measured bounds."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.emulator import BackgroundEmulator, LatencyRange, ManualClock, SystemClock, policy_for

BodyFactory = Callable[..., dict[str, Any]]
ChatbotFactory = Callable[..., tuple[str, str]]
StartEmulator = Callable[..., BackgroundEmulator]
Bearer = Callable[[str], dict[str, str]]
Metadata = Callable[[httpx.Response], dict[str, str]]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"
STATS = "/_emulator/stats"
S = 1_000_000_000
MS = 1_000_000


async def _burst(
    base_url: str, headers: dict[str, str], body: dict[str, Any], count: int
) -> list[int]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as client:
        responses = await asyncio.gather(
            *(client.post(CHAT, json=body, headers=headers) for _ in range(count))
        )
    return [response.status_code for response in responses]


@pytest.mark.parametrize(("fault", "racy"), [(None, False), ("race-check-record", True)])
def test_simultaneous_requests_take_exactly_limit_admissions(
    start_emulator: StartEmulator,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    fault: str | None,
    racy: bool,
    bearer: Bearer,
) -> None:
    emulator = start_emulator(clock_=SystemClock(), policy=policy_for(fault))
    with httpx.Client(base_url=emulator.base_url) as client:
        _, token = new_chatbot(client, chatbot_body(limit=5, duration="1m"))
    statuses = asyncio.run(
        _burst(emulator.base_url, bearer(token), chat_body(str(uuid.uuid4())), 40)
    )
    assert set(statuses) <= {200, 429}
    admitted = statuses.count(200)
    if racy:
        assert admitted > 5
    else:
        assert admitted == 5


def test_an_admission_is_recorded_at_its_decision_before_the_simulated_latency(
    start_emulator: StartEmulator,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    clock: ManualClock,
    key_a: str,
    bearer: Bearer,
    throttle_metadata: Metadata,
) -> None:
    """The ManualClock moves while the first answer is still "thinking"; its record must not.

    The emulator's stats show the admission before the first answer can have been sent (its
    model latency has not elapsed since we sent it), the clock is moved then, and the wait
    reported to a second request proves the admission counts from the instant it was decided.
    """
    # 300 ms rather than tens: the proof below needs a stats round trip to fit inside the latency.
    latency_ns = 300 * MS
    emulator = start_emulator(model_latency=LatencyRange(latency_ns, latency_ns + 60 * MS))
    with httpx.Client(base_url=emulator.base_url) as client:
        _, token = new_chatbot(client, chatbot_body(limit=1, duration="1s"))

    async def scenario() -> tuple[float, float, httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(base_url=emulator.base_url, timeout=30.0) as client:
            sent = time.monotonic()
            first = asyncio.create_task(client.post(CHAT, json=chat_body(), headers=bearer(token)))
            while (await client.get(STATS, headers=bearer(key_a))).json()["admitted"] == 0:
                assert not first.done(), "the admission was not counted before its answer"
            seen = time.monotonic() - sent
            clock.advance(400 * MS)
            answered = await first
            elapsed = time.monotonic() - sent
            second = await client.post(CHAT, json=chat_body(), headers=bearer(token))
            return seen, elapsed, answered, second

    seen, elapsed, answered, second = asyncio.run(scenario())
    latency_s = latency_ns / S
    assert answered.status_code == 200
    assert elapsed >= latency_s  # the answer waited out the latency after the decision
    assert seen < latency_s, f"stats took {seen:.3f}s: too slow to tell the order apart"
    metadata = throttle_metadata(second)
    assert (metadata["wait"], metadata["wait_sec"]) == ("600ms", "0.600000")
