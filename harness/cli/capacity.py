"""``aisk-harness capacity``: the highest throughput a target sustains within an SLO.

A stepped load of closed-loop users (``locustfiles/capacity.py``) against a chatbot with no rate
limit or quota, every request recorded as in any run; then ``harness.capacity`` measures each
step and writes ``capacity.json``. With no ``--target`` the embedded emulator is given a known
capacity (``--max-concurrency`` answers at once, ``--latency`` plus ``--model-latency`` each), so
the search can be seen to find it.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from harness.api.duration import DurationError, format_duration, parse_duration
from harness.capacity import CapacityResult, Slo, analyse, write_result
from harness.cli.capacity_open import (
    emulator_or_target,
    one_case_scenario,
    run_open_sweep,
    start_emulator,
)
from harness.cli.load_job import (
    cli_spell,
    kept_only_if_recorded,
    locust_command,
    make_run_dir,
    run_dir_path,
    run_id_now,
    run_locust,
    target_api_key,
)
from harness.cli.rails import add_allow_remote_option, print_target
from harness.cli.report import report_after_run
from harness.cli.serve import (
    add_emulator_options,
    emulator_config,
    emulator_description,
    refuse_emulator_options,
)
from harness.emulator import EmulatorConfig
from harness.errors import ConfigError, HarnessError
from harness.load.options import API_KEY_ENV, add_run_options, option_values
from harness.load.settings import run_settings
from harness.run.generator_cpu import GENERATOR_CPU_FILE, read_generator_cpu
from harness.run.plan import PLAN_FILE
from harness.run.reader import read_records
from harness.run.step_log import read_step_log, step_users

# The run options a capacity search takes (its scenario, duration and users are its own).
CAPACITY_RUN_OPTIONS = ("out", "request-timeout", "org-timezone", "label", "api-key")
MAX_USERS = 1_000
MAX_RATES = 20
MAX_REPEAT = 10
CLOSED_DIR = "closed"  # --model both: the closed search's run directory inside the sweep's
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


def _target(args: argparse.Namespace) -> tuple[str, EmulatorConfig | None]:
    """The API key, and the embedded emulator's configuration where there is no --target
    (its options checked before anything is made)."""
    if args.target is not None:
        refuse_emulator_options(args)
    else:
        for name, value in DEMO_EMULATOR.items():
            if getattr(args, name) is None:
                setattr(args, name, value)
    api_key = target_api_key(args.target, args.api_key, args.allow_remote)
    if args.target is not None:
        return api_key, None
    api_key = secrets.token_urlsafe(24)
    return api_key, emulator_config(args, [api_key])


def _handle(args: argparse.Namespace) -> int:
    slo = _slo(args)
    users = _steps(args)
    if not 1 <= args.rates <= MAX_RATES:
        raise ConfigError(f"--rates: expected a whole number from 1 to {MAX_RATES}")
    if not 1 <= args.repeat <= MAX_REPEAT:
        raise ConfigError(f"--repeat: expected a whole number from 1 to {MAX_REPEAT}")
    api_key, config = _target(args)
    run_dir = run_dir_path(args.out)
    if args.model == "open":
        return run_open_sweep(args, slo, api_key, config, run_dir)
    if args.model == "both":  # the closed search first, in closed/; the sweep's report has both
        _closed(args, slo, users, api_key, config, run_dir / CLOSED_DIR, report=False)
        return run_open_sweep(args, slo, api_key, config, run_dir)
    return _closed(args, slo, users, api_key, config, run_dir)


def _closed(
    args: argparse.Namespace,
    slo: Slo,
    users: list[int],
    api_key: str,
    config: EmulatorConfig | None,
    run_dir: Path,
    report: bool = True,
) -> int:
    step_ns = parse_duration(args.step_duration)
    # One slot per user, each hammering a chatbot with no rate limit and no quota.
    scenario = one_case_scenario(
        "capacity", {"kind": "hammer"}, users[-1], len(users) * step_ns + USER_MARGIN_NS
    )
    with kept_only_if_recorded(run_dir), ExitStack() as stack:
        host, emulator = emulator_or_target(stack, args, config)
        settings = run_settings(
            option_values(args),
            spell=cli_spell,
            run_id=run_id_now(),
            run_dir=run_dir,
            target=host,
            emulator=emulator_description(args) if config else None,
            scenario=scenario,
        )
        make_run_dir(run_dir)
        start_emulator(emulator, config)
        print_target(host, api_key, args.target is None)
        print(
            f"capacity search {run_dir}: {len(users)} steps of {args.step_duration} "
            f"({', '.join(map(str, users))} users), target {host}"
        )
        steps = [
            "--aisk-steps",
            ",".join(map(str, users)),
            "--aisk-step-duration",
            args.step_duration,
        ]
        env = {**os.environ, API_KEY_ENV: api_key}
        code = run_locust(locust_command("capacity.py", settings, users=None, extra=steps), env)
        if not (run_dir / PLAN_FILE).exists():
            raise HarnessError(
                f"the search could not be made (Locust exited with {code}); see above"
            )
    cpu = read_generator_cpu(run_dir) if (run_dir / GENERATOR_CPU_FILE).exists() else None
    records = read_records(run_dir, RECORD_COLUMNS)
    result = analyse(records, read_step_log(run_dir), slo, host, cpu)
    path = write_result(run_dir, result)
    print_steps(result)
    print(f"\nrun directory: {run_dir}\ncapacity result: {path}")
    if report and not args.no_report:
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
    add_run_options(parser, names=CAPACITY_RUN_OPTIONS)
    parser.add_argument(
        "--no-report", action="store_true", help="skip the notebooks and report.html"
    )
    add_allow_remote_option(parser)
    parser.add_argument(
        "--slo-p95",
        default="2s",
        metavar="T",
        help="the p95 latency a step may have, a Go duration (default: %(default)s)",
    )
    parser.add_argument(
        "--max-error-rate",
        default="1%",
        metavar="P",
        help="the share of failed requests a step may have, e.g. '0.5%%' (default: 1%%)",
    )
    parser.add_argument(
        "--step-users",
        type=int,
        default=2,
        metavar="N",
        help="users added at each step; the first step has N (default: %(default)s)",
    )
    parser.add_argument(
        "--max-users",
        type=int,
        default=16,
        metavar="N",
        help="users of the last step (default: %(default)s)",
    )
    parser.add_argument(
        "--step-duration",
        default="6s",
        metavar="T",
        help="how long each step lasts, at least 2s; its first quarter is not measured "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--model",
        choices=("closed", "open", "both"),
        default="closed",
        help="closed: step up users (default); open: sweep arrival rates, latency measured from "
        "each request's intended send instant; both: the closed search (in closed/), then the "
        "sweep, and one report of the two",
    )
    parser.add_argument(
        "--rates",
        type=int,
        default=5,
        metavar="K",
        help="--model open: rates spread between the synchronous and the throughput run, before "
        "bisection (default: %(default)s)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="--model open: run each rate N times and give each figure with its 95%% confidence "
        "interval (default: %(default)s)",
    )
    parser.add_argument(
        "--arrivals",
        choices=("constant", "poisson"),
        default="constant",
        help="--model open: arrivals evenly spaced or a Poisson process (default: %(default)s)",
    )
    add_emulator_options(parser, zone=False)
    parser.set_defaults(handler=_handle)


__all__ = ["add_parser", "parse_percentage", "print_steps"]
