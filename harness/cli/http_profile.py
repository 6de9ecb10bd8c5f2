"""``aisk-harness run --profile http``: any HTTP API's rate limit, no chatbot and no API key.

The scenario (``harness.profiles.http.scenario``) declares each case's request, keys and policy;
the run sends it to ``--target`` (loopback unless ``--allow-remote``), writes a run directory as
a chatbot run's, and judges it with the same checks (the chatbot API's own marked not applicable).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.check import judge, print_verdict
from harness.cli.load_job import make_run_dir, run_dir_path, run_id_now
from harness.cli.rails import check_target
from harness.cli.report import report_after_run
from harness.errors import ConfigError, HarnessError
from harness.load.options import DEFAULT_REQUEST_TIMEOUT_S
from harness.profiles.http import load_http_scenario
from harness.profiles.http.run import run_http
from harness.versions import versions

__all__ = ["PROFILES", "run_http_profile"]

PROFILES = ("chatbot", "http")
# The run options that mean something only for the chatbot API (or its Locust load).
_CHATBOT_ONLY = ("chatbot", "dry_run", "api_key", "second_api_key", "fault")


def _refuse_chatbot_options(args: argparse.Namespace) -> None:
    for name in _CHATBOT_ONLY:
        if getattr(args, name, None):
            option = "--" + name.replace("_", "-")
            raise ConfigError(f"{option} is for the chatbot profile, not --profile http")
    if getattr(args, "processes", 1) != 1:
        raise ConfigError("--processes is for the chatbot profile, not --profile http")
    if getattr(args, "fail_fast", False) or getattr(args, "until", "duration") != "duration":
        # the live judge runs beside Locust's recording process, which this profile has not
        raise ConfigError("--fail-fast and --until are for the chatbot profile, not --profile http")


def run_http_profile(args: argparse.Namespace) -> int:
    """The run and its verdict: the verdict's exit code (0 conformant, 1 failed, 3 undecided)."""
    if not args.scenario:
        raise ConfigError("--profile http needs --scenario FILE (there is no built-in one)")
    if not args.target:
        raise ConfigError("--profile http needs --target URL (there is no embedded target)")
    _refuse_chatbot_options(args)
    target = args.target.rstrip("/")
    check_target(target, args.allow_remote)
    scenario = load_http_scenario(Path(args.scenario))
    run_dir = run_dir_path(args.out)
    make_run_dir(run_dir)
    keys = sum(case.keys for case in scenario.cases)
    print(f"run {run_dir}: http profile, {len(scenario.cases)} cases, {keys} keys, target {target}")
    timeout = args.request_timeout or DEFAULT_REQUEST_TIMEOUT_S
    count = run_http(
        scenario, target, run_dir, run_id=run_id_now(), versions=versions(), timeout_s=timeout
    )
    print(f"records: {count} written in {run_dir / 'records'}")
    if not count:
        raise HarnessError(f"no request was sent to {target}; see {run_dir}")
    verdict = judge(run_dir)
    print_verdict(verdict, run_dir)
    if not args.no_report:
        report_after_run(run_dir)
    return verdict.exit_code
