"""Private networks of namespaces, so a test can run programs on several real "hosts".

Why: vary-by-IP against a remote target, and a Locust master with workers on other machines, need
hosts with addresses of their own. A network namespace is a host for the kernel (its own
interfaces, addresses, routes and TCP stack), so a test can put an emulator on one, a master on
another and workers on three more, and every connection between them is a real one between
distinct addresses. One network (``netns.py`` names, sweeps and refuses namespaces)::

    aisknet-<tag>-bridge   the bridge br0, port p<i> for the i-th host
    aisknet-<tag>-<name>   a host: lo up, eth0 (a veth to p<i>) with 10.77.<i>.1/16, and
                           10.77.<i>.2, .3, ... when it asks for extra addresses

Nothing touches the machine's own interfaces: each veth is created directly inside its two
namespaces, and no namespace has a route beyond 10.77.0.0/16, so nothing can reach a real
network. Addresses repeat from one network to the next; they are never on the same wire.

Teardown (``close``, also when the test fails or is interrupted, SIGTERM included) kills every
process started in a host (its process group, then whatever else is still inside the namespace:
a daemon that left the group, a grandchild), then deletes every namespace. What a run killed
outright leaves behind, the next network's ``start`` sweeps.
"""

from __future__ import annotations

import os
import re
import secrets
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import Any, Final

from netns import (
    BRIDGE,
    EXIT_TIMEOUT_S,
    PREFIX,
    NetnsError,
    add_namespace,
    check_permitted,
    claim,
    delete_namespace,
    ip,
    ip_command,
    release,
    sweep_leftovers,
)

