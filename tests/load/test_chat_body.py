"""Chat bodies: one valid ChatRequest per device id of a key, carrying its device profile."""

from __future__ import annotations

import json

from harness.api import ChatRequest
from harness.load.chat_body import QUESTION, chat_bodies
from harness.load.keys import KeyPlan


def key(*device_ids: str) -> KeyPlan:
    return KeyPlan("c", 0, device_ids[0], (), device_ids, (), ("ios", "tablet", "Safari 16.1"))


def test_one_body_per_device_id() -> None:
    bodies = chat_bodies(key("d-1", "d-2", "d-3"), "session-7")
    assert len(bodies) == 3
    ids = []
    for index, body in enumerate(bodies):
        request = ChatRequest.model_validate_json(body)
        assert request.question == QUESTION
        assert request.kb_ids == []
        assert request.metadata is not None
        assert request.metadata.session_id == "session-7"
        assert request.metadata.conversation_id == f"session-7-{index}"
        device = request.metadata.device
        assert device is not None
        assert (device.platform, device.category, device.browser) == (
            "ios",
            "tablet",
            "Safari 16.1",
        )
        ids.append(device.id)
    assert ids == ["d-1", "d-2", "d-3"]


def test_bodies_are_compact_json_with_only_contract_fields() -> None:
    (body,) = chat_bodies(key("d-1"), "s")
    assert body == json.dumps(json.loads(body), separators=(",", ":")).encode()
    request = ChatRequest.model_validate_json(body)
    assert request.model_extra == {}
    assert json.loads(body) == request.to_wire()
