"""``--limiter ENGINE`` and ``--redis URL``: an emulator deciding with a real third-party limiter.

The options are read with the other emulator options (``serve.py``); the Redis an engine needs is
had here, once the options are checked: the one ``--redis`` names (it must answer PING now), or a
private ``redis-server`` stopped with the command. A Redis that fails mid-run turns the command's
end into one line and exit 2 (``raise_if_engine_failed``): a run whose limiter answered 503 for
want of its store has no verdict.
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from dataclasses import replace

import redis

from harness.emulator import EmulatorConfig, EmulatorService
from harness.emulator.engines import ENGINE_NOTES, Engine
from harness.emulator.redis_server import PrivateRedis, RedisUnavailableError
from harness.errors import HarnessError
from harness.load.options import ArgumentAdder

__all__ = ["add_engine_options", "engine_of", "raise_if_engine_failed", "with_redis"]


def add_engine_options(group: ArgumentAdder) -> None:
    listed = "; ".join(f"{engine.value}: {note}" for engine, note in ENGINE_NOTES.items())
    group.add_argument(
        "--limiter",
        choices=[engine.value for engine in Engine],
        metavar="ENGINE",
        help=f"who decides the rate limit (default: builtin). {listed}. A real engine runs on "
        "Redis, in real time; quota, auth, training and the answers' faults stay the emulator's",
    )
    group.add_argument(
        "--redis",
        metavar="URL",
        help="with a real --limiter: the Redis to use (redis://HOST:PORT/DB or unix:///PATH); "
        "default: a private redis-server on a unix socket, no persistence, stopped on exit",
    )


def engine_of(args: argparse.Namespace) -> Engine:
    return Engine(getattr(args, "limiter", None) or Engine.BUILTIN.value)


def _check_redis(url: str) -> None:
    """The Redis at ``url`` answers now, or one line saying why not."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise RedisUnavailableError(f"--redis {url!r}: no Redis answers there ({exc})") from None


def with_redis(stack: ExitStack, config: EmulatorConfig) -> EmulatorConfig:
    """``config`` with the Redis its engine needs (none for ``builtin``); a private one is
    stopped when ``stack`` closes."""
    if config.limiter is Engine.BUILTIN:
        return config
    if config.redis_url is not None:
        _check_redis(config.redis_url)
        return config
    private = PrivateRedis()
    stack.callback(private.stop)
    return replace(config, redis_url=private.start())


def raise_if_engine_failed(service: EmulatorService, where: str) -> None:
    """One line (exit 2) when the engine's store failed during the command; ``where`` says
    what became of the command's work."""
    failure = service.engine_failure
    if failure is not None:
        engine = service.config.limiter.value
        raise HarnessError(f"--limiter {engine}: its Redis failed mid-run ({failure}); {where}")
