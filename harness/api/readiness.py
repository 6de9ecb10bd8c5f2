"""Waiting for new chatbots to be READY: a new chatbot may train for a while, and a chat on it
meanwhile is refused (the real service answers 400, FAILED_PRECONDITION).

Pure over what it is handed (how to read a chatbot, how to sleep, what time it is, how to say
progress), so the Locust set-up (gevent) and the command line (threads) wait the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.api.chatbot import Chatbot, ChatbotStatus

__all__ = ["NotReadyError", "wait_until_ready"]

FIRST_POLL_S = 0.2
LONGEST_POLL_S = 2.0
PROGRESS_EVERY_S = 5.0


class NotReadyError(Exception):
    """A chatbot FAILED its training, or some were still training at the deadline; the message
    names them (ids, not secrets)."""


def wait_until_ready(
    chatbots: dict[str, Chatbot],
    get: Callable[[str], Chatbot],
    timeout_s: float,
    *,
    sleep: Callable[[float], object],
    clock: Callable[[], float],
    say: Callable[[int, int, float], object] = lambda waiting, of, elapsed: None,
) -> None:
    """Poll every chatbot (by name) not yet READY, with backoff, until each is; FAILED, or
    ``timeout_s`` with some still training, raises ``NotReadyError``. ``say(waiting, of,
    elapsed_s)`` is called every few seconds while some are training."""
    waiting = {name: bot for name, bot in chatbots.items() if bot.status != ChatbotStatus.READY}
    started = said = clock()
    pause = FIRST_POLL_S
    while waiting:
        for name, chatbot in list(waiting.items()):
            if chatbot.status == ChatbotStatus.FAILED:
                raise NotReadyError(f"case {name!r}: chatbot {chatbot.id} is CHATBOT_STATUS_FAILED")
            if chatbot.status == ChatbotStatus.READY:
                del waiting[name]
        if not waiting:
            return
        elapsed = clock() - started
        if elapsed >= timeout_s:
            names = ", ".join(f"{name} ({bot.id}: {bot.status})" for name, bot in waiting.items())
            raise NotReadyError(f"chatbots not READY after {timeout_s:g} s: {names}")
        if clock() - said >= PROGRESS_EVERY_S:
            said = clock()
            say(len(waiting), len(chatbots), elapsed)
        sleep(min(pause, max(timeout_s - elapsed, 0.0)))
        pause = min(pause * 2, LONGEST_POLL_S)
        waiting = {name: get(bot.id) for name, bot in waiting.items()}
