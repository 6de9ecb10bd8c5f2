"""A worker's source addresses: lists and CIDR blocks parsed, each one checked by binding it."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.load.sources import parse_source_ips, worker_sources


def test_lists_and_blocks_are_parsed_sorted_and_without_repeats() -> None:
    parsed = parse_source_ips("10.0.0.9, 10.0.0.0/30,10.0.0.2")
    assert parsed == ["10.0.0.1", "10.0.0.2", "10.0.0.9"]
    assert parse_source_ips("192.0.2.7/32") == ["192.0.2.7"]


@pytest.mark.parametrize("text", ["10.0.0.300", "fe80::1", "10.0.0.0/33", "host.example", ","])
def test_what_is_not_ipv4_is_one_line_naming_the_option(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^--source-ip '") as caught:
        parse_source_ips(text)
    assert "\n" not in str(caught.value)


def test_a_block_too_large_is_refused() -> None:
    with pytest.raises(ConfigError, match="at most 4096 addresses"):
        parse_source_ips("10.0.0.0/16")


def test_an_address_this_host_cannot_send_from_is_refused() -> None:
    assert worker_sources("127.0.0.1") == ["127.0.0.1"]
    with pytest.raises(ConfigError, match=r"--source-ip 192\.0\.2\.77: this host cannot send"):
        worker_sources("192.0.2.77")  # TEST-NET-1: never assigned to this machine
