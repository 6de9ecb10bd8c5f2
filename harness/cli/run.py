"""``aisk-harness run``: the main job. Load from Locust users, every request recorded.

With no ``--target`` it starts the embedded emulator on loopback. Locust runs headless in a child
process (it gevent-patches whatever imports it), in a session of its own so that one Ctrl-C
reaches it exactly once, through us: the run then stops, ships and writes every record, and
deletes its chatbots before it ends.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from harness.api.duration import DurationError, parse_duration
from harness.cli.check import judge, print_verdict, recording
from harness.cli.load_job import (
    add_label_option,
    label_locust_args,
    make_run_dir,
    run_locust,
    target_api_key,
)
from harness.cli.rails import (
    add_rail_options,
    print_estimate,
    print_target,
    rail_locust_args,
    validate_rails,
)
from harness.cli.report import report_after_run
from harness.cli.serve import (
    API_KEY_ENV,
    add_emulator_options,
    emulator_config,
    emulator_description,
)
from harness.emulator import BackgroundEmulator
from harness.errors import ConfigError, HarnessError
from harness.load.keys import plan_keys, url_host
from harness.load.plan import PLAN_FILE
from harness.load.results import read_records, summarise
from harness.load.scenario import (
    Scenario,
    default_scenario_path,
    load_scenario,
    with_overrides,
)
from harness.load.schedule import build_slots

SECOND_API_KEY_ENV = "AISK_SECOND_API_KEY"
LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "aisk.py"


def _scenario(args: argparse.Namespace) -> tuple[Scenario, Path]:
    path = Path(args.scenario) if args.scenario else default_scenario_path()
    scenario = load_scenario(path)
    if args.duration:
        try:
            parse_duration(args.duration)
        except DurationError as exc:
            raise ConfigError(f"--duration: {exc}") from None
    if args.duration or args.users:
        scenario = with_overrides(scenario, args.duration, args.users)
    return scenario, path


def _locust_command(
    args: argparse.Namespace, path: Path, run_dir: Path, host: str, users: int
) -> list[str]:
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "-u", str(users), "-r", str(users), "--host", host,
        "--aisk-scenario", str(path), "--aisk-out", str(run_dir), "--aisk-autostop",
        "--aisk-org-timezone", args.org_timezone,
        "--aisk-request-timeout", str(args.request_timeout),
        "--csv", str(run_dir / "locust"), "--html", str(run_dir / "locust.html"),
        # Locust's CSV can trail its last second; its JSON file holds the final counts.
        "--json-file", str(run_dir / "locust_stats"),  # Locust adds ".json"
    ]  # fmt: skip
    if args.duration:
        command += ["--aisk-duration", args.duration]
    if args.users:
        command += ["--aisk-clients-per-key", str(args.users)]
    if args.forwarded_for:
        command.append("--aisk-forwarded-for")
    if args.processes > 1:
        # A port of our own: two distributed runs on one host must not share Locust's 5557.
        port = str(_free_port())
        command += ["--processes", str(args.processes), "--master-bind-port", port]
        command += ["--master-port", port]
    if args.target is None:
        emulator = emulator_description(args)
        command += ["--aisk-emulator", json.dumps(emulator)]
    return command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _print_summary(run_dir: Path) -> None:
    records = read_records(run_dir)
    summary = summarise(records)
    print()
    if summary.empty:
        print("no chat requests were recorded")
    else:
        print(summary.to_string(index=False, float_format=lambda value: f"{value:.1f}"))
    print(f"\nrun directory: {run_dir}")
    print(f"records: {len(records)} in {run_dir / 'records'}")
    if (run_dir / "locust.html").exists():
        print(f"Locust report: {run_dir / 'locust.html'}")


def _print_losses(run_dir: Path) -> None:
    """What the recording process reported lost: workers, and chatbots it could not delete."""
    saved = recording(run_dir)
    for process in saved.get("lost_workers", ()):
        received = saved.get("workers", {}).get(process, {}).get("received", 0)
        print(f"warning: worker {process} was lost mid-run; its {received} records shipped "
              "before that are kept, its last requests are not recorded")  # fmt: skip
    left = saved.get("chatbots_not_deleted", ())
    if left:
        print(f"warning: {len(left)} chatbots were not deleted (delete them by hand): "
              f"{', '.join(left)}")  # fmt: skip


def _handle(args: argparse.Namespace) -> int:
    if args.processes < 1:
        raise ConfigError("--processes: expected a whole number of at least 1")
    validate_rails(args)
    label_args = label_locust_args(args.label)
    scenario, path = _scenario(args)
    api_key = target_api_key(args.target, args.api_key, args.allow_remote)
    second_key = args.second_api_key or os.environ.get(SECOND_API_KEY_ENV, "")
    run_dir = make_run_dir(args.out)
    with ExitStack() as stack:
        if args.target is None:
            api_key = secrets.token_urlsafe(24)
            second_key = secrets.token_urlsafe(24)
            config = emulator_config(args, [api_key, second_key])
            host = stack.enter_context(BackgroundEmulator(config)).base_url
            print(f"embedded emulator at {host} ({args.algorithm}, fault: {args.fault or 'none'})")
        else:
            host = args.target.rstrip("/")
        plans = plan_keys(
            scenario, "count", target_host=url_host(host),
            forwarded_for=args.forwarded_for,
        )  # fmt: skip
        slots = build_slots(scenario, plans)
        users = len(slots)
        env = {**os.environ, API_KEY_ENV: api_key, SECOND_API_KEY_ENV: second_key}
        print_target(host, api_key, args.target is None)
        print_estimate(slots, args.max_requests, args.max_rps, args.request_timeout)
        print(f"run {run_dir}: {len(scenario.cases)} cases, {users} keys, target {host}")
        command = _locust_command(args, path, run_dir, host, users) + rail_locust_args(args)
        command += label_args
        code = run_locust(command, env)
    if not (run_dir / PLAN_FILE).exists():
        raise HarnessError(f"the run could not be made (Locust exited with {code}); see above")
    _print_summary(run_dir)
    _print_losses(run_dir)
    if code == 2:
        # The recording process stopped the run itself (records could not be written): what was
        # written is kept and can be judged, but this run is not a verdict.
        raise HarnessError(
            f"the run stopped early (see the error above); what was recorded is kept in "
            f"{run_dir}: `aisk-harness check {run_dir}` judges it"
        )
    verdict = judge(run_dir)
    print_verdict(verdict, run_dir)
    if not args.no_report:
        report_after_run(run_dir)
    return verdict.exit_code


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a scenario with Locust and record every request",
        description="Run a scenario (default: the built-in one) against the embedded emulator or "
        "--target, recording every request to reports/runs/<UTC stamp>/ (or --out).",
    )
    parser.add_argument("--scenario", metavar="FILE", help="scenario TOML (default: built-in)")
    parser.add_argument("--target", metavar="URL", help="base URL of a deployment")
    parser.add_argument(
        "--api-key", metavar="KEY", help=f"organisation API key (or ${API_KEY_ENV})"
    )
    parser.add_argument(
        "--second-api-key",
        metavar="KEY",
        help=f"another organisation's key (or ${SECOND_API_KEY_ENV})",
    )
    parser.add_argument("--users", type=int, metavar="N", help="clients per key in every case")
    parser.add_argument("--duration", metavar="T", help="run every case for T (e.g. 30s)")
    parser.add_argument(
        "--processes", type=int, default=1, metavar="N", help="Locust processes (default: 1)"
    )
    parser.add_argument("--out", metavar="DIR", help="run directory (default: reports/runs/<UTC>)")
    parser.add_argument(
        "--forwarded-for",
        action="store_true",
        help="carry IP keys in X-Forwarded-For (for a target behind a trusted proxy)",
    )
    parser.add_argument(
        "--request-timeout", type=float, default=30.0, metavar="S",
        help="seconds before a request is recorded as a timeout (default: 30)",
    )  # fmt: skip
    parser.add_argument(
        "--no-report", action="store_true", help="skip the notebooks and report.html"
    )
    add_label_option(parser)
    add_rail_options(parser)
    add_emulator_options(parser)
    parser.set_defaults(handler=_handle)


__all__ = ["add_parser"]
