"""The source addresses a worker offers its IP keys: ``worker --source-ip``, or its own.

A remote limiter keyed by IP sees one client per address a connection leaves from. A worker says
which addresses it can bind: those given (a list, or a CIDR block of addresses assigned to the
host), each checked by binding it, or else its non-loopback IPv4 addresses.
"""

from __future__ import annotations

import ipaddress
import socket

from harness.errors import ConfigError
from harness.load.keys import local_source_addresses

__all__ = ["MAX_SOURCE_IPS", "parse_source_ips", "worker_sources"]

MAX_SOURCE_IPS = 4096
OPTION = "--source-ip"


def parse_source_ips(text: str, option: str = OPTION) -> list[str]:
    """``10.0.0.2,10.0.0.3`` or ``10.0.0.0/29`` (its hosts), or both, comma-separated."""
    addresses: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            if "/" in item:
                network = ipaddress.IPv4Network(item, strict=False)
                hosts = list(network.hosts()) if network.num_addresses > 2 else list(network)
                if len(hosts) > MAX_SOURCE_IPS:
                    raise ConfigError(f"{option} {item!r}: at most {MAX_SOURCE_IPS} addresses")
                addresses += [str(host) for host in hosts]
            else:
                addresses.append(str(ipaddress.IPv4Address(item)))
        except ValueError:
            raise ConfigError(
                f"{option} {item!r}: expected IPv4 addresses or a CIDR block, e.g. "
                "10.0.0.2,10.0.0.3 or 10.0.0.0/29"
            ) from None
    if not addresses:
        raise ConfigError(f"{option} {text!r}: expected at least one IPv4 address")
    return sorted(set(addresses), key=ipaddress.IPv4Address)


def _bindable(address: str, option: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as exc:
            raise ConfigError(
                f"{option} {address}: this host cannot send from it ({exc.strerror}); give "
                "addresses assigned to one of its interfaces"
            ) from None


def worker_sources(text: str, option: str = OPTION) -> list[str]:
    """The addresses a worker offers: ``text`` parsed and each one bindable, or ("") its own."""
    if not text:
        return local_source_addresses()
    addresses = parse_source_ips(text, option)
    for address in addresses:
        _bindable(address, option)
    return addresses
