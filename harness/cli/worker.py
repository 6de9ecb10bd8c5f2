"""``aisk-harness worker --master HOST[:PORT]``: join a run's master from another host.

A worker takes no scenario, target or secret: the master sends it the settings and each case's
chatbot token over its connection once the run is set up. It says which source addresses it can
send from (``--source-ip``, else its non-loopback IPv4 addresses), and the master gives it the IP
keys of those addresses. It ends when the master ends the run.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from harness.cli.distributed import parse_endpoint
from harness.cli.load_job import LOCUSTFILES, run_locust
from harness.load.sources import worker_sources

__all__ = ["add_parser"]


def _handle(args: argparse.Namespace) -> int:
    host, port = parse_endpoint(args.master, "--master")
    sources = worker_sources(args.source_ip or "")  # checked here: one line, before Locust
    print(
        f"worker: joining the master at {host}:{port}; source addresses for IP keys: "
        f"{', '.join(sources) or 'none'}"
    )
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
        "--source-ip",
        metavar="LIST",
        help="the addresses IP keys may leave from: IPv4 addresses or a CIDR block, "
        "comma-separated, each assigned to this host (default: its non-loopback IPv4 addresses)",
    )
    parser.set_defaults(handler=_handle)
