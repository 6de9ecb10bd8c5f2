"""The remote-target guard and the key fingerprint, without a network: names resolve through a
stand-in ``getaddrinfo``, and any attempt to open a connection fails the test."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from harness.cli.rails import check_target, key_fingerprint, print_target
from harness.errors import ConfigError


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names resolve from ``table``; connecting anywhere is an error."""
    table: dict[str, list[str]] = {
        "lb.internal": ["127.0.0.1", "::1"],
        "api.example": ["203.0.113.7"],
        "split.example": ["127.0.0.1", "198.51.100.2"],
    }

    def resolve(host: str, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 0)) for ip in table[host]]

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("the guard must not open a connection")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return table


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:8080",
        "http://127.200.3.4",
        "http://[::1]:8080",
        "http://localhost:8080",
        "https://LOCALHOST",
        "http://lb.internal:80",
    ],
)
def test_loopback_targets_need_no_flag(target: str) -> None:
    check_target(target, allow_remote=False)


@pytest.mark.parametrize(
    "target",
    ["http://10.0.0.5:8080", "http://[2001:db8::1]", "https://api.example", "http://split.example"],
)
def test_other_targets_need_allow_remote(target: str) -> None:
    with pytest.raises(ConfigError, match="--allow-remote"):
        check_target(target, allow_remote=False)
    check_target(target, allow_remote=True)


def test_an_unresolvable_name_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"cannot resolve host 'nowhere\.invalid'"):
        check_target("http://nowhere.invalid", allow_remote=False)


def test_the_fingerprint_tells_keys_apart_and_does_not_hold_the_key() -> None:
    key = "org-key-abcdef0123456789"
    fingerprint = key_fingerprint(key)
    assert fingerprint.startswith("sha256:")
    assert len(fingerprint) == len("sha256:") + 12
    assert key not in fingerprint
    assert key_fingerprint(key) == fingerprint != key_fingerprint(key + "x")


@pytest.mark.parametrize(
    ("host", "embedded", "where"),
    [
        ("http://127.0.0.1:8080", True, "embedded emulator"),
        ("http://127.0.0.1:8080", False, "loopback"),
        ("http://lb.internal:80", False, "loopback"),
        ("https://api.example", False, "remote"),
    ],
)
def test_the_target_line_says_where_the_load_goes_and_never_the_key(
    host: str, embedded: bool, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    print_target(host, "org-key-not-to-be-shown", embedded)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"target: {host} ({where})"
    assert key_fingerprint("org-key-not-to-be-shown") in out
    assert "org-key-not-to-be-shown" not in out
