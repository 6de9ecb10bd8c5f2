"""A run's fixtures on the target: one chatbot and token per case, READY, probed; deleted after.

A case on an existing chatbot (``run --chatbot``) reads it instead, and takes its token from
``AISK_CHATBOT_TOKEN`` (one existing chatbot) or mints one; it is never registered for deletion.

Runs on the recording process (local, or the master) when the test starts, and once more at
the end for the teardown. Every chatbot created is registered in ``Provisioned`` the moment the
target answers, so a stop in the middle of the set-up still deletes it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent
from pydantic import SecretStr

from harness.api.chatbot import Chatbot
from harness.api.client import AiskClient
from harness.api.errors import AiskError, TransportError
from harness.api.readiness import NotReadyError, wait_until_ready
from harness.errors import TargetError
from harness.load.chatbots import chatbot_for_case
from harness.load.options import CHATBOT_TOKEN_ENV
from harness.load.scenario import Scenario
from harness.locust.probes import run_setup_probes
from harness.locust.protocol import ChatbotAccess
from harness.locust.recorder import Recorder
from harness.run.records import RequestContext

__all__ = ["Provisioned", "delete_chatbots", "provision", "record_setup_probes"]

log = logging.getLogger("aisk-harness")
SETUP_TIMEOUT_S = 30.0


@dataclass
class Provisioned:
    """The chatbots this run made on the target (case → chatbot id), as soon as each exists."""

    chatbot_ids: dict[str, str] = field(default_factory=dict)


def provision(
    host: str,
    api_key: str,
    scenario: Scenario,
    run_id: str,
    ready_timeout_s: float,
    made: Provisioned,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, ChatbotAccess]:
    """A chatbot and a token per case, every chatbot READY; raises ``AiskError`` or
    ``TargetError``; the caller deletes what ``made`` holds, whatever happened."""
    if not api_key:
        raise TargetError("no API key: set AISK_API_KEY (or pass --aisk-api-key)")
    created: dict[str, Chatbot] = {}
    access: dict[str, ChatbotAccess] = {}
    tokens: dict[str, SecretStr] = {}  # an existing chatbot's, shared by its cases
    existing = {case.chatbot_id for case in scenario.cases if case.chatbot_id is not None}
    given = os.environ.get(CHATBOT_TOKEN_ENV, "")
    with AiskClient(host, api_key, timeout=SETUP_TIMEOUT_S) as client:
        for case in scenario.cases:
            if case.chatbot_id is not None:  # judged as it is: read, never created or deleted
                chatbot = client.get_chatbot(case.chatbot_id)
                if case.chatbot_id not in tokens:
                    tokens[case.chatbot_id] = (
                        SecretStr(given)
                        if given and len(existing) == 1
                        else client.create_chatbot_token(case.chatbot_id)
                    )
                token = tokens[case.chatbot_id]
            else:
                chatbot = client.create_chatbot(chatbot_for_case(case, run_id))
                made.chatbot_ids[case.name] = chatbot.id
                token = client.create_chatbot_token(chatbot.id)
            access[case.name] = ChatbotAccess(chatbot_id=chatbot.id, token=token)
            created[case.name] = chatbot
        try:
            wait_until_ready(
                created,
                client.get_chatbot,
                ready_timeout_s,
                sleep=gevent.sleep,
                clock=clock,
                say=_say_waiting,
            )
        except NotReadyError as exc:
            raise TargetError(f"{exc} (--ready-timeout)") from None
    return access


def _say_waiting(waiting: int, of: int, elapsed_s: float) -> None:
    log.info(
        "aisk-harness: waiting for %d of %d chatbots to be READY (%.0f s)", waiting, of, elapsed_s
    )


def record_setup_probes(
    host: str,
    api_key: str,
    second_api_key: str,
    chatbots: dict[str, ChatbotAccess],
    recorder: Recorder,
) -> None:
    """The settings round trip and access probes, recorded before the load starts."""
    ids = {name: access.chatbot_id for name, access in chatbots.items()}
    for probe in run_setup_probes(host, api_key, second_api_key, ids):
        context = RequestContext(probe.case, probe.chatbot_id, "", "", "", "", "", "setup")
        recorder.add(probe.kind, probe.phase, context, probe.times, probe.answer)


def delete_chatbots(
    host: str, api_key: str, chatbot_ids: dict[str, str], timeout_s: float = 30.0
) -> dict[str, str]:
    """Delete every chatbot of the run; returns the ones left, with why (the run goes on).

    Once the target cannot be reached, the remaining chatbots are reported without trying each
    (a dead or hung target would otherwise cost a timeout per chatbot).
    """
    left: dict[str, str] = {}
    unreachable = ""
    with AiskClient(host, api_key, timeout=timeout_s) as client:
        for name, chatbot_id in chatbot_ids.items():
            where = f"case {name}: chatbot {chatbot_id} was not deleted"
            if unreachable:
                left[chatbot_id] = f"{where} (the target is unreachable: {unreachable})"
                continue
            try:
                client.delete_chatbot(chatbot_id)
            except TransportError as exc:
                unreachable = exc.kind
                left[chatbot_id] = f"{where}: {exc}"
            except AiskError as exc:
                left[chatbot_id] = f"{where}: {exc}"
    return left
