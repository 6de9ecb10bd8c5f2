"""The messages between the master and its workers, typed: what each says, and who sends it.

Locust carries custom messages as msgpack dicts (``runner.send_message``); here each kind is a
pydantic model, validated on arrival, so a handler receives a typed message or none at all (a
malformed one is logged and dropped). The sender of a worker's message is known from Locust's own
connection (``msg.node_id``), never from what the message says.

master → workers: ``SetUp`` (the settings and every case's chatbot and token), ``SlotGrant``
(the answer to a claim), ``Pong``, ``FlushNow`` (the master is stopping: stop and report).
worker → master: ``Sources`` (at its start: the source addresses it can send from), ``Hello`` (a
worker that started without a set-up), ``Claim``, ``Records`` (a
batch as Arrow IPC), ``UsersDone`` (every user it was given has run its slot), ``Flushed`` (its
last batch has gone: its total), ``Ping``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from harness.load.settings import RunSettings

if TYPE_CHECKING:  # the messages are importable without Locust (and its gevent patching)
    from locust.env import Environment
    from locust.rpc.protocol import Message as LocustMessage
    from locust.runners import MasterRunner, WorkerRunner

__all__ = [
    "ChatbotAccess",
    "Claim",
    "FlushNow",
    "Flushed",
    "Hello",
    "Message",
    "Ping",
    "Pong",
    "Records",
    "SetUp",
    "SlotGrant",
    "Sources",
    "UsersDone",
    "listen",
    "send",
]

log = logging.getLogger("aisk-harness")
M = TypeVar("M", bound="Message")


class Message(BaseModel):
    """A custom message; ``kind`` is its Locust message type."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[str]

    def wire(self) -> dict[str, object]:
        return self.model_dump(mode="python")


class ChatbotAccess(BaseModel):
    """A case's chatbot, and the token its chats carry (a secret: only ever in memory)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chatbot_id: str
    token: SecretStr


class SetUp(Message):
    kind = "aisk_setup"
    settings: RunSettings
    chatbots: dict[str, ChatbotAccess]

    def wire(self) -> dict[str, object]:
        # The token goes in clear, over the master's own connection to its workers only.
        return {
            "settings": self.settings.model_dump(mode="json"),
            "chatbots": {
                case: {"chatbot_id": access.chatbot_id, "token": access.token.get_secret_value()}
                for case, access in self.chatbots.items()
            },
        }


class Sources(Message):
    kind = "aisk_sources"
    addresses: list[str]  # the IPv4 addresses this worker may bind (its IP keys' sources)


class Hello(Message):
    kind = "aisk_hello"


class Claim(Message):
    kind = "aisk_claim"
    nonce: str


class SlotGrant(Message):
    kind = "aisk_slot"
    nonce: str
    index: int = Field(ge=-1)  # -1: no slot left


class Records(Message):
    kind = "aisk_records"
    table: bytes  # Arrow IPC stream of records (harness.run.batches.table_to_bytes)


class Flushed(Message):
    kind = "aisk_flushed"
    recorded: int = Field(ge=0)  # every record this worker made, all batches sent before this
    dropped: dict[str, int] = Field(default_factory=dict)  # open-model arrivals never sent, by case
    behind: dict[str, int] = Field(default_factory=dict)  # those its scheduler handed over late


class UsersDone(Message):
    """Every user this worker was given for the run has ended. The master's own count of a
    worker's users comes from Locust's reports, which lag on a busy host (before the first one
    arrives it reads 0), so the master ends a run on this message, never on that count alone."""

    kind = "aisk_users_done"


class FlushNow(Message):
    kind = "aisk_flush_now"


class Ping(Message):
    kind = "aisk_ping"
    sent_ns: int  # the worker's wall clock when it sent this


class Pong(Message):
    kind = "aisk_pong"
    sent_ns: int  # echoed
    master_ns: int  # the master's wall clock when it answered


def send(
    runner: MasterRunner | WorkerRunner, message: Message, client_id: str | None = None
) -> None:
    """``message`` to the master (from a worker), or to one worker or all (from the master)."""
    runner.send_message(message.kind, message.wire(), client_id)


def listen(
    runner: MasterRunner | WorkerRunner,
    kind: type[M],
    handler: Callable[[M, str], None],
    *,
    concurrent: bool = False,
) -> None:
    """Call ``handler(message, sender's client id)`` for every valid ``kind`` message."""

    def receive(environment: Environment, msg: LocustMessage, **_: object) -> None:
        try:
            message = kind.model_validate(msg.data or {})
        except ValidationError as exc:
            log.error(
                "aisk-harness: a malformed %s message from %s was dropped: %s",
                kind.kind,
                msg.node_id,
                exc.errors()[0]["msg"],
            )
            return
        handler(message, str(msg.node_id))

    runner.register_message(kind.kind, receive, concurrent=concurrent)
