"""The bodies a simulated client sends to prompts:chat: the scenario's questions, a key's devices.

A body is the question's JSON (encoded once per question list, shared by every key that asks
it) joined to the rest of the request (encoded once per device of the key, or per request where
every request is a new session), so a request costs a concatenation, not an encoding.
"""

from __future__ import annotations

import json
from functools import lru_cache

from harness.load.chat_spec import ChatSpec
from harness.load.keys import KeyPlan

__all__ = ["ChatBodies"]


@lru_cache(maxsize=64)
def _encoded_questions(questions: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(b'{"question":' + json.dumps(question).encode() for question in questions)


def _tail(chat: ChatSpec, key: KeyPlan, device: int, session_id: str, conversation: str) -> bytes:
    platform, category, browser = key.profile
    rest = {
        "kb_ids": list(chat.kb_ids),
        "metadata": {
            "session_id": session_id,
            "conversation_id": conversation,
            "language": chat.language,
            "device": {
                "id": key.device_ids[device],
                "platform": platform,
                "category": category,
                "browser": browser,
            },
        },
    }
    return b"," + json.dumps(rest, separators=(",", ":")).encode()[1:]


class ChatBodies:
    """Request ``turn`` of a key: device ``turn % devices``; each device asks the questions in
    turn (question ``turn // devices``, cycled)."""

    def __init__(self, key: KeyPlan, session_id: str, chat: ChatSpec) -> None:
        self._key = key
        self._chat = chat
        self._session_id = session_id
        self._devices = len(key.device_ids)
        self._questions = _encoded_questions(tuple(chat.questions))
        self._per_request = chat.session == "per-request"
        self._tails = tuple(
            _tail(chat, key, device, session_id, f"{session_id}-{device}")
            for device in range(self._devices)
        )

    def device(self, turn: int) -> int:
        return turn % self._devices

    def body(self, turn: int) -> bytes:
        device = turn % self._devices
        question = self._questions[(turn // self._devices) % len(self._questions)]
        if self._per_request:
            session = f"{self._session_id}-r{turn}"
            return question + _tail(self._chat, self._key, device, session, f"{session}-0")
        return question + self._tails[device]
