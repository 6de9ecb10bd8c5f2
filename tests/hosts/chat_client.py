"""What a client host runs in the netns tests: the chatbot API through the harness's own client.

``python chat_client.py chat BASE_URL --before N --after M``, with ``AISK_API_KEY`` in the
environment: create a chatbot, mint its token, chat N times, print ``paused``, wait for a line on
stdin, chat M more times, delete the chatbot. One line per step on stdout, flushed, so the test
can follow: ``chatted <i>`` per answer, ``paused``, ``done``; on the first error ``failed
<ErrorClass>`` and exit 3 (the test decides whether that was expected).

``python chat_client.py stats BASE_URL`` prints the emulator's ``/_emulator/stats`` as JSON.
"""

from __future__ import annotations

import argparse
import os
import sys

import httpx

from harness.api import (
    AiskClient,
    AiskError,
    Appearance,
    Chatbot,
    ChatMetadata,
    ChatRequest,
    Device,
    Model,
    QuotaLimit,
    RateLimit,
    Reference,
    ResponseLength,
    Setting,
)


def say(line: str) -> None:
    print(line, flush=True)


def question(number: int) -> ChatRequest:
    device = Device(id="netns-device", platform="windows", category="desktop", browser="Chrome")
    metadata = ChatMetadata(session_id="netns", conversation_id="1", language="en", device=device)
    return ChatRequest(question=f"question {number}", kb_ids=[], metadata=metadata)


def chat(base_url: str, before: int, after: int, timeout: float) -> int:
    chatbot = Chatbot(
        name="netns client",
        setting=Setting(model=Model.LITE, response_length=ResponseLength(enabled=False)),
        appearance=Appearance(enabled=False),
        reference=Reference(kb_selection=False, display_citation=True),
        rate_limit=RateLimit(enabled=False),
        quota_limit=QuotaLimit(enabled=False),
    )
    with AiskClient(base_url, os.environ["AISK_API_KEY"], timeout=timeout) as client:
        try:
            created = client.create_chatbot(chatbot)
            token = client.create_chatbot_token(created.id)
            for number in range(1, before + after + 1):
                if number == before + 1:
                    say("paused")
                    if not sys.stdin.readline():
                        return 0  # the test is gone
                client.chat(token, question(number))
                say(f"chatted {number}")
            client.delete_chatbot(created.id)
        except AiskError as exc:
            say(f"failed {type(exc).__name__}: {exc}")
            return 3
    say("done")
    return 0


def stats(base_url: str, timeout: float) -> int:
    answer = httpx.get(
        f"{base_url}/_emulator/stats",
        headers={"authorization": f"Bearer {os.environ['AISK_API_KEY']}"},
        timeout=timeout,
    )
    answer.raise_for_status()
    say(answer.text)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["chat", "stats"])
    parser.add_argument("base_url")
    parser.add_argument("--before", type=int, default=1)
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    if args.command == "stats":
        return stats(args.base_url, args.timeout)
    return chat(args.base_url, args.before, args.after, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
