"""``aisk-harness capacity``: the highest throughput a target sustains within an SLO.

A stepped load of closed-loop users (``locustfiles/capacity.py``) against a chatbot with no rate
limit or quota, every request recorded as in any run; then ``harness.capacity`` measures each
step and writes ``capacity.json``. With no ``--target`` the embedded emulator is given a known
capacity (``--max-concurrency`` answers at once, ``--latency`` each), so the search can be seen
to find it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from harness.api.duration import DurationError, format_duration, parse_duration
from harness.capacity import CapacityResult, Slo, analyse, write_result
from harness.capacity.statement import format_rate
from harness.cli.load_job import (
    add_label_option,
    label_locust_args,
    make_run_dir,
    run_locust,
    target_api_key,
)
from harness.cli.rails import add_allow_remote_option, print_target
from harness.cli.report import report_after_run
from harness.cli.serve import (
    API_KEY_ENV,
    add_emulator_options,
    emulator_config,
    emulator_description,
)
from harness.emulator import BackgroundEmulator, EmulatorConfig
from harness.errors import ConfigError, HarnessError
from harness.load.plan import PLAN_FILE
from harness.load.results import read_records
from harness.load.step_log import read_step_log, step_users

LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "capacity.py"
SCENARIO_FILE = "capacity_scenario.toml"
MAX_USERS = 1_000
MIN_STEP_NS = 2_000_000_000  # Locust moves a shape about once a second
USER_MARGIN_NS = 60_000_000_000  # users outlive the steps: the shape, not their slot, ends them
# The embedded emulator's default capacity: 4 answers at once, 40 ms each: 100 req/s; 8 may wait.
DEMO_EMULATOR = {"latency": "40ms", "max_concurrency": 4, "max_queue": 8}
RECORD_COLUMNS = ["kind", "phase", "recv_wall_ns", "clock_offset_ns", "latency_ms", "outcome"]
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$")


def parse_percentage(text: str, option: str) -> float:
    """``"1%"`` → 0.01; the sign is required, so a bare ``1`` cannot be read as 100 %."""
    match = _PERCENT.match(text)
    value = float(match.group(1)) / 100 if match else -1.0
    if not 0 <= value <= 1:
        raise ConfigError(f"{option} {text!r}: expected a percentage from 0% to 100%, e.g. '1%'")
    return value


def _positive_duration(text: str, option: str, minimum_ns: int = 1) -> int:
    try:
        value = parse_duration(text)
    except DurationError as exc:
        raise ConfigError(f"{option}: {exc}") from None
    if value < minimum_ns:
        raise ConfigError(f"{option} {text!r}: expected at least {format_duration(minimum_ns)}")
    return value


def _slo(args: argparse.Namespace) -> Slo:
    p95_ns = _positive_duration(args.slo_p95, "--slo-p95")
    max_error_rate = parse_percentage(args.max_error_rate, "--max-error-rate")
    return Slo(p95_s=p95_ns / 1e9, max_error_rate=max_error_rate)


def _steps(args: argparse.Namespace) -> list[int]:
    if not 1 <= args.step_users <= MAX_USERS:
        raise ConfigError(f"--step-users: expected a whole number from 1 to {MAX_USERS}")
    if not args.step_users <= args.max_users <= MAX_USERS:
        raise ConfigError(f"--max-users: expected a whole number from --step-users to {MAX_USERS}")
    _positive_duration(args.step_duration, "--step-duration", MIN_STEP_NS)
    return step_users(args.step_users, args.max_users)


def write_scenario(run_dir: Path, users: int, duration_ns: int) -> Path:
    """One case, one slot per user: each hammers a chatbot with no rate limit and no quota."""
    path = run_dir / SCENARIO_FILE
    path.write_text(
        'name = "capacity"\n'
        f'duration = "{format_duration(duration_ns)}"\n\n'
        "[[cases]]\n"
        'name = "capacity"\n'
        'behaviour = { kind = "hammer" }\n'
        f"population = {{ keys = {users}, users_per_key = 1 }}\n",
        encoding="utf-8",
    )
    return path


def _locust_command(
    args: argparse.Namespace, run_dir: Path, host: str, users: list[int], scenario: Path
) -> list[str]:
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
        "--aisk-scenario", str(scenario), "--aisk-out", str(run_dir),
        "--aisk-org-timezone", args.org_timezone,
        "--aisk-request-timeout", str(args.request_timeout),
        "--aisk-steps", ",".join(map(str, users)), "--aisk-step-duration", args.step_duration,
        "--csv", str(run_dir / "locust"), "--html", str(run_dir / "locust.html"),
        "--json-file", str(run_dir / "locust_stats"),  # Locust adds ".json"
    ]  # fmt: skip
    if args.target is None:
        command += ["--aisk-emulator", json.dumps(emulator_description(args))]
    return command


def _emulator_capacity(config: EmulatorConfig) -> str:
    """What the embedded emulator's settings imply, for the line that announces it."""
    latency = config.latency
    if config.max_concurrency is None or latency is None or latency.high_ns == 0:
        return "no capacity limit"
    mean_s = (latency.low_ns + latency.high_ns) / 2e9
    queue = "unbounded" if config.max_queue is None else str(config.max_queue)
    return (
        f"{config.max_concurrency} answers at once of {mean_s * 1e3:g} ms on average, queue "
        f"{queue}: at most {format_rate(config.max_concurrency / mean_s)}"
    )


