"""Before the load: how long the target takes to admit an answer, and to refuse one.

A throwaway chatbot (a limit of 2 per hour, no quota) answers four chats one after the other: two
admitted, two throttled. Their times feed the plan printed before the load (``rails.py``): what
each case offers per second, what it needs in flight, and which cases cannot reach their limit
on this target (``harness/load/reach.py``). It costs two admitted answers and is deleted after.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from harness.api.chat import ChatMetadata, ChatRequest, Device
from harness.api.client import AiskClient
from harness.api.errors import AiskError, ApiError
from harness.api.readiness import NotReadyError, wait_until_ready
from harness.errors import TargetError
from harness.load.chatbots import chatbot_for_case
from harness.load.scenario import Case, Hammer, RateLimitSpec

__all__ = ["CALIBRATION_CHATS", "Calibration", "calibrate"]

CALIBRATION_CHATS = 4
TIMEOUT_S = 120.0
_CASE = Case(
    name="calibration",
    behaviour=Hammer(kind="hammer"),
    rate_limit=RateLimitSpec(limit=2, duration="1h", throttle_message="calibrated"),
)


@dataclass(frozen=True, slots=True)
class Calibration:
    """The median seconds an admitted answer and a refusal took."""

    admitted_s: float
    refused_s: float | None


def _chat(client: AiskClient, token: str) -> tuple[bool, float]:
    request = ChatRequest(
        question="How long does an answer take?",
        kb_ids=[],
        metadata=ChatMetadata(
            session_id="calibration", language="en", device=Device(id="calibration")
        ),
    )
    started = time.monotonic()
    try:
        client.chat(token, request)
    except ApiError:  # refused: a throttle, or whatever the target refuses with (judged later)
        return False, time.monotonic() - started
    return True, time.monotonic() - started


def calibrate(host: str, api_key: str, run_id: str, ready_timeout_s: float) -> Calibration:
    """Four chats on a chatbot made for them; any failure is a ``TargetError`` (one line)."""
    try:
        with AiskClient(host, api_key, timeout=TIMEOUT_S) as client:
            chatbot = client.create_chatbot(chatbot_for_case(_CASE, f"{run_id}-calibration"))
            try:
                token = client.create_chatbot_token(chatbot.id).get_secret_value()
                wait_until_ready(
                    {"calibration": chatbot}, client.get_chatbot, ready_timeout_s,
                    sleep=time.sleep, clock=time.monotonic,
                )  # fmt: skip
                timed = [_chat(client, token) for _ in range(CALIBRATION_CHATS)]
            finally:
                client.delete_chatbot(chatbot.id)
    except (AiskError, NotReadyError) as exc:
        raise TargetError(f"calibration: {exc}") from None
    admitted = [took for ok, took in timed if ok]
    refused = [took for ok, took in timed if not ok]
    if not admitted:
        raise TargetError("calibration: no chat was admitted on a fresh chatbot limited to 2")
    return Calibration(statistics.median(admitted), statistics.median(refused) if refused else None)
