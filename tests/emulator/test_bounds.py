"""The emulator's bounds: chatbots, tokens, rate-limit keys and quota books cannot grow forever.

Each bound is set small through the configuration; reaching it is a 429 ``google.rpc.Status``
(code 8) whose ErrorInfo names the resource and the bound, never a 5xx and never unbounded growth.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pydantic import SecretStr

from harness.api.status import Status
from harness.emulator import EmulatorConfig, EmulatorService, ManualClock
from harness.emulator.answers import EMULATOR_DOMAIN, REASON_EMULATOR_CAPACITY, Answer
from harness.emulator.chat import Peer
from harness.emulator.limiter import Algorithm, LimiterTable, Rule

S = 1_000_000_000
BodyFactory = Callable[..., dict[str, Any]]


def service(org_keys: tuple[str, str], **bounds: Any) -> EmulatorService:
    config = EmulatorConfig(api_keys=tuple(SecretStr(key) for key in org_keys))
    return EmulatorService(replace(config, **bounds), ManualClock(1_772_330_400 * S))


def create(service: EmulatorService, key: str, body: dict[str, Any]) -> Answer:
    return service.create_chatbot(key, json.dumps(body).encode())


def chatbot_id_of(answer: Answer) -> str:
    assert answer.status == 200, answer.body
    return str(json.loads(answer.body)["chatbot"]["id"])


def mint(service: EmulatorService, key: str, chatbot_id: str) -> str:
    answer = service.create_token(key, chatbot_id, b"{}")
    assert answer.status == 200, answer.body
    return str(json.loads(answer.body)["token"])


def chat(service: EmulatorService, token: str, device: str, body: BodyFactory) -> Answer:
    raw = json.dumps(body(device_id=device)).encode()
    return asyncio.run(service.chat(token, raw, Peer("127.0.0.1")))


def assert_capacity(answer: Answer, resource: str, bound: int) -> None:
    """A 429 with code 8 whose ErrorInfo names the emulator's bound; its message says what."""
    assert answer.status == 429
    status = Status.model_validate_json(answer.body)
    assert status.code == 8
    info = status.error_info()
    assert info is not None
    assert (info.reason, info.domain) == (REASON_EMULATOR_CAPACITY, EMULATOR_DOMAIN)
    assert info.metadata == {"resource": resource, "limit": str(bound)}
    assert str(bound) in status.message


def test_chatbots_per_organisation_are_bounded_and_freed_by_delete(
    org_keys: tuple[str, str], chatbot_body: BodyFactory
) -> None:
    emulator = service(org_keys, max_chatbots_per_org=3)
    ids = [chatbot_id_of(create(emulator, org_keys[0], chatbot_body())) for _ in range(3)]
    assert_capacity(create(emulator, org_keys[0], chatbot_body()), "chatbots", 3)
    # The bound is per organisation: the other one still creates.
    chatbot_id_of(create(emulator, org_keys[1], chatbot_body()))
    assert emulator.delete_chatbot(org_keys[0], ids[0]).status == 200
    chatbot_id_of(create(emulator, org_keys[0], chatbot_body()))


def test_tokens_per_chatbot_are_bounded_by_revoking_the_oldest(
    org_keys: tuple[str, str], chatbot_body: BodyFactory, chat_body: BodyFactory
) -> None:
    emulator = service(org_keys, max_tokens_per_chatbot=3)
    chatbot_id = chatbot_id_of(create(emulator, org_keys[0], chatbot_body()))
    tokens = [mint(emulator, org_keys[0], chatbot_id) for _ in range(5)]
    assert emulator.store.live_tokens == 3
    assert [chat(emulator, token, "d", chat_body).status for token in tokens] == [
        401, 401, 200, 200, 200,
    ]  # fmt: skip
    assert emulator.snapshot()["live_tokens"] == 3
    assert emulator.delete_chatbot(org_keys[0], chatbot_id).status == 200
    assert emulator.store.live_tokens == 0


def test_rate_limit_keys_are_bounded_and_idle_ones_make_room(
    org_keys: tuple[str, str], chatbot_body: BodyFactory, chat_body: BodyFactory
) -> None:
    emulator = service(org_keys, max_rate_keys=4)
    chatbot_id = chatbot_id_of(create(emulator, org_keys[0], chatbot_body(limit=2, duration="1s")))
    token = mint(emulator, org_keys[0], chatbot_id)
    assert [chat(emulator, token, f"d{n}", chat_body).status for n in range(4)] == [200] * 4
    assert_capacity(chat(emulator, token, "d4", chat_body), "rate_limit_keys", 4)
    assert emulator.stats.rejected == 1
    # A key known already is still served; once the others are idle, a new one fits again.
    assert chat(emulator, token, "d0", chat_body).status == 200
    assert isinstance(emulator.clock, ManualClock)
    emulator.clock.advance(2 * S)
    assert chat(emulator, token, "d4", chat_body).status == 200
    assert len(emulator.limiter) <= 4


def test_a_stream_of_fresh_keys_keeps_the_table_near_its_live_keys() -> None:
    """A soak's bursts each use a fresh key: the table must forget them, not grow to its bound."""
    table = LimiterTable(Algorithm.SLIDING_LOG)
    rule = Rule(limit=5, duration_ns=S)
    now, largest = 0, 0
    for key in range(20_000):
        now += S // 100  # 100 new keys a second, each idle one second later: 100 live at most
        table.state(("bot", str(key)), rule, now).record(now)
        largest = max(largest, len(table))
    assert largest <= 2 * 100 + 256


def test_quota_books_are_dropped_with_their_chatbot(
    org_keys: tuple[str, str], chatbot_body: BodyFactory, chat_body: BodyFactory
) -> None:
    emulator = service(org_keys)
    for round_ in range(20):
        chatbot_id = chatbot_id_of(create(emulator, org_keys[0], chatbot_body(limit=5, quota=3)))
        token = mint(emulator, org_keys[0], chatbot_id)
        assert chat(emulator, token, f"d{round_}", chat_body).status == 200
        assert len(emulator.quota) == 1
        assert emulator.delete_chatbot(org_keys[0], chatbot_id).status == 200
        assert len(emulator.quota) == 0
        assert len(emulator.limiter) == 0
    assert emulator.snapshot()["quota_books"] == 0
