"""Before the load: how long the target takes to admit an answer, and to refuse one.

A throwaway chatbot (a limit of 2 per hour, no quota) answers four chats one after the other: two
admitted, two throttled. Their times feed the plan printed before the load (``rails.py``): what
each case offers per second, what it needs in flight, and which cases cannot reach their limit
on this target (``harness/load/reach.py``). It costs two admitted answers and is deleted after.
Every one of the four is on disk, in the run directory's ``calibration.json``: no request the
harness sends goes unrecorded (the target's own counts include them).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from harness.api.chat import ChatMetadata, ChatRequest, Device
from harness.api.client import AiskClient
from harness.api.errors import AiskError, ApiError
from harness.api.readiness import NotReadyError, wait_until_ready
from harness.errors import TargetError
from harness.load.chatbots import chatbot_for_case
from harness.load.scenario import Case, Hammer, RateLimitSpec
from harness.model_files import write_model

__all__ = ["CALIBRATION_CHATS", "CALIBRATION_FILE", "Calibration", "CalibrationChat", "calibrate"]

CALIBRATION_CHATS = 4
CALIBRATION_FILE = "calibration.json"
TIMEOUT_S = 120.0
_CASE = Case(
    name="calibration",
    behaviour=Hammer(kind="hammer"),
    rate_limit=RateLimitSpec(limit=2, duration="1h", throttle_message="calibrated"),
)


class CalibrationChat(BaseModel):
    """One calibration chat: admitted or not, its HTTP status, seconds from send to receive."""

    model_config = ConfigDict(frozen=True)

    admitted: bool
    http_status: int
    seconds: float


class Calibration(BaseModel):
    """The median seconds an admitted answer and a refusal took, and the chats they come from."""

    model_config = ConfigDict(frozen=True)

    chatbot_id: str
    admitted_s: float
    refused_s: float | None
    chats: list[CalibrationChat]


def _chat(client: AiskClient, token: str) -> CalibrationChat:
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
    except ApiError as refused:  # a throttle, or whatever the target refuses with (judged later)
        return CalibrationChat(
            admitted=False, http_status=refused.http_status, seconds=time.monotonic() - started
        )
    return CalibrationChat(admitted=True, http_status=200, seconds=time.monotonic() - started)


def calibrate(
    host: str, api_key: str, run_id: str, ready_timeout_s: float, run_dir: Path
) -> Calibration:
    """Four chats on a chatbot made for them, written to ``run_dir``; any failure is a
    ``TargetError`` (one line)."""
    try:
        with AiskClient(host, api_key, timeout=TIMEOUT_S) as client:
            chatbot = client.create_chatbot(chatbot_for_case(_CASE, f"{run_id}-calibration"))
            try:
                token = client.create_chatbot_token(chatbot.id).get_secret_value()
                wait_until_ready(
                    {"calibration": chatbot},
                    client.get_chatbot,
                    ready_timeout_s,
                    sleep=time.sleep,
                    clock=time.monotonic,
                )
                timed = [_chat(client, token) for _ in range(CALIBRATION_CHATS)]
            finally:
                client.delete_chatbot(chatbot.id)
    except (AiskError, NotReadyError) as exc:
        raise TargetError(f"calibration: {exc}") from None
    admitted = [chat.seconds for chat in timed if chat.admitted]
    refused = [chat.seconds for chat in timed if not chat.admitted]
    calibration = Calibration(
        chatbot_id=chatbot.id,
        admitted_s=statistics.median(admitted) if admitted else 0.0,
        refused_s=statistics.median(refused) if refused else None,
        chats=timed,
    )
    write_model(run_dir / CALIBRATION_FILE, calibration)
    if not admitted:
        raise TargetError("calibration: no chat was admitted on a fresh chatbot limited to 2")
    return calibration
