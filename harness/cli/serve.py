"""``aisk-harness serve``: the emulator in the foreground, for manual runs and other tools."""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from typing import Any

from pydantic import SecretStr

from harness.api.duration import DurationError, parse_duration
from harness.api.timestamps import DEFAULT_ORG_TIMEZONE, TimestampError, load_zone
from harness.cli.engines import add_engine_options, engine_of, raise_if_engine_failed, with_redis
from harness.conformance import require_checks
from harness.emulator import (
    FAULTS,
    Algorithm,
    EmulatorConfig,
    EmulatorService,
    LatencyRange,
    SystemClock,
    Training,
    base_url_of,
    bind,
    build_app,
    policy_for,
    serve,
)
from harness.emulator.engines import Engine
from harness.errors import ConfigError
from harness.load.options import API_KEY_ENV, ArgumentAdder

# Each fault --fault offers names the check meant to catch it: a name no check is registered
# under would make that fault's proof vacuous, so it stops the import, not a test run later.
require_checks({fault.name: fault.caught_by for fault in FAULTS.values()})


def parse_delay(option: str, text: str | None) -> LatencyRange | None:
    """``"20ms"`` (fixed) or ``"200ms..2s"`` (uniform between the two); None when not given."""
    if text is None:
        return None
    low_text, dots, high_text = text.partition("..")
    try:
        low = parse_duration(low_text.strip())
        high = parse_duration(high_text.strip()) if dots else low
        return LatencyRange(low, high)
    except (DurationError, ValueError):
        raise ConfigError(
            f"{option} {text!r}: expected a Go duration ('20ms') or a range 'LOW..HIGH' "
            "with 0 <= LOW <= HIGH ('200ms..2s')"
        ) from None


def parse_training(text: str | None, fails: bool) -> Training:
    """``--training T`` and ``--training-fails`` as one ``Training``."""
    if text is None:
        if fails:
            raise ConfigError("--training-fails: give it with --training T (how long it trains)")
        return Training()
    try:
        duration_ns = parse_duration(text.strip())
    except DurationError:
        duration_ns = -1
    if duration_ns < 0:
        raise ConfigError(
            f"--training {text!r}: expected a Go duration of at least 0, e.g. '5s' or '1m30s'"
        )
    return Training(duration_ns, fails)


MAX_PORT = 65535
# The options that only an embedded emulator takes (``run``/``capacity`` refuse them with --target).
EMULATOR_ONLY = (
    "algorithm",
    "limiter",
    "redis",
    "latency",
    "model_latency",
    "decision_delay",
    "training",
    "training_fails",
    "fault",
    "trust_forwarded_for",
    "seed",
    "max_concurrency",
    "max_queue",
)


def add_emulator_options(parser: argparse.ArgumentParser, *, zone: bool = True) -> None:
    """The options that shape an emulator; ``run`` and ``capacity`` reuse them for their
    embedded one (``zone``: ``serve`` has its own --org-timezone; ``run`` takes the run's)."""
    group = parser.add_argument_group("emulator (only without --target)")
    _add_decision_options(group, zone=zone)
    _add_time_options(group)
    _add_model_options(group)


def _add_decision_options(group: ArgumentAdder, *, zone: bool) -> None:
    """How the emulator decides: its limiter family, quota day, seeded bug and client address."""
    group.add_argument(
        "--algorithm",
        choices=[a.value for a in Algorithm],
        help=f"which correct limiter family to emulate (default: {Algorithm.SLIDING_LOG.value})",
    )
    add_engine_options(group)
    if zone:
        group.add_argument(
            "--org-timezone",
            default=DEFAULT_ORG_TIMEZONE,
            metavar="ZONE",
            help="IANA zone of the organisations' quota day (default: %(default)s)",
        )
    group.add_argument(
        "--fault",
        choices=sorted(FAULTS),
        metavar="NAME",
        help="one seeded bug, so the checks can prove they catch it: " + ", ".join(sorted(FAULTS)),
    )
    group.add_argument(
        "--trust-forwarded-for",
        action="store_true",
        default=None,
        help="key vary-by-IP limits by X-Forwarded-For (as behind a trusted proxy)",
    )


# The three delays of an LLM-backed target, each a Go duration or a range (``parse_delay``).
_DELAY_OPTIONS = (
    (
        "--latency",
        "the time every chat answer takes after its decision, refusals included (uniform in the "
        "range), e.g. '5ms..30ms'; an admitted answer spends it holding a model slot",
    ),
    (
        "--model-latency",
        "the language model's time, added to admitted chat answers only (after --latency, "
        "holding the same slot), e.g. '800ms..3s'",
    ),
    (
        "--decision-delay",
        "time from a chat's arrival to the limiter's decision (before --latency), so the "
        "decision falls strictly inside the request, e.g. '1ms..5ms'",
    ),
)


def _add_time_options(group: ArgumentAdder) -> None:
    """When the emulator decides and answers: the delays of an LLM-backed target."""
    for flag, text in _DELAY_OPTIONS:
        group.add_argument(flag, metavar="LOW[..HIGH]", help=text)
    group.add_argument("--seed", type=int, help="seed of the simulated delays")