SUBNET_BITS: Final = 16
MAX_HOSTS: Final = 254
MAX_EXTRA_ADDRESSES: Final = 253
RUN_TIMEOUT_S: Final = 60.0
HOST_NAME: Final = re.compile(r"[a-z][a-z0-9]{0,15}")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@dataclass(eq=False)
class Host:
    """One host of a private network: a namespace with its own addresses, running commands inside.

    Every process it starts is tracked, in a process group of its own, so that ``kill`` and the
    network's teardown can end them all.
    """

    name: str
    namespace: str
    address: str
    extra_addresses: tuple[str, ...]
    port: str
    bridge_namespace: str
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)
    alive: bool = True

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address of the host, its main one first."""
        return (self.address, *self.extra_addresses)

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """``subprocess.Popen(argv, **kwargs)`` inside the host (``ip netns exec``), tracked."""
        if not self.alive:
            raise NetnsError(f"host {self.name} was killed; it runs nothing more")
        process = subprocess.Popen(
            [ip_command(), "netns", "exec", self.namespace, *argv],
            start_new_session=True,
            **kwargs,
        )
        self.processes.append(process)
        return process

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = RUN_TIMEOUT_S,
        input: str | None = None,
        **kwargs: Any,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the host to its end, output captured as text (killed at timeout)."""
        process = self.popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kwargs,
        )
        try:
            out, err = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate(timeout=EXIT_TIMEOUT_S)
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def unplug(self) -> None:
        """Pull the host's cable: its link goes down, its processes keep running, nothing passes."""
        ip("-n", self.bridge_namespace, "link", "set", self.port, "down")

    def plug(self) -> None:
        """Put the cable back after ``unplug``."""
        ip("-n", self.bridge_namespace, "link", "set", self.port, "up")

    def kill(self) -> None:
        """Crash the host: SIGKILL everything in it, then delete its namespace (and its link).

        The kernel closes the killed processes' sockets, so their peers see a FIN or a reset, as
        after ``kill -9`` on a machine that stays up; ``unplug()`` first for a host that vanishes
        without a word (a power cut: the peers only see silence). Killing twice is a no-op.
        """
        if not self.alive:
            return
        for process in self.processes:
            if process.poll() is None:  # not reaped, so its pid (= its group's id) is still ours
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for process in self.processes:
            try:
                process.wait(timeout=EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise NetnsError(f"{process.args} outlived SIGKILL by {EXIT_TIMEOUT_S}s") from None
        delete_namespace(self.namespace)
        self.alive = False

    def close_pipes(self) -> None:
        for process in self.processes:
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


class PrivateNetwork:
    """A private network of hosts: ``with PrivateNetwork() as net: server = net.add_host("a")``.

    ``start`` sweeps what crashed runs left behind and creates the bridge; ``add_host`` adds a
    host; ``close`` (idempotent) kills every host's processes and deletes every namespace.
    """

    def __init__(self) -> None:
        self.tag = secrets.token_hex(4)
        self.prefix = f"{PREFIX}{self.tag}-"
        self.hosts: dict[str, Host] = {}
        self._bridge: str | None = None
        self._lock_fd: int | None = None
        self._sigterm_installed = False
        self._started = False

    def start(self) -> PrivateNetwork:
        """Sweep what dead runs left, claim the tag, make the bridge (or NamespacesRefused)."""
        if self._started:
            raise NetnsError("a PrivateNetwork starts once; make another")
        self._started = True
        check_permitted()
        ip_command()
        sweep_leftovers()
        self._lock_fd = claim(self.tag)
        if self._lock_fd is None:
            raise NetnsError(f"the fresh tag {self.tag} is already claimed")
        self._interrupt_on_sigterm()
        try:
            bridge = self.prefix + BRIDGE
            add_namespace(bridge)
            self._bridge = bridge
            ip("-n", bridge, "link", "add", "br0", "type", "bridge")
            ip("-n", bridge, "link", "set", "br0", "up")
        except BaseException:
            self.close()
            raise
        return self

    def add_host(self, name: str, *, extra_addresses: int = 0) -> Host:
        """A new host ``name`` (lowercase letters and digits) at 10.77.<i>.1, plus extras."""
        if self._bridge is None:
            raise NetnsError("start the network before adding hosts")
        if not HOST_NAME.fullmatch(name) or name == BRIDGE or name in self.hosts:
            raise ValueError(
                f"host name {name!r}: expected 1-16 lowercase letters and digits, starting with a "
                f"letter, not {BRIDGE!r} and not already taken ({sorted(self.hosts)})"
            )
        if not 0 <= extra_addresses <= MAX_EXTRA_ADDRESSES:
            raise ValueError(
                f"extra_addresses {extra_addresses}: expected 0..{MAX_EXTRA_ADDRESSES}"
            )
        index = len(self.hosts) + 1
        if index > MAX_HOSTS:
            raise ValueError(f"a private network holds at most {MAX_HOSTS} hosts")
        addresses = [f"10.77.{index}.{last}" for last in range(1, 2 + extra_addresses)]
        namespace = self.prefix + name
        add_namespace(namespace)
        host = Host(
            name=name,
            namespace=namespace,
            address=addresses[0],
            extra_addresses=tuple(addresses[1:]),
            port=f"p{index}",
            bridge_namespace=self._bridge,
        )
        self.hosts[name] = host  # before the wiring: teardown deletes it whatever fails next
        veth = (
            f"link add eth0 netns {namespace} type veth peer name {host.port} netns {self._bridge}"
        )
        ip(*veth.split())
        ip("-n", self._bridge, "link", "set", host.port, "master", "br0", "up")
        setup = [
            "link set lo up",
            *(f"address add {address}/{SUBNET_BITS} dev eth0" for address in addresses),
            "link set eth0 up",
        ]
        ip("-n", namespace, "-batch", "-", stdin="\n".join(setup) + "\n")
        return host

    def close(self) -> None:
        """Kill every process of every host, delete every namespace; raise what could not be."""
        self._restore_sigterm()
        problems: list[str] = []
        for host in reversed(self.hosts.values()):
            try:
                host.kill()
            except NetnsError as exc:
                problems.append(str(exc))
        if self._bridge is not None:
            try:
                delete_namespace(self._bridge)
                self._bridge = None
            except NetnsError as exc:
                problems.append(str(exc))
        for host in self.hosts.values():
            host.close_pipes()
        if self._lock_fd is not None:
            release(self.tag, self._lock_fd)
            self._lock_fd = None
        if problems:
            raise NetnsError("teardown left namespaces behind: " + "; ".join(problems))

    def _interrupt_on_sigterm(self) -> None:
        # SIGTERM (a CI job cancelled, a timeout) would kill the test process before teardown;
        # as a KeyboardInterrupt it unwinds like Ctrl-C and the network is closed on the way out.
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _interrupt)
            self._sigterm_installed = True

    def _restore_sigterm(self) -> None:
        if self._sigterm_installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self._sigterm_installed = False

    def __enter__(self) -> PrivateNetwork:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_line(process: subprocess.Popen[Any], timeout_s: float) -> str:
    """The next line ``process`` prints on its piped stdout, or NetnsError after ``timeout_s``.

    For following a program on a host step by step ("listening on ...", "paused") without
    sleeping. It reads the pipe's descriptor itself, byte by byte, so nothing waits unseen in a
    Python buffer: read a program's lines only through this until it ends (then ``communicate``).
    """
    assert process.stdout is not None, "read_line needs stdout=subprocess.PIPE"
    program = str(process.args)[:200]
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout_s
    line = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise NetnsError(f"{program} printed no line within {timeout_s:g} s: {line!r}")
            byte = os.read(fd, 1)
            if not byte:
                state = process.poll()
                raise NetnsError(
                    f"{program} ended its output (exit {state}) before a line: {line!r}"
                )
            line += byte
    return line.decode().rstrip("\n")
