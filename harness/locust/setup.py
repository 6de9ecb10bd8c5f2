"""A run's fixtures on the target: one chatbot and token per case, READY, probed; deleted after.

Runs on the recording process (local, or the master) when the test starts, and once more at
the end for the teardown. Every chatbot created is registered in ``Provisioned`` the moment the
target answers, so a stop in the middle of the set-up still deletes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent

from harness.api.chatbot import Chatbot, ChatbotStatus
from harness.api.client import AiskClient
from harness.api.errors import AiskError, TransportError
from harness.errors import TargetError
from harness.load.chatbots import chatbot_for_case
from harness.load.scenario import Scenario
from harness.locust.probes import run_setup_probes
from harness.locust.protocol import ChatbotAccess
from harness.locust.recorder import Recorder
from harness.run.records import RequestContext

__all__ = ["Provisioned", "delete_chatbots", "provision", "record_setup_probes"]

log = logging.getLogger("aisk-harness")
SETUP_TIMEOUT_S = 30.0
READY_POLL_FIRST_S = 0.2
READY_POLL_MOST_S = 2.0
PROGRESS_EVERY_S = 5.0


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
    with AiskClient(host, api_key, timeout=SETUP_TIMEOUT_S) as client:
        for case in scenario.cases:
            chatbot = client.create_chatbot(chatbot_for_case(case, run_id))
            made.chatbot_ids[case.name] = chatbot.id
            token = client.create_chatbot_token(chatbot.id)
            access[case.name] = ChatbotAccess(chatbot_id=chatbot.id, token=token)
            created[case.name] = chatbot
        _wait_until_ready(client, created, ready_timeout_s, clock)
    return access


def _wait_until_ready(
    client: AiskClient,
    chatbots: dict[str, Chatbot],
    timeout_s: float,
    clock: Callable[[], float],
) -> None:
    """Poll every chatbot not yet READY (with backoff) until it is, FAILED ends the run, and so
    does ``timeout_s``; a line every few seconds says what is still training."""
    waiting = {name: bot for name, bot in chatbots.items() if bot.status != ChatbotStatus.READY}
    started = clock()
    pause = READY_POLL_FIRST_S
    said = started
    while waiting:
        for name, chatbot in list(waiting.items()):
            if chatbot.status == ChatbotStatus.FAILED:
                raise TargetError(f"case {name!r}: chatbot {chatbot.id} is CHATBOT_STATUS_FAILED")
            if chatbot.status == ChatbotStatus.READY:
                del waiting[name]
        if not waiting:
            return
        elapsed = clock() - started
        if elapsed >= timeout_s:
            names = ", ".join(f"{name} ({bot.id}: {bot.status})" for name, bot in waiting.items())
            raise TargetError(
                f"chatbots not READY after {timeout_s:g} s (--ready-timeout): {names}"
            )
        if clock() - said >= PROGRESS_EVERY_S:
            said = clock()
            log.info("aisk-harness: waiting for %d of %d chatbots to be READY (%.0f s)",
                     len(waiting), len(chatbots), elapsed)  # fmt: skip
        gevent.sleep(min(pause, max(timeout_s - elapsed, 0.0)))
        pause = min(pause * 2, READY_POLL_MOST_S)
        for name, chatbot in list(waiting.items()):
            waiting[name] = client.get_chatbot(chatbot.id)


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
