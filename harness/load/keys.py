"""The keys of a run: which source IP, device id and X-Forwarded-For each simulated client uses.

Keys are derived from the run id, so every process of a run computes the same plan without talking,
and every run meets fresh budgets. On a loopback target each IP key binds its own source address in
127.0.0.0/8 (Linux routes the whole block to ``lo``), so the server sees distinct TCP peers.
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import psutil

from harness.errors import ConfigError
from harness.load.scenario import Burst, Case, Scenario

__all__ = [
    "DEVICE_PROFILES",
    "KeyPlan",
    "is_loopback_host",
    "local_source_addresses",
    "plan_keys",
]

_NAMESPACE = uuid.UUID("5b0f3f8e-7c1a-4f1e-9d0b-5a6a1c2b3d4e")

# Plausible metadata.device values: (platform, category, browser).
DEVICE_PROFILES: tuple[tuple[str, str, str], ...] = (
    ("windows", "desktop", "Chrome 105"),
    ("ios", "mobile", "Safari 15.4"),
    ("android", "mobile", "Chrome 118"),
    ("ios", "tablet", "Safari 16.1"),
    ("windows", "desktop", "Edge 120"),
    ("android", "tablet", "Firefox 121"),
)


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """One key of a case: the addresses and ids its requests carry.

    ``source_ips``, ``device_ids`` and ``forwarded_fors`` hold one value, or several when the case
    rotates that attribute; requests cycle through them. ``key`` is the value the target should
    count by ("" for a chatbot-wide limit).
    """

    case: str
    index: int
    key: str
    source_ips: tuple[str, ...]
    device_ids: tuple[str, ...]
    forwarded_fors: tuple[str, ...]
    profile: tuple[str, str, str]


def url_host(url: str) -> str:
    """The host name of a target URL ("" when it has none)."""
    return urlsplit(url).hostname or ""


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1, ``localhost``, or a name whose every address is one of them.

    Raises ``OSError`` (or ``UnicodeError``) when the name cannot be resolved.
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    addresses = {str(entry[4][0]).split("%")[0] for entry in found}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def local_source_addresses() -> list[str]:
    """This host's non-loopback IPv4 addresses: the source IPs available against a remote target."""
    addresses = []
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if (
                entry.family == socket.AF_INET
                and not ipaddress.ip_address(entry.address).is_loopback
            ):
                addresses.append(entry.address)
    return sorted(set(addresses))


def _loopback_ip(index: int) -> str:
    # 127.10.0.1 upwards, skipping .0 and .255 in the last octet; 127.0.0.x stays free for servers.
    second, rest = divmod(index, 256 * 254)
    third, fourth = divmod(rest, 254)
    return f"127.{10 + second}.{third}.{fourth + 1}"


def _forwarded_ip(index: int) -> str:
    # 198.18.0.0/15 is reserved for benchmarks (RFC 2544): never a real client.
    return str(ipaddress.ip_address("198.18.0.1") + index)


def _device_id(run_id: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{run_id}/{name}"))


def key_count(case: Case) -> int:
    """Keys a case uses: a burst takes fresh keys for every repetition."""
    repeat = case.behaviour.repeat if isinstance(case.behaviour, Burst) else 1
    return case.population.keys * repeat


class _IpPool:
    def __init__(self, loopback: bool, forwarded_for: bool, addresses: list[str]) -> None:
        self._loopback = loopback
        self._forwarded_for = forwarded_for
        self._addresses = addresses
        self._next = 0

    def take(self, purpose: str) -> str:
        index = self._next
        self._next += 1
        if self._forwarded_for:
            return _forwarded_ip(index)
        if self._loopback:
            return _loopback_ip(index)
        if index >= len(self._addresses):
            raise ConfigError(
                f"{purpose} needs {index + 1} distinct source IPs but this host has "
                f"{len(self._addresses)} non-loopback IPv4 addresses; lower population.keys, or "
                "use --forwarded-for if the target trusts X-Forwarded-For"
            )
        return self._addresses[index]


def plan_keys(
    scenario: Scenario,
    run_id: str,
    *,
    target_host: str,
    forwarded_for: bool = False,
) -> dict[str, list[KeyPlan]]:
    """Every key of every case, deterministically from the run id."""
    try:
        loopback = is_loopback_host(target_host)
    except (OSError, UnicodeError):
        loopback = False  # the run's own check names the problem; here: the host's addresses
    pool = _IpPool(loopback, forwarded_for, [] if loopback else local_source_addresses())
    plans: dict[str, list[KeyPlan]] = {}
    for case in scenario.cases:
        plans[case.name] = [
            _plan_key(case, index, run_id, pool, forwarded_for) for index in range(key_count(case))
        ]
    return plans


def _plan_key(case: Case, index: int, run_id: str, pool: _IpPool, forwarded_for: bool) -> KeyPlan:
    rotate, values = case.population.rotate, case.population.rotate_values
    purpose = f"case {case.name!r}"
    mode = case.vary_mode
    ip_keyed = mode == "ip"
    # An IP-keyed case needs its own address per key; others may share the default source.
    ips: tuple[str, ...] = ()
    if ip_keyed or rotate == "ip":
        count = values if rotate == "ip" else 1
        ips = tuple(pool.take(purpose) for _ in range(count))
    device_count = values if rotate == "device" else 1
    devices = tuple(
        _device_id(run_id, f"{case.name}/{index}/{slot}") for slot in range(device_count)
    )
    spoofs: tuple[str, ...] = ()
    if rotate == "forwarded_for":
        spoofs = tuple(_forwarded_ip(50_000 + index * values + slot) for slot in range(values))
    if forwarded_for and ips:
        # Keys travel as X-Forwarded-For; the TCP source stays the host's own.
        spoofs, ips = ips, ()
    # The TCP source when there is one: rotated X-Forwarded-For values are spoofs, not the key.
    key = {"ip": (ips or spoofs)[0] if ip_keyed else "", "device": devices[0], "none": ""}[mode]
    profile = DEVICE_PROFILES[index % len(DEVICE_PROFILES)]
    return KeyPlan(case.name, index, key, ips, devices, spoofs, profile)
