"""``/_emulator/stats``: what the emulator counted, and bounded memories of what chats asked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import SecretStr

from harness.emulator import EmulatorConfig, EmulatorService, ManualClock
from harness.emulator.chat import Peer
from harness.emulator.stats import MAX_ASKED_REMEMBERED, Remembered

BodyFactory = Callable[..., dict[str, Any]]
ChatbotFactory = Callable[..., tuple[str, str]]

CHAT = "/bv/aisk/v1/prompts:chat"
KEY = "org-key-stats-0c7d"


def test_remembered_keeps_distinct_values_up_to_its_bound_and_says_when_it_left_one_out() -> None:
    memory = Remembered(bound=2, max_chars=5)
    for value in ("a", "b", "a", "b"):
        memory.add(value)
    assert (memory.values, memory.complete) == ({"a", "b"}, True)  # repeats cost nothing
    memory.add("c")
    assert (memory.values, memory.complete) == ({"a", "b"}, False)
    too_long = Remembered(bound=10, max_chars=5)
    too_long.add("123456")
    assert (too_long.values, too_long.complete) == (set(), False)


def test_stats_show_the_questions_and_kb_ids_chats_asked(
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    org_keys: tuple[str, str],
) -> None:
    _, token = new_chatbot(client, chatbot_body(limit=1))
    asked = [("What is a stats question?", ["kb-stats-1", "kb-stats-2"]), ("Another?", [])]
    for question, kb_ids in asked:  # the second is throttled: it reached the target all the same
        body = {**chat_body(question=question), "kb_ids": kb_ids}
        client.post(CHAT, json=body, headers={"authorization": f"Bearer {token}"})
    stats = client.get(
        "/_emulator/stats", headers={"authorization": f"Bearer {org_keys[0]}"}
    ).json()
    assert stats["questions"] == ["Another?", "What is a stats question?"]
    assert stats["kb_ids"] == ["kb-stats-1", "kb-stats-2"]
    assert (stats["admitted"], stats["throttled"]) == (1, 1)
    assert stats["remembered_all"] == {"peers": True, "questions": True, "kb_ids": True}
    assert stats["not_ready"] == 0


def test_questions_and_kb_ids_are_remembered_only_up_to_the_bound(
    chatbot_body: BodyFactory, chat_body: BodyFactory, start_ns: int
) -> None:
    service = EmulatorService(EmulatorConfig(api_keys=(SecretStr(KEY),)), ManualClock(start_ns))
    created = service.create_chatbot(KEY, json.dumps(chatbot_body(limit=None)).encode())
    chatbot_id = json.loads(created.body)["chatbot"]["id"]
    token = json.loads(service.create_token(KEY, chatbot_id, b"").body)["token"]

    async def ask_many() -> None:
        for index in range(MAX_ASKED_REMEMBERED + 20):
            body = {**chat_body(question=f"question {index}"), "kb_ids": [f"kb-{index}"]}
            raw = json.dumps(body).encode()
            assert (await service.chat(f"Bearer {token}", raw, Peer("127.0.0.1"))).status == 200

    asyncio.run(ask_many())
    snapshot = service.snapshot()
    questions, kb_ids = snapshot["questions"], snapshot["kb_ids"]
    assert isinstance(questions, list)
    assert isinstance(kb_ids, list)
    assert len(questions) == len(kb_ids) == MAX_ASKED_REMEMBERED
    assert "question 0" in questions  # the first ones are kept, later new ones are left out
    assert f"question {MAX_ASKED_REMEMBERED}" not in questions
    assert snapshot["remembered_all"] == {"peers": True, "questions": False, "kb_ids": False}
