"""A run over workers on other hosts: ``run --master`` waits for them, ``worker`` joins one.

Locust's distributed mode carries it (``--master`` / ``--worker --master-host``): the master sets
the run up and judges it, each worker sends the keys it is given and ships its records. What the
harness adds: the master waits for a given number of workers (bounded, with Locust's progress
line), and plans the IP keys over the addresses the workers say they can send from, each key on
the worker that owns its address (``harness.locust.master``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.api.duration import DurationError, parse_duration
from harness.errors import ConfigError

__all__ = [
    "DEFAULT_MASTER_PORT",
    "MasterPlan",
    "add_master_options",
    "master_plan",
    "parse_endpoint",
    "users_for_workers",
]

DEFAULT_MASTER_PORT = 5557  # Locust's own
DEFAULT_WORKER_TIMEOUT = "2m"
NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class MasterPlan:
    """Where the master listens for its workers, how many it waits for, and how long."""

    bind_host: str
    port: int
    expect_workers: int
    wait_s: float

    def locust_args(self) -> list[str]:
        return [
            "--master",
            "--master-bind-host",
            self.bind_host,
            "--master-bind-port",
            str(self.port),
            "--expect-workers",
            str(self.expect_workers),
            "--expect-workers-max-wait",
            str(max(1, math.ceil(self.wait_s))),
        ]


def parse_endpoint(text: str, option: str, *, default_host: str | None = None) -> tuple[str, int]:
    """``HOST:PORT`` or ``HOST`` (Locust's port) or, with ``default_host``, ``:PORT``."""
    host, _, port_text = text.rpartition(":") if ":" in text else (text, "", "")
    host = host.strip("[]") or (default_host or "")
    if not host:
        raise ConfigError(f"{option} {text!r}: expected HOST[:PORT], e.g. 10.0.0.5:5557")
    if not port_text:
        return host, DEFAULT_MASTER_PORT
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ConfigError(f"{option} {text!r}: expected a port from 1 to 65535 after the ':'")
    return host, int(port_text)


def add_master_options(parser: Any) -> None:
    parser.add_argument(
        "--master",
        action="store_true",
        help="lead workers on other hosts (aisk-harness worker --master HOST:PORT): the load "
        "comes from them, IP keys from their addresses",
    )
    parser.add_argument(
        "--expect-workers",
        type=int,
        default=1,
        metavar="N",
        help="with --master: wait for N workers before the load (default: 1)",
    )
    parser.add_argument(
        "--master-bind",
        default=f"0.0.0.0:{DEFAULT_MASTER_PORT}",
        metavar="HOST:PORT",
        help="with --master: where workers connect (default: every interface, port "
        f"{DEFAULT_MASTER_PORT}); the chatbot tokens travel over it, so keep it private",
    )
    parser.add_argument(
        "--worker-timeout",
        default=DEFAULT_WORKER_TIMEOUT,
        metavar="T",
        help=f"with --master: give up when the workers have not all joined in T (default: "
        f"{DEFAULT_WORKER_TIMEOUT})",
    )


def master_plan(args: Any) -> MasterPlan | None:
    """``run``'s master options checked; None without ``--master``."""
    if not args.master:
        for name, default in (("expect_workers", 1), ("worker_timeout", DEFAULT_WORKER_TIMEOUT)):
            if getattr(args, name) != default:
                raise ConfigError(f"--{name.replace('_', '-')} needs --master")
        return None
    if args.processes != 1:
        raise ConfigError("--processes: not with --master (the workers are the processes)")
    if args.expect_workers < 1:
        raise ConfigError("--expect-workers: expected a whole number of at least 1")
    host, port = parse_endpoint(args.master_bind, "--master-bind", default_host="0.0.0.0")
    try:
        wait_ns = parse_duration(args.worker_timeout)
    except DurationError as exc:
        raise ConfigError(f"--worker-timeout: {exc}") from None
    if wait_ns <= 0:
        raise ConfigError(f"--worker-timeout {args.worker_timeout!r}: expected a duration above 0")
    return MasterPlan(host, port, args.expect_workers, wait_ns / NS)


def users_for_workers(slots: int, workers: int) -> int:
    """Locust users for a run over ``workers``: a slot whose addresses are one worker's can only
    run there, and Locust spreads users evenly, so each worker gets enough users for its own
    slots and a share of the rest; the users left over find no slot and stop at once."""
    return slots + workers * math.ceil(slots / workers)
