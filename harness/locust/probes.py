"""Requests made once at set-up, recorded like any other: settings round trip and access probes.

They are plain httpx calls (not through the client, whose errors would hide the raw answer),
classified like any chat of the load (``harness.api.answer``), so the checks judge them alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from harness.api.answer import (
    MAX_BODY_BYTES,
    Answer,
    ErrorClass,
    classify_answer,
    transport_answer,
    unread_answer,
)
from harness.api.client import CHAT_PATH, CHATBOTS_PATH
from harness.api.transport import read_bounded, transport_failure

__all__ = ["ProbeResult", "run_setup_probes"]

# The credential a probe sends instead of a real one; it must be refused.
GARBLED_TOKEN = "garbled-token-aisk-harness"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    kind: str
    phase: str
    case: str
    chatbot_id: str
    times: tuple[int, int, int, int]  # send wall, recv wall, send mono, recv mono
    answer: Answer  # classified as a load chat's would be


def _call(
    http: httpx.Client,
    kind: str,
    method: str,
    path: str,
    authorization: str | None,
    body: object | None,
) -> tuple[Answer, tuple[int, int, int, int]]:
    """The classified answer and the four instants; the body read up to ``MAX_BODY_BYTES``."""
    # identity: the body is read raw and bounded, never inflated (a compression bomb).
    headers = {"accept-encoding": "identity"}
    if authorization:
        headers["authorization"] = f"Bearer {authorization}"
    send_wall, send_mono = time.time_ns(), time.monotonic_ns()
    status = 0
    try:
        with http.stream(method, path, headers=headers, json=body) as answer:
            status = answer.status_code
            read = read_bounded(answer.iter_raw(), MAX_BODY_BYTES)
        if read.problem:
            result = unread_answer(status, read.problem, read.error, read.size)
        else:
            result = classify_answer(kind, status, read.data)
    except httpx.HTTPError as exc:
        failure = transport_failure(exc)
        if status:  # the status came, the body did not
            result = unread_answer(status, failure.error_class, type(exc).__name__, 0)
        else:
            error_class = failure.error_class
            if error_class is ErrorClass.TRUNCATED:
                error_class = ErrorClass.RESET  # closed before any answer, as the load says
            result = transport_answer(error_class, type(exc).__name__)
    recv_mono, recv_wall = time.monotonic_ns(), time.time_ns()
    return result, (send_wall, recv_wall, send_mono, recv_mono)


def run_setup_probes(
    host: str, api_key: str, second_api_key: str, chatbots: dict[str, str]
) -> Iterator[ProbeResult]:
    """GET each case's chatbot (settings round trip), then the access probes on the first one."""
    with httpx.Client(base_url=host, timeout=30.0) as http:
        for case, chatbot_id in chatbots.items():
            answer, times = _call(
                http, "get_chatbot", "GET", f"{CHATBOTS_PATH}/{chatbot_id}", api_key, None
            )
            yield ProbeResult("get_chatbot", "roundtrip", case, chatbot_id, times, answer)
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
                (
                    "get_chatbot",
                    "access:other-org-get",
                    "GET",
                    f"{CHATBOTS_PATH}/{chatbot_id}",
                    second_api_key,
                    None,
                ),
                (
                    "create_token",
                    "access:other-org-token",
                    "POST",
                    f"{CHATBOTS_PATH}/{chatbot_id}/token",
                    second_api_key,
                    {},
                ),
            ]
        for kind, phase, method, path, credential, body in probes:
            answer, times = _call(http, kind, method, path, credential, body)
            yield ProbeResult(kind, phase, case, chatbot_id, times, answer)
