"""The keys of a run: which source IP, device id and X-Forwarded-For each simulated client uses.

Keys are derived from the run id, so every process of a run computes the same plan without talking,
and every run meets fresh budgets. On a loopback target each IP key binds its own source address in
127.0.0.0/8 (Linux routes the whole block to ``lo``), so the server sees distinct TCP peers.
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
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
    "needs_host_addresses",
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


THIS_HOST = "this host"


class _IpPool:
    """Source addresses for IP keys. ``begin_slot(need)`` before a slot's keys: the slot's
    addresses come from one sender (all traffic of a slot is one Locust user's)."""

    def begin_case(self, chatbot: str) -> None:
        return

    def begin_slot(self, need: int, purpose: str) -> None:
        return

    def take(self, purpose: str) -> str:
        raise NotImplementedError


class _CountingPool(_IpPool):
    """Addresses without end: loopback ones (a loopback target) or X-Forwarded-For values."""

    def __init__(self, address: Callable[[int], str]) -> None:
        self._address = address
        self._next = 0

    def take(self, purpose: str) -> str:
        self._next += 1
        return self._address(self._next - 1)


class _PendingPool(_IpPool):
    """The workers' addresses are not known yet (a master before its workers join): ""."""

    def take(self, purpose: str) -> str:
        return ""


class _HostsPool(_IpPool):
    """The real addresses of the hosts that send: this host's, or each worker's.

    Addresses are scarce, so each chatbot starts again from the first (a chatbot's limits are its
    own, and every case has its own chatbot unless it runs on an existing one); within a chatbot
    every address is used once.
    Slots go round the senders, so that the IP keys are spread evenly over them.
    """

    def __init__(self, senders: Mapping[str, Sequence[str]]) -> None:
        self._senders = {name: tuple(addresses) for name, addresses in sorted(senders.items())}
        self._names = list(self._senders)
        self._cursor = 0
        self._used: set[str] = set()
        self._used_by: dict[str, set[str]] = {}
        self._current: list[str] = []

    def begin_case(self, chatbot: str) -> None:
        self._used = self._used_by.setdefault(chatbot, set())

    def _free(self, name: str) -> list[str]:
        return [address for address in self._senders[name] if address not in self._used]

    def begin_slot(self, need: int, purpose: str) -> None:
        names = self._names[self._cursor :] + self._names[: self._cursor]
        for name in names:
            free = self._free(name)
            if len(free) >= need:
                self._cursor = (self._names.index(name) + 1) % len(self._names)
                self._current = free[:need]
                return
        raise ConfigError(self._short(need, purpose))

    def _short(self, need: int, purpose: str) -> str:
        used = len(self._used)
        if self._names == [THIS_HOST]:
            return (
                f"{purpose} needs {used + need} distinct source IPs but this host has "
                f"{len(self._senders[THIS_HOST])} non-loopback IPv4 addresses; lower "
                "population.keys, run workers on more hosts (run --master), or use "
                "--forwarded-for if the target trusts X-Forwarded-For"
            )
        have = ", ".join(f"{name} {len(addresses)}" for name, addresses in self._senders.items())
        if need > 1:
            return (
                f"{purpose} needs {need} source IPs on one worker (a key's rotated addresses, or "
                f"a burst's fresh keys, are sent by one process) beyond the {used} it already "
                f"uses; the workers have: {have}; give a worker more (worker --source-ip)"
            )
        return (
            f"{purpose} needs {used + need} distinct source IPs but the workers have "
            f"{sum(len(a) for a in self._senders.values())} ({have}); lower population.keys, "
            "add workers, or give them more (worker --source-ip)"
        )

    def take(self, purpose: str) -> str:
        address = self._current.pop(0)
        self._used.add(address)
        return address


def needs_host_addresses(target_host: str, forwarded_for: bool) -> bool:
    """Whether IP keys are real addresses of the sending hosts (not loopback, not a header)."""
    if forwarded_for:
        return False
    try:
        return not is_loopback_host(target_host)
    except (OSError, UnicodeError):
        return True  # the run's own check names the problem; here: the host's addresses


def _pool(
    target_host: str, forwarded_for: bool, senders: Mapping[str, Sequence[str]] | None
) -> _IpPool:
    if forwarded_for:
        return _CountingPool(_forwarded_ip)
    if not needs_host_addresses(target_host, forwarded_for):
        return _CountingPool(_loopback_ip)
    if senders is None:
        return _HostsPool({THIS_HOST: local_source_addresses()})
    return _HostsPool(senders) if senders else _PendingPool()


def plan_keys(
    scenario: Scenario,
    run_id: str,
    *,
    target_host: str,
    forwarded_for: bool = False,
    senders: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, list[KeyPlan]]:
    """Every key of every case, deterministically from the run id.

    ``senders``: the source addresses of each worker of a distributed run ({}: not known yet,
    IP keys get no address); None: this host's own.
    """
    pool = _pool(target_host, forwarded_for, senders)
    plans: dict[str, list[KeyPlan]] = {}
    for case in scenario.cases:
        pool.begin_case(case.chatbot_id or f"case:{case.name}")
        per_slot = case.behaviour.repeat if isinstance(case.behaviour, Burst) else 1
        needs_ip = case.vary_mode == "ip" or case.population.rotate == "ip"
        per_key = case.population.rotate_values if case.population.rotate == "ip" else 1
        keys = []
        for index in range(key_count(case)):
            if needs_ip and index % per_slot == 0:
                pool.begin_slot(per_key * per_slot, f"case {case.name!r}")
            keys.append(_plan_key(case, index, run_id, pool, forwarded_for))
        plans[case.name] = keys
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
