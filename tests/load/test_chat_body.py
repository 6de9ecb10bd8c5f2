"""Chat bodies: valid ChatRequests that carry the scenario's questions, kb_ids and language, a
key's devices with their profile, and the session policy."""

from __future__ import annotations

import json

from harness.api import ChatRequest
from harness.load.chat_body import ChatBodies
from harness.load.chat_spec import DEFAULT_QUESTION, ChatSpec
from harness.load.keys import KeyPlan


def key(*device_ids: str) -> KeyPlan:
    return KeyPlan("c", 0, device_ids[0], (), device_ids, (), ("ios", "tablet", "Safari 16.1"))


def requests(bodies: ChatBodies, turns: int) -> list[ChatRequest]:
    return [ChatRequest.model_validate_json(bodies.body(turn)) for turn in range(turns)]


def test_by_default_each_device_of_a_key_asks_one_question_in_its_own_conversation() -> None:
    bodies = ChatBodies(key("d-1", "d-2", "d-3"), "session-7", ChatSpec())
    ids = []
    for turn, request in enumerate(requests(bodies, 3)):
        assert bodies.device(turn) == turn
        assert request.question == DEFAULT_QUESTION
        assert request.kb_ids == []
        assert request.metadata is not None
        assert request.metadata.session_id == "session-7"
        assert request.metadata.conversation_id == f"session-7-{turn}"
        assert request.metadata.language == "en"
        device = request.metadata.device
        assert device is not None
        assert (device.platform, device.category, device.browser) == (
            "ios",
            "tablet",
            "Safari 16.1",
        )
        ids.append(device.id)
    assert ids == ["d-1", "d-2", "d-3"]


def test_every_device_asks_the_questions_in_turn_with_the_kb_ids_and_language() -> None:
    chat = ChatSpec(questions=["q1", "q2", "q3"], kb_ids=["kb-a", "kb-b"], language="zh-TW")
    bodies = ChatBodies(key("d-1", "d-2"), "s", chat)
    asked = [(r.metadata.device.id, r.question) for r in requests(bodies, 6)]  # type: ignore[union-attr]
    assert asked == [("d-1", "q1"), ("d-2", "q1"), ("d-1", "q2"), ("d-2", "q2"),
                     ("d-1", "q3"), ("d-2", "q3")]  # fmt: skip
    for request in requests(bodies, 2):
        assert request.kb_ids == ["kb-a", "kb-b"]
        assert request.metadata is not None
        assert request.metadata.language == "zh-TW"


def test_per_request_sessions_are_new_every_request() -> None:
    bodies = ChatBodies(key("d-1"), "s", ChatSpec(session="per-request"))
    sessions = [r.metadata.session_id for r in requests(bodies, 4)]  # type: ignore[union-attr]
    assert len(set(sessions)) == 4


def test_bodies_are_compact_json_with_only_contract_fields() -> None:
    body = ChatBodies(key("d-1"), "s", ChatSpec(questions=['say "hi"\n'])).body(0)
    assert body == json.dumps(json.loads(body), separators=(",", ":")).encode()
    request = ChatRequest.model_validate_json(body)
    assert request.model_extra == {}
    assert json.loads(body) == request.to_wire()
    assert request.question == 'say "hi"\n'
