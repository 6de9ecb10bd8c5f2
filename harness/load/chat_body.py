"""The bodies a simulated client sends to prompts:chat, encoded once per device."""

from __future__ import annotations

import json

from harness.load.keys import KeyPlan

__all__ = ["QUESTION", "chat_bodies"]

QUESTION = "How many messages may I send per minute?"


def chat_bodies(key: KeyPlan, session_id: str) -> tuple[bytes, ...]:
    """One encoded ``ChatRequest`` per device id of the key, with plausible device metadata."""
    platform, category, browser = key.profile
    return tuple(
        json.dumps(
            {
                "question": QUESTION,
                "kb_ids": [],
                "metadata": {
                    "session_id": session_id,
                    "conversation_id": f"{session_id}-{index}",
                    "language": "en",
                    "device": {
                        "id": device_id,
                        "platform": platform,
                        "category": category,
                        "browser": browser,
                    },
                },
            },
            separators=(",", ":"),
        ).encode()
        for index, device_id in enumerate(key.device_ids)
    )