def _add_model_options(group: ArgumentAdder) -> None:
    """The model behind the chatbots: its training, and how many answers it makes at once."""
    group.add_argument(
        "--training",
        metavar="T",
        help="a new chatbot is CHATBOT_STATUS_TRAINING for T (a Go duration, e.g. '5s'), then "
        "READY; a chat meanwhile is refused with 400 (code 9) and spends no budget or quota",
    )
    group.add_argument(
        "--training-fails",
        action="store_true",
        default=None,
        help="with --training: chatbots end CHATBOT_STATUS_FAILED after T and never chat",
    )
    group.add_argument(
        "--max-concurrency",
        type=int,
        metavar="N",
        help="at most N chat answers generated at once, the rest wait in FIFO order: with "
        "--latency L and --model-latency M the emulator admits at most N/(L+M) requests per "
        "second",
    )
    group.add_argument(
        "--max-queue",
        type=int,
        metavar="M",
        help="with --max-concurrency: at most M requests wait for a slot, more are refused "
        "with 503",
    )


def refuse_emulator_options(args: argparse.Namespace) -> None:
    """With --target there is no emulator: an emulator option given is a mistake, said so."""
    given = [name for name in EMULATOR_ONLY if getattr(args, name, None) is not None]
    if given:
        shown = ", ".join("--" + name.replace("_", "-") for name in given)
        raise ConfigError(f"{shown}: emulator options do not apply with --target")


def emulator_config(args: argparse.Namespace, api_keys: list[str]) -> EmulatorConfig:
    try:
        zone = load_zone(args.org_timezone or DEFAULT_ORG_TIMEZONE)
    except TimestampError as exc:
        raise ConfigError(f"--org-timezone: {exc}") from None
    if args.max_concurrency is not None and args.max_concurrency < 1:
        raise ConfigError("--max-concurrency: expected a whole number of at least 1")
    if args.max_queue is not None and (args.max_queue < 0 or args.max_concurrency is None):
        raise ConfigError(
            "--max-queue: expected a whole number of at least 0, given with --max-concurrency"
        )
    settings: dict[str, Any] = {
        "api_keys": tuple(SecretStr(key) for key in api_keys),
        "algorithm": Algorithm(args.algorithm or Algorithm.SLIDING_LOG.value),
        "limiter": engine_of(args),
        "redis_url": args.redis,
        "org_timezone": zone,
        "decision_delay": parse_delay("--decision-delay", args.decision_delay),
        "latency": parse_delay("--latency", args.latency),
        "model_latency": parse_delay("--model-latency", args.model_latency),
        "training": parse_training(args.training, bool(args.training_fails)),
        "trust_forwarded_for": bool(args.trust_forwarded_for),
        "policy": policy_for(args.fault),
        "seed": args.seed,
        "max_concurrency": args.max_concurrency,
        "max_queue": args.max_queue,
    }
    try:
        return EmulatorConfig(**settings)
    except ValueError as exc:  # a fault the real engine cannot have
        raise ConfigError(f"--fault {args.fault}: {exc}") from None


def emulator_description(args: argparse.Namespace) -> dict[str, Any]:
    """What ``run.json`` says of an embedded emulator: its options as given, no secret."""
    return {
        "algorithm": args.algorithm or Algorithm.SLIDING_LOG.value,
        "limiter": engine_of(args).value,
        "fault": args.fault,
        "latency": args.latency,
        "model_latency": args.model_latency,
        "decision_delay": args.decision_delay,
        "training": args.training,
        "training_fails": args.training_fails,
        "max_concurrency": args.max_concurrency,
        "max_queue": args.max_queue,
    }


def listen_port(text: str) -> int:
    """``--port``: a TCP port, 0 for any free one (out of range, ``bind`` raises no OSError but
    an OverflowError: a traceback, where argparse gives one line)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to {MAX_PORT}, got {text!r}")
    return port


def _handle(args: argparse.Namespace) -> int:
    keys = list(args.api_key or [])
    if not keys and os.environ.get(API_KEY_ENV):
        keys = [os.environ[API_KEY_ENV]]
    if not keys or any(not key for key in keys):
        raise ConfigError(
            f"--api-key: give at least one non-empty key (repeat for more organisations), "
            f"or set {API_KEY_ENV}"
        )
    config = emulator_config(args, keys)
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        raise ConfigError(
            f"--host/--port: cannot listen on {args.host}:{args.port}: {exc.strerror}"
        ) from None
    with ExitStack() as stack:
        stack.callback(sock.close)
        config = with_redis(stack, config)
        service = EmulatorService(config, SystemClock())
        fault = f", fault {args.fault}" if args.fault else ""
        print(
            f"aisk-harness emulator listening on {base_url_of(sock)} "
            f"({len(keys)} organisation(s), {limiter_text(config)}, "
            f"quota day in {args.org_timezone}{fault})",
            flush=True,
        )
        serve(build_app(service), sock, service)
        raise_if_engine_failed(service, "the emulator stopped")
    return 0


def limiter_text(config: EmulatorConfig) -> str:
    """Who decides the rate limit, for the banners of ``serve`` and ``run``."""
    if config.limiter is Engine.BUILTIN:
        return config.algorithm.value
    return f"{config.limiter.value} on Redis"


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the embedded emulator of the chatbot API",
        description="Run the emulator of the chatbot API until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    parser.add_argument(
        "--port",
        type=listen_port,
        default=8080,
        help="port to listen on, 0 for any free (%(default)s)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        metavar="KEY",
        help=f"an organisation's API key (repeatable; default from ${API_KEY_ENV})",
    )
    add_emulator_options(parser)
    parser.set_defaults(handler=_handle)


__all__ = [
    "API_KEY_ENV",
    "add_emulator_options",
    "add_parser",
    "emulator_config",
    "emulator_description",
    "limiter_text",
    "parse_delay",
    "parse_training",
    "refuse_emulator_options",
]
