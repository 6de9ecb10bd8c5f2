"""``aisk-harness worker --master HOST[:PORT]``: join a run's master from another host.

A worker takes no scenario, target or secret: the master sends it the settings and each case's
chatbot token over its connection once the run is set up. It says which source addresses it can
send from (``--source-ip``, else its non-loopback IPv4 addresses), and the master gives it the IP
keys of those addresses. It ends when the master ends the run.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from harness.api.duration import DurationError, parse_duration
from harness.cli.distributed import parse_endpoint
from harness.cli.load_job import LOCUSTFILES, run_locust
from harness.errors import ConfigError, TargetError
from harness.load.sources import worker_sources

__all__ = ["add_parser", "wait_for_master"]

DEFAULT_MASTER_TIMEOUT = "60s"
RETRY_S = 1.0
NS = 1_000_000_000


def wait_for_master(
    host: str,
    port: int,
    timeout_s: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once the master's port takes a connection; try every second, give up after
    ``timeout_s`` with one line. Locust's worker would wait for a master that is not there
    for ever without a word; a master started a little after its workers is still joined."""
    deadline = clock() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=max(0.1, deadline - clock())):
                return
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
        left = deadline - clock()
        if left <= 0:
            raise TargetError(
                f"--master {host}:{port}: no master could be reached in {timeout_s:g} s "
                f"({reason}); start `aisk-harness run --master` there first, or raise "
                "--master-timeout"
            )
        sleep(min(RETRY_S, left))


def _master_timeout_s(text: str) -> float:
    try:
        timeout_ns = parse_duration(text)
    except DurationError as exc:
        raise ConfigError(f"--master-timeout: {exc}") from None
    if timeout_ns <= 0:
        raise ConfigError(f"--master-timeout {text!r}: expected a duration above 0, e.g. '60s'")
    return timeout_ns / NS


def _handle(args: argparse.Namespace) -> int:
    host, port = parse_endpoint(args.master, "--master")
    sources = worker_sources(args.source_ip or "")  # checked here: one line, before Locust
    timeout_s = _master_timeout_s(args.master_timeout)
    print(
        f"worker: joining the master at {host}:{port} (waiting up to {args.master_timeout}); "
        f"source addresses for IP keys: {', '.join(sources) or 'none'}",
        flush=True,
    )
    wait_for_master(host, port, timeout_s)
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILES / "aisk.py"),
        "--worker",
        "--master-host",
        host,
        "--master-port",
        str(port),
    ]
    if args.source_ip:
        command += ["--aisk-source-ip", ",".join(sources)]
    return run_locust(command, dict(os.environ))


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="send a distributed run's load from this host (run --master leads it)",
        description="Join the master of `aisk-harness run --master`: this host sends the keys "
        "the master gives it (the IP keys of its own addresses) and ships every record to it.",
    )
    parser.add_argument(
        "--master",
        required=True,
        metavar="HOST[:PORT]",
        help="the master's address (port default: 5557)",
    )
    parser.add_argument(
        "--master-timeout",
        default=DEFAULT_MASTER_TIMEOUT,
        metavar="T",
        help="give up, exit 2, when the master cannot be reached within T, a Go duration "
        f"(default: {DEFAULT_MASTER_TIMEOUT})",
    )
    parser.add_argument(
        "--source-ip",
        metavar="LIST",
        help="the addresses IP keys may leave from: IPv4 addresses or a CIDR block, "
        "comma-separated, each assigned to this host (default: its non-loopback IPv4 addresses)",
    )
    parser.set_defaults(handler=_handle)
