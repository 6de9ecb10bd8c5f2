"""The machine's network namespaces as the multi-host tests use them: made, swept, refused.

``private_network.py`` builds hosts from these; this module holds what touches the machine:
iproute2's ``ip``, the namespace names, the processes inside a namespace, and the locks that
tell a live network from one whose owner is gone. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)
and iproute2.

Every namespace of a network is named ``aisknet-<tag>-<label>`` for a random tag (8 hex digits),
so parallel runs never collide. Each network holds an flock on ``/run/aisknet/<tag>.lock`` for
its life; a tag whose lock nobody holds belongs to an owner that is gone (killed, crashed), and
``sweep_leftovers`` deletes its namespaces after killing what still runs inside. A lock, unlike
a pid, cannot be reused, and the kernel drops a dead process's locks whatever its pid namespace.
"""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Final

PREFIX: Final = "aisknet-"
LOCK_DIR: Final = Path("/run/aisknet")
BRIDGE: Final = "bridge"  # the label of a network's bridge namespace; never a host's
IP_TIMEOUT_S: Final = 10.0
EXIT_TIMEOUT_S: Final = 10.0
NAMESPACE_NAME: Final = re.compile(re.escape(PREFIX) + r"([0-9a-f]{8})-([a-z][a-z0-9]*)")
# Capability bits of /proc/self/status's CapEff: a namespace needs both.
CAPABILITIES: Final = {"CAP_NET_ADMIN": 12, "CAP_SYS_ADMIN": 21}
# What ip prints when the kernel (or a container's seccomp/AppArmor profile) says no.
REFUSALS: Final = ("Operation not permitted", "Permission denied")


class NetnsError(Exception):
    """A namespace, link or address could not be made or removed: a real error, never a skip."""


class NamespacesRefused(NetnsError):
    """This process may not create network namespaces (not root, no CAP_SYS_ADMIN): a skip."""


def missing_capabilities(status: str) -> list[str]:
    """The capabilities a namespace needs that ``status`` (/proc/<pid>/status) lacks in effect."""
    match = re.search(r"^CapEff:\s*([0-9a-f]+)$", status, re.MULTILINE)
    if match is None:
        return []  # no capability line: let ip itself answer
    effective = int(match[1], 16)
    return [name for name, bit in CAPABILITIES.items() if not effective >> bit & 1]


def check_permitted() -> None:
    """NamespacesRefused when this process lacks what a namespace needs (a skip, not a fail)."""
    try:
        with open("/proc/self/status") as status:
            missing = missing_capabilities(status.read())
    except FileNotFoundError:
        return  # no /proc: ip itself answers when asked
    if missing:
        raise NamespacesRefused(
            f"creating network namespaces needs root ({' and '.join(missing)} not in effect)"
        )


def is_refusal(message: str) -> bool:
    """Whether ip's error says the namespace was refused (as opposed to failing otherwise)."""
    return any(refusal in message for refusal in REFUSALS)


@functools.cache
def ip_command() -> str:
    """iproute2's ``ip`` (in /usr/sbin, which a non-root PATH often lacks)."""
    found = shutil.which("ip", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if found is None:
        raise NetnsError(
            "iproute2's `ip` is not installed; the netns tests need it (Debian: apt-get install "
            "iproute2)"
        )
    return found


def ip(*args: str, stdin: str | None = None) -> str:
    command = "ip " + " ".join(args)
    try:
        done = subprocess.run(
            [ip_command(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=IP_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise NetnsError(f"{command}: no answer in {IP_TIMEOUT_S:g} s") from None
    if done.returncode != 0:
        raise NetnsError(f"{command}: {done.stderr.strip() or f'exit {done.returncode}'}")
    return done.stdout


def namespaces() -> list[str]:
    """The names of every network namespace of the machine (``ip netns list``)."""
    return [line.split()[0] for line in ip("netns", "list").splitlines() if line.strip()]


def add_namespace(name: str) -> None:
    try:
        ip("netns", "add", name)
    except NetnsError as exc:
        if is_refusal(str(exc)):
            raise NamespacesRefused(f"the kernel refused a network namespace ({exc})") from None
        raise


def _pids_inside(namespace: str) -> list[int]:
    return [int(pid) for pid in ip("netns", "pids", namespace).split()]


def kill_inside(namespace: str) -> None:
    """SIGKILL whatever still runs in ``namespace``; wait until nothing does (zombies hold none)."""
    deadline = time.monotonic() + EXIT_TIMEOUT_S
    while pids := _pids_inside(namespace):
        if time.monotonic() > deadline:
            raise NetnsError(
                f"processes {pids} in {namespace} outlived SIGKILL by {EXIT_TIMEOUT_S}s"
            )
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)


def delete_namespace(namespace: str) -> None:
    kill_inside(namespace)
    ip("netns", "del", namespace)


def claim(tag: str) -> int | None:
    """An fd holding the tag's lock, or None when a live network holds it."""
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(LOCK_DIR / f"{tag}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def release(tag: str, fd: int) -> None:
    (LOCK_DIR / f"{tag}.lock").unlink(missing_ok=True)
    os.close(fd)


def _namespaces_of(tag: str) -> list[str]:
    names = [name for name in namespaces() if (m := NAMESPACE_NAME.fullmatch(name)) and m[1] == tag]
    return sorted(names, key=lambda name: name.endswith("-" + BRIDGE))  # the hosts, then the bridge


def sweep_leftovers() -> list[str]:
    """Delete the namespaces (and kill the processes inside) of networks whose owner is gone."""
    tags = {m[1] for name in namespaces() if (m := NAMESPACE_NAME.fullmatch(name))}
    if LOCK_DIR.is_dir():
        tags |= {path.stem for path in LOCK_DIR.glob("*.lock")}
    swept: list[str] = []
    for tag in sorted(tags):
        fd = claim(tag)
        if fd is None:
            continue  # a live network
        try:
            for name in _namespaces_of(tag):
                try:
                    delete_namespace(name)
                except NetnsError:
                    if name in namespaces():
                        raise
                    continue  # another sweeper deleted it first
                swept.append(name)
        finally:
            release(tag, fd)
    return swept
