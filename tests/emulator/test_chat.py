"""``POST /bv/aisk/v1/prompts:chat``: every bad field of a chat named alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

BodyFactory = Callable[..., dict[str, Any]]
Bearer = Callable[[str], dict[str, str]]
Fields = Callable[[httpx.Response], set[str]]
WithValue = Callable[[dict[str, Any], str, Any], dict[str, Any]]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("question", ..., "question"),
        ("question", "  ", "question"),
        ("question", 42, "question"),
        ("question", "q" * 20_000, "question"),
        ("kb_ids", ..., "kb_ids"),
        ("kb_ids", "kb-1", "kb_ids"),
        ("kb_ids", [1], "kb_ids[0]"),
        ("metadata", ..., "metadata"),
        ("metadata", None, "metadata"),
        ("metadata", [], "metadata"),
        ("metadata.device", "phone", "metadata.device"),
        ("metadata.device.id", "d" * 300, "metadata.device.id"),
    ],
)
def test_a_bad_chat_field_is_named_alone(
    shared_client: httpx.Client,
    shared_bot: tuple[str, str],
    chat_body: BodyFactory,
    path: str,
    value: Any,
    field: str,
    bearer: Bearer,
    violated_fields: Fields,
    with_value: WithValue,
) -> None:
    _, token = shared_bot
    response = shared_client.post(
        CHAT, json=with_value(chat_body(), path, value), headers=bearer(token)
    )
    assert violated_fields(response) == {field}
