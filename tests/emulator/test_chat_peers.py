"""The chat's client address: vary-by-IP keys on the socket's peer, X-Forwarded-For only when
trusted."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.api.status import Status
from harness.emulator import BackgroundEmulator

BodyFactory = Callable[..., dict[str, Any]]
ChatbotFactory = Callable[..., tuple[str, str]]
StartEmulator = Callable[..., BackgroundEmulator]
Bearer = Callable[[str], dict[str, str]]
ErrorOf = Callable[[httpx.Response, int, int], Status]
ChatN = Callable[[httpx.Client, str, dict[str, Any], int], list[httpx.Response]]

BASE = "/bv/aisk/v1"
CHAT = f"{BASE}/prompts:chat"
STATS = "/_emulator/stats"


def _loopback_alias_or_skip(address: str) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((address, 0))
    except OSError as exc:
        pytest.skip(f"cannot send from {address} on this machine: {exc.strerror}")
    finally:
        probe.close()


def test_vary_by_ip_keys_on_the_peer_address(
    emulator: BackgroundEmulator,
    client: httpx.Client,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    key_a: str,
    bearer: Bearer,
    error_of: ErrorOf,
    chat_n: ChatN,
) -> None:
    addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    for address in addresses[1:]:
        _loopback_alias_or_skip(address)
    _, token = new_chatbot(client, chatbot_body(limit=2, vary_by="RATE_LIMIT_VARY_BY_IP"))
    for address in addresses:
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(base_url=emulator.base_url, transport=transport) as peer:
            # The same device id everywhere: only the address can tell these apart.
            statuses = [r.status_code for r in chat_n(peer, token, chat_body("shared"), 3)]
            assert statuses == [200, 200, 429], address
    stats = client.get(STATS, headers=bearer(key_a))
    assert stats.status_code == 200
    snapshot = stats.json()
    assert set(addresses) <= set(snapshot["peers"])
    assert (snapshot["admitted"], snapshot["throttled"]) == (6, 3)
    error_of(client.get(STATS, headers=bearer(token)), 401, 16)


def test_x_forwarded_for_is_ignored_unless_trusted(
    start_emulator: StartEmulator,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    key_a: str,
    bearer: Bearer,
) -> None:
    body = chatbot_body(limit=2, vary_by="RATE_LIMIT_VARY_BY_IP")
    rotating = [f"203.0.113.{i}" for i in range(1, 11)]  # a new address on every request
    pairs = [f"203.0.113.{i // 2 + 1}" for i in range(10)]  # each address twice
    behind = [f"198.51.100.7, 203.0.113.{i}" for i in range(1, 4)]  # one client, many proxies

    def send(emulator: BackgroundEmulator, forwarded: list[str]) -> tuple[list[int], list[str]]:
        with httpx.Client(base_url=emulator.base_url) as client:
            _, token = new_chatbot(client, body)
            found = []
            for address in forwarded:
                headers = {**bearer(token), "x-forwarded-for": address}
                found.append(client.post(CHAT, json=chat_body(), headers=headers).status_code)
            peers = client.get(STATS, headers=bearer(key_a)).json()["peers"]
            return found, peers

    untrusted, peers = send(start_emulator(), rotating)
    assert untrusted == [200, 200] + [429] * 8  # rotating the header buys nothing
    assert peers == ["127.0.0.1"]  # the peer is the socket's, whatever the header says
    trusting = start_emulator(trust_forwarded_for=True)
    assert send(trusting, pairs)[0] == [200] * 10  # each forwarded address has its own budget
    assert send(trusting, behind)[0] == [200, 200, 429]  # the first (client) address counts