def _cell(value: float | None, digits: str = ".3f") -> str:
    return "-" if value is None else format(value, digits)


def print_steps(result: CapacityResult) -> None:
    """The step table, the capacity, knee and error marks, the sentence and the model's caveat."""
    marks = [
        (result.capacity_step, "capacity"),
        (result.knee_step, "knee"),
        (result.errors_begin_step, "errors begin"),
    ]
    print(
        f"\n{'step':>4} {'users':>5} {'requests':>8} {'errors':>7} {'req/s':>7} {'err %':>6} "
        f"{'p50 s':>7} {'p95 s':>7} {'p99 s':>7}  {'SLO':<4} marks"
    )
    for step in result.steps:
        tags = [name for index, name in marks if index == step.index]
        print(
            f"{step.index:>4} {step.offered:>5g} {step.requests:>8} {step.errors:>7} "
            f"{step.throughput_rps:>7.1f} {step.error_rate * 100:>6.1f} {_cell(step.p50_s):>7} "
            f"{_cell(step.p95_s):>7} {_cell(step.p99_s):>7}  "
            f"{'ok' if step.within_slo else 'MISS':<4} {', '.join(tags)}"
        )
    print(f"\n{result.sentence}")
    print(f"({result.model_note})")


def _handle(args: argparse.Namespace) -> int:
    slo = _slo(args)
    users = _steps(args)
    label_args = label_locust_args(args.label)
    api_key = target_api_key(args.target, args.api_key, args.allow_remote)
    config: EmulatorConfig | None = None
    if args.target is None:
        api_key = secrets.token_urlsafe(24)
        config = emulator_config(args, [api_key])
    run_dir = make_run_dir(args.out)
    step_ns = parse_duration(args.step_duration)
    scenario = write_scenario(run_dir, users[-1], len(users) * step_ns + USER_MARGIN_NS)
    with ExitStack() as stack:
        if config is not None:
            host = stack.enter_context(BackgroundEmulator(config)).base_url
            print(f"embedded emulator at {host} ({_emulator_capacity(config)})")
        else:
            host = args.target.rstrip("/")
        print_target(host, api_key, args.target is None)
        print(
            f"capacity search {run_dir}: {len(users)} steps of {args.step_duration} "
            f"({', '.join(map(str, users))} users), target {host}"
        )
        env = {**os.environ, API_KEY_ENV: api_key}
        command = _locust_command(args, run_dir, host, users, scenario) + label_args
        code = run_locust(command, env)
    if not (run_dir / PLAN_FILE).exists():
        raise HarnessError(f"the search could not be made (Locust exited with {code}); see above")
    result = analyse(read_records(run_dir, RECORD_COLUMNS), read_step_log(run_dir), slo, host)
    path = write_result(run_dir, result)
    print_steps(result)
    print(f"\nrun directory: {run_dir}\ncapacity result: {path}")
    if not args.no_report:
        report_after_run(run_dir)
    if len(result.steps) < len(users):
        raise HarnessError(
            f"the search stopped after {len(result.steps)} of {len(users)} steps; "
            f"{path.name} holds what they measured"
        )
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "capacity",
        help="find the highest throughput the target sustains within an SLO",
        description="Step up closed-loop users against the embedded emulator or --target and "
        "report, per step, throughput, errors and latency percentiles from every request; then "
        "the capacity within the SLO, the knee where latency turns up, and where errors begin. "
        "With no --target the emulator defaults to --max-concurrency 4 --latency 40ms "
        "--max-queue 8 (at most 100 req/s).",
    )
    parser.add_argument("--target", metavar="URL", help="base URL of a deployment")
    parser.add_argument(
        "--api-key", metavar="KEY", help=f"organisation API key (or ${API_KEY_ENV})"
    )
    parser.add_argument(
        "--no-report", action="store_true", help="skip the notebooks and report.html"
    )
    add_allow_remote_option(parser)
    add_label_option(parser)
    parser.add_argument(
        "--slo-p95", default="2s", metavar="T",
        help="the p95 latency a step may have, a Go duration (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-error-rate", default="1%", metavar="P",
        help="the share of failed requests a step may have, e.g. '0.5%%' (default: 1%%)",
    )  # fmt: skip
    parser.add_argument(
        "--step-users", type=int, default=2, metavar="N",
        help="users added at each step; the first step has N (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-users", type=int, default=16, metavar="N",
        help="users of the last step (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--step-duration", default="6s", metavar="T",
        help="how long each step lasts, at least 2s; its first quarter is not measured "
        "(default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--out", metavar="DIR", help="run directory (default: reports/runs/<UTC>)")
    parser.add_argument(
        "--request-timeout", type=float, default=30.0, metavar="S",
        help="seconds before a request is recorded as a timeout (default: 30)",
    )  # fmt: skip
    add_emulator_options(parser)
    parser.set_defaults(handler=_handle, **DEMO_EMULATOR)


__all__ = ["add_parser", "parse_percentage", "print_steps"]
