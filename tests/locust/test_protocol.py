"""The master's and workers' messages: what each carries over Locust's msgpack wire, what is
refused on arrival, and who the sender is (a fake runner, no Locust)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgpack
import pytest
from pydantic import SecretStr

from harness.load.options import RUN_OPTIONS
from harness.load.settings import run_settings
from harness.locust.protocol import (
    ChatbotAccess,
    Claim,
    Flushed,
    FlushNow,
    Hello,
    Message,
    Ping,
    Pong,
    Records,
    SetUp,
    SlotGrant,
    Sources,
    listen,
    send,
)

TOKEN = "tok-secret-123"


class FakeRunner:
    """What ``send`` and ``listen`` use of Locust's runners, each message packed as Locust does."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, str | None]] = []
        self.handlers: dict[str, tuple[Callable[..., None], bool]] = {}

    def send_message(self, kind: str, data: dict[str, Any], client_id: str | None) -> None:
        self.sent.append((kind, msgpack.packb(data, use_bin_type=True), client_id))

    def register_message(self, kind: str, handler: Callable[..., None], concurrent: bool) -> None:
        self.handlers[kind] = (handler, concurrent)

    def arrive(self, kind: str, data: object, node_id: str = "worker-a") -> None:
        handler, _ = self.handlers[kind]
        handler(None, SimpleNamespace(data=data, node_id=node_id))


def set_up(tmp_path: Path) -> SetUp:
    options: dict[str, object] = {option.name: None for option in RUN_OPTIONS}
    settings = run_settings(
        options, spell=str, run_id="run-1", run_dir=tmp_path, target="http://127.0.0.1:9"
    )
    chatbots = {"case-a": ChatbotAccess(chatbot_id="bot-1", token=SecretStr(TOKEN))}
    return SetUp(settings=settings, chatbots=chatbots)


MESSAGES: list[Message] = [
    Sources(addresses=["10.0.0.1", "10.0.0.2"]),
    Hello(),
    Claim(nonce="abc"),
    SlotGrant(nonce="abc", index=-1),
    SlotGrant(nonce="abc", index=12),
    Records(table=b"\x00\xffarrow bytes"),
    Flushed(recorded=42, dropped={"case-a": 3}, behind={"case-a": 1}),
    FlushNow(),
    Ping(sent_ns=1_700_000_000_000_000_001),
    Pong(sent_ns=1, master_ns=2),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda message: type(message).__name__)
def test_every_message_arrives_as_it_was_sent(message: Message) -> None:
    runner = FakeRunner()
    got: list[tuple[Message, str]] = []
    listen(runner, type(message), lambda m, sender: got.append((m, sender)))
    send(runner, message, "worker-a")
    ((kind, packed, to),) = runner.sent
    assert (kind, to) == (message.kind, "worker-a")
    runner.arrive(kind, msgpack.unpackb(packed, raw=False), node_id="worker-b")
    assert got == [(message, "worker-b")]  # the sender is Locust's connection, not the message


def test_the_set_up_carries_the_token_only_on_the_wire(tmp_path: Path) -> None:
    message = set_up(tmp_path)
    runner = FakeRunner()
    got: list[SetUp] = []
    listen(runner, SetUp, lambda m, _: got.append(m), concurrent=True)
    send(runner, message)
    ((kind, packed, to),) = runner.sent
    assert to is None
    assert TOKEN.encode() in packed
    assert runner.handlers[kind][1] is True
    runner.arrive(kind, msgpack.unpackb(packed, raw=False))
    (arrived,) = got
    assert arrived.chatbots["case-a"].token.get_secret_value() == TOKEN
    assert arrived.settings == message.settings
    assert TOKEN not in repr(arrived)
    assert TOKEN not in str(arrived.model_dump())


@pytest.mark.parametrize(
    ("kind", "data", "why"),
    [
        (SlotGrant, {"nonce": "n", "index": -2}, "greater than or equal to -1"),
        (Flushed, {"recorded": -1}, "greater than or equal to 0"),
        (Flushed, {"recorded": 3, "lost": 1}, "Extra inputs are not permitted"),
        (Records, {"table": None}, "valid bytes"),
        (Claim, None, "Field required"),
        (Ping, {"sent_ns": "soon"}, "valid integer"),
    ],
)
def test_a_malformed_message_is_said_and_dropped(
    kind: type[Message], data: object, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    runner = FakeRunner()
    got: list[Message] = []
    listen(runner, kind, lambda m, _: got.append(m))
    with caplog.at_level(logging.ERROR, logger="aisk-harness"):
        runner.arrive(kind.kind, data, node_id="worker-c")
    assert got == []
    assert f"a malformed {kind.kind} message from worker-c was dropped" in caplog.text
    assert why in caplog.text


def test_every_kind_has_its_own_locust_message_type() -> None:
    kinds = [type(message).kind for message in MESSAGES] + [SetUp.kind]
    assert len(set(kinds)) == len({type(message) for message in MESSAGES}) + 1
    assert all(kind.startswith("aisk_") for kind in kinds)
