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
from harness.load.classify import MAX_BODY_BYTES

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
    error_class: str = ""  # as in records: set when no whole answer came (body unread or none)


# httpx's failures as the records' error classes (harness/load/classify.py).
_ERROR_CLASSES: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.TimeoutException, "timeout"),
    (httpx.ConnectError, "connect"),
    (httpx.RemoteProtocolError, "truncated"),
    (httpx.ReadError, "reset"),
)


def _error_class(exc: httpx.HTTPError) -> str:
    return next((name for cls, name in _ERROR_CLASSES if isinstance(exc, cls)), "other")


def _call(
    http: httpx.Client, method: str, path: str, authorization: str | None, body: object | None
) -> tuple[int, bytes, str, str, tuple[int, int, int, int]]:
    """(status, body, error class, error, times); the body read up to ``MAX_BODY_BYTES``."""
    # identity: the body is read raw and bounded, never inflated (a compression bomb).
    headers = {"accept-encoding": "identity"}
    if authorization:
        headers["authorization"] = f"Bearer {authorization}"
    send_wall, send_mono = time.time_ns(), time.monotonic_ns()
    status, content, error_class, error = 0, b"", "", ""
    try:
        with http.stream(method, path, headers=headers, json=body) as answer:
            status = answer.status_code
            chunks: list[bytes] = []
            size = 0
            for chunk in answer.iter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    error_class, error = "too_large", f"body larger than {MAX_BODY_BYTES} bytes"
                    break
            content = b"" if error_class else b"".join(chunks)
    except httpx.HTTPError as exc:
        error_class, error = _error_class(exc), type(exc).__name__
        if not status and error_class == "truncated":
            error_class = "reset"  # closed before any answer, as the load's client says
    recv_mono, recv_wall = time.monotonic_ns(), time.time_ns()
    return status, content, error_class, error, (send_wall, recv_wall, send_mono, recv_mono)


def run_setup_probes(
    host: str, api_key: str, second_api_key: str, chatbots: dict[str, str]
) -> Iterator[ProbeResult]:
    """GET each case's chatbot (settings round trip), then the access probes on the first one."""
    with httpx.Client(base_url=host, timeout=30.0) as http:
        for case, chatbot_id in chatbots.items():
            status, content, error_class, error, times = _call(
                http, "GET", f"{CHATBOTS_PATH}/{chatbot_id}", api_key, None
            )
            yield ProbeResult(
                "get_chatbot", "roundtrip", case, chatbot_id, status, content, error, times,
                error_class,
            )  # fmt: skip
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
            status, content, error_class, error, times = _call(http, method, path, credential, body)
            yield ProbeResult(
                kind, phase, case, chatbot_id, status, content, error, times, error_class
            )
