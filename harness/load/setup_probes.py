"""Requests made once at set-up, recorded like any other: settings round trip and access probes.

They are plain httpx calls (not through the client, whose errors would hide the raw answer), so
each yields the status and body the checks judge.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from harness.api.client import CHAT_PATH, CHATBOTS_PATH

__all__ = ["ProbeResult", "run_setup_probes"]

# The credential a probe sends instead of a real one; it must be refused.
GARBLED_TOKEN = "garbled-token-aisk-harness"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    kind: str
    phase: str
    case: str
    chatbot_id: str
    http_status: int
    body: bytes
    error: str
    times: tuple[int, int, int, int]  # send wall, recv wall, send mono, recv mono


def _call(
    http: httpx.Client, method: str, path: str, authorization: str | None, body: object | None
) -> tuple[int, bytes, str, tuple[int, int, int, int]]:
    headers = {"authorization": f"Bearer {authorization}"} if authorization else {}
    send_wall, send_mono = time.time_ns(), time.monotonic_ns()
    try:
        answer = http.request(method, path, headers=headers, json=body)
        status, content, error = answer.status_code, answer.content, ""
    except httpx.HTTPError as exc:
        status, content, error = 0, b"", type(exc).__name__
    recv_mono, recv_wall = time.monotonic_ns(), time.time_ns()
    return status, content, error, (send_wall, recv_wall, send_mono, recv_mono)


def run_setup_probes(
    host: str, api_key: str, second_api_key: str, chatbots: dict[str, str]
) -> Iterator[ProbeResult]:
    """GET each case's chatbot (settings round trip), then the access probes on the first one."""
    with httpx.Client(base_url=host, timeout=30.0) as http:
        for case, chatbot_id in chatbots.items():
            status, content, error, times = _call(
                http, "GET", f"{CHATBOTS_PATH}/{chatbot_id}", api_key, None
            )
            yield ProbeResult(
                "get_chatbot", "roundtrip", case, chatbot_id, status, content, error, times
            )
        if not chatbots:
            return
        case, chatbot_id = next(iter(chatbots.items()))
        chat = {"question": "access probe", "kb_ids": [], "metadata": {"session_id": "probe"}}
        probes: list[tuple[str, str, str, str, str | None, object]] = [
            ("chat", "access:unknown-token", "POST", CHAT_PATH, GARBLED_TOKEN, chat),
            ("chat", "access:api-key-as-token", "POST", CHAT_PATH, api_key, chat),
            ("get_chatbot", "access:no-key", "GET", f"{CHATBOTS_PATH}/{chatbot_id}", None, None),
        ]
        if second_api_key:
            probes += [
                ("get_chatbot", "access:other-org-get", "GET",
                 f"{CHATBOTS_PATH}/{chatbot_id}", second_api_key, None),
                ("create_token", "access:other-org-token", "POST",
                 f"{CHATBOTS_PATH}/{chatbot_id}/token", second_api_key, {}),
            ]  # fmt: skip
        for kind, phase, method, path, credential, body in probes:
            status, content, error, times = _call(http, method, path, credential, body)
            yield ProbeResult(kind, phase, case, chatbot_id, status, content, error, times)
