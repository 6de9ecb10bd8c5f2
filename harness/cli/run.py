"""``aisk-harness run``: a scenario with Locust, every request recorded, then the verdict.

The run's options become one ``RunSettings`` (scenario, target, budget, timeouts, the keys of every
case), written to the run directory and handed to a Locust child as one file. Locust runs in a
session of its own so that one Ctrl-C reaches it exactly once, through us: the run then stops,
ships and writes every record, and deletes its chatbots before it ends.
"""

from __future__ import annotations

import argparse
import os
import secrets
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from harness.cli.calibrate import CALIBRATION_FILE, calibrate
from harness.cli.check import judge, print_verdict
from harness.cli.distributed import MasterPlan, add_master_options, master_plan, users_for_workers
from harness.cli.engines import raise_if_engine_failed, with_redis
from harness.cli.existing import add_existing_options, existing_scenario
from harness.cli.http_profile import PROFILES, run_http_profile
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
from harness.cli.rails import add_allow_remote_option, print_estimate, print_target
from harness.cli.report import report_after_run
from harness.cli.serve import (
    add_emulator_options,
    emulator_config,
    emulator_description,
    limiter_text,
    refuse_emulator_options,
)
from harness.emulator import BackgroundEmulator, EmulatorConfig
from harness.errors import ConfigError, HarnessError
from harness.load.options import API_KEY_ENV, SECOND_API_KEY_ENV, add_run_options, option_values
from harness.load.settings import SETTINGS_FILE, RunSettings, read_settings, run_settings
from harness.run.interruption import Interruption
from harness.run.plan import PLAN_FILE, read_plan
from harness.run.reader import read_records
from harness.run.recording import RECORDING_FILE, Recording, read_recording
from harness.run.records import is_load_chat
from harness.run.summary import late_sends, summarise

__all__ = ["add_parser"]

_NO_VERDICT = "the records are kept in {}, but this is no verdict"


# What a finished run leaves beside its records (report.html unless --no-report, calibration.json
# unless --no-calibrate): an interrupted run names those it lacks.
FINISHED_RUN_FILES = (
    SETTINGS_FILE,
    PLAN_FILE,
    CALIBRATION_FILE,
    RECORDING_FILE,
    "locust.html",
    "locust_stats.json",
    "locust_stats.csv",
    "verdict.json",
    "junit.xml",
    "report.html",
)

SUMMARY_COLUMNS = [
    "request_id",
    "kind",
    "phase",
    "case",
    "outcome",
    "latency_ms",
    "send_mono_ns",
    "intended_send_mono_ns",
    "answer_chars",
]


def _print_summary(run_dir: Path, recording: Recording | None) -> None:
    records = read_records(run_dir, SUMMARY_COLUMNS)
    summary = summarise(records)
    print()
    if summary.empty:
        print("no chat requests were recorded")
    else:
        print(summary.to_string(index=False, float_format=lambda value: f"{value:.1f}"))
    late = late_sends(records[is_load_chat(records)])
    dropped = recording.dropped_sends if recording is not None else {}
    if late or dropped:
        print(
            "open schedules: "
            + "; ".join(
                f"{case} {late.get(case, 0)} late, {dropped.get(case, 0)} dropped"
                for case in sorted({*late, *dropped})
            )
        )
    print(f"\nrun directory: {run_dir}")
    if (run_dir / "locust.html").exists():
        print(f"Locust report: {run_dir / 'locust.html'}")


def _print_recording(run_dir: Path) -> Recording | None:
    """How the records reached the disk, and what the run left behind (workers, chatbots)."""
    if not (run_dir / RECORDING_FILE).exists():
        print(f"warning: {RECORDING_FILE} was not written: the run did not end normally")
        return None
    recording = read_recording(run_dir)
    lost = f", {recording.records_lost} LOST" if recording.records_lost else ""
    print(f"records: {recording.records_written} written in {run_dir / 'records'}{lost}")
    senders = read_settings(run_dir / SETTINGS_FILE).senders or {}
    for process in recording.lost_workers:
        received = recording.processes[process].received if process in recording.processes else 0
        where = f" ({', '.join(senders[process])})" if senders.get(process) else ""
        print(
            f"warning: worker {process}{where} was lost mid-run; its {received} records "
            "shipped before that are kept, its last requests are not recorded, and the keys "
            "it sent are not judged whole: the verdict cannot be CONFORMANT"
        )
    if recording.slots_not_run:
        print(
            f"warning: {len(recording.slots_not_run)} slots of the scenario never ran: "
            f"{', '.join(recording.slots_not_run[:10])}"
        )
    left = recording.chatbots_not_deleted
    if left:
        print(
            f"warning: {len(left)} chatbots were not deleted (delete them by hand): "
            f"{', '.join(left)}"
        )
    return recording


def _settings(
    args: argparse.Namespace, run_dir: Path, host: str, master: MasterPlan | None, api_key: str
) -> RunSettings:
    if args.chatbot and args.target is None:
        raise ConfigError("--chatbot needs --target (the embedded emulator starts empty)")
    scenario = existing_scenario(args, host, api_key) if args.target is not None else None
    if (args.fail_fast or args.until == "decided") and args.no_live:
        raise ConfigError("--fail-fast and --until decided need the live judge: drop --no-live")
    settings = run_settings(
        option_values(args),
        spell=cli_spell,
        run_id=run_id_now(),
        run_dir=run_dir,
        target=host,
        emulator=emulator_description(args) if args.target is None else None,
        autostop=True,
        dry_run=args.dry_run,
        scenario=scenario,
        expect_workers=master.expect_workers if master is not None else None,
    )
    live = {
        "live": not args.no_live and not args.dry_run,
        "fail_fast": args.fail_fast,
        "until_decided": args.until == "decided",
    }
    return settings.model_copy(update=live)


def _keys(args: argparse.Namespace) -> tuple[str, str, EmulatorConfig | None]:
    """The API keys of the run (random ones for an embedded emulator) and the emulator's
    configuration, every option checked before anything is made."""
    if args.processes < 1:
        raise ConfigError("--processes: expected a whole number of at least 1")
    if args.target is not None:
        refuse_emulator_options(args)
    api_key = target_api_key(args.target, args.api_key, args.allow_remote)
    second_key = args.second_api_key or os.environ.get(SECOND_API_KEY_ENV, "")
    if args.target is not None:
        return api_key, second_key, None
    api_key, second_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    return api_key, second_key, emulator_config(args, [api_key, second_key])


def _load(args: argparse.Namespace, run_dir: Path) -> int:
    """The target, the plan and its cost, then Locust to its end: Locust's exit code."""
    api_key, second_key, config = _keys(args)
    master = master_plan(args)
    with ExitStack() as stack:
        if config is not None:
            config = with_redis(stack, config)
        emulator = BackgroundEmulator(config) if config is not None else None
        if emulator is not None:
            stack.callback(emulator.stop)
        host = emulator.base_url if emulator is not None else args.target.rstrip("/")
        # every option checked before anything is made
        settings = _settings(args, run_dir, host, master, api_key)
        make_run_dir(run_dir)
        if emulator is not None:
            emulator.start()
            assert config is not None
            fault = args.fault or "none"
            print(f"embedded emulator at {host} ({limiter_text(config)}, fault: {fault})")
        print_target(host, api_key, emulator is not None)
        calibration = None
        if not args.no_calibrate:
            calibration = calibrate(
                host, api_key, settings.run_id, settings.ready_timeout_s, run_dir
            )
        print_estimate(settings, calibration)
        users = len(settings.slots)
        print(f"run {run_dir}: {len(settings.scenario.cases)} cases, {users} keys, target {host}")
        env = {**os.environ, API_KEY_ENV: api_key, SECOND_API_KEY_ENV: second_key}
        if master is None:
            command = locust_command(
                "aisk.py",
                settings,
                users=users,
                processes=args.processes,
                locust_stats=args.locust_stats,
            )
            code = run_locust(command, env, run_dir)
            if emulator is not None:
                raise_if_engine_failed(emulator.service, _NO_VERDICT.format(run_dir))
            return code
        print(
            f"waiting up to {args.worker_timeout} for {master.expect_workers} workers at "
            f"{master.bind_host}:{master.port}: on each host, `aisk-harness worker --master "
            f"<this host>:{master.port}`"
        )
        users = users_for_workers(users, master.expect_workers)
        command = locust_command(
            "aisk.py",
            settings,
            users=users,
            extra=master.locust_args(),
            locust_stats=args.locust_stats,
        )
        code = run_locust(command, env, run_dir)
        if emulator is not None:
            raise_if_engine_failed(emulator.service, _NO_VERDICT.format(run_dir))
        if code == 1 and not (run_dir / PLAN_FILE).exists():
            raise HarnessError(
                f"--expect-workers {master.expect_workers}: the workers did not all join within "
                f"{args.worker_timeout} (Locust's last 'Waiting for workers' line above says how "
                f"many did); nothing was set up on the target"
            )
        return code


def _dry_run_done(run_dir: Path, recording: Recording | None) -> int:
    plan = read_plan(run_dir)
    left = recording.chatbots_not_deleted if recording is not None else []
    print(
        f"\ndry run: {len(plan.cases)} chatbots made, READY, probed and "
        f"{'deleted' if not left else f'deleted but {len(left)}'}; no load was sent"
    )
    return 2 if left or recording is None else 0


def _handle(args: argparse.Namespace) -> int:
    if args.profile == "http":
        return run_http_profile(args)
    run_dir = run_dir_path(args.out)
    with kept_only_if_recorded(run_dir):
        code = _load(args, run_dir)
        if not (run_dir / PLAN_FILE).exists():
            raise HarnessError(f"the run could not be made (Locust exited with {code}); see above")
    if args.dry_run:
        return _dry_run_done(run_dir, _print_recording(run_dir))
    _print_summary(run_dir, _print_recording(run_dir))
    if code == 2:
        # The recording process stopped the run itself (records could not be written, the
        # set-up failed): what was written is kept and can be judged, but this is no verdict.
        raise HarnessError(
            f"the run stopped early (see the error above); what was recorded is kept in "
            f"{run_dir}: `aisk-harness check {run_dir}` judges it"
        )
    verdict = judge(run_dir)
    print_verdict(verdict, run_dir)
    if not args.no_report:
        report_after_run(run_dir)
    if verdict.interruption is not None:
        _name_absent(run_dir, args, verdict.interruption)
    return verdict.exit_code


def _name_absent(run_dir: Path, args: argparse.Namespace, interruption: Interruption) -> None:
    """An interrupted run's files that a finished run has and this one lacks, in one line."""
    skipped = {CALIBRATION_FILE: args.no_calibrate, "report.html": args.no_report}
    absent = [
        name
        for name in FINISHED_RUN_FILES
        if not skipped.get(name) and not (run_dir / name).exists()
    ]
    if absent:
        print(f"not written ({interruption.describe()}): {', '.join(absent)}")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a scenario with Locust and record every request",
        description="Run a scenario (default: the built-in one) against the embedded emulator or "
        "--target, recording every request to reports/runs/<UTC stamp>/ (or --out). Exit 0 "
        "conformant, 1 a check failed, 2 the run could not be made, 3 inconclusive.",
    )
    parser.add_argument("--target", metavar="URL", help="base URL of a deployment")
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="chatbot",
        help="what --target is: the chatbot API (default), or any HTTP API whose limits "
        "--scenario declares (docs/guides/any-http.md)",
    )
    add_run_options(parser)
    parser.add_argument(
        "--processes", type=int, default=1, metavar="N", help="Locust processes (default: 1)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="set up (chatbots, tokens, READY, probes), print the plan and its cost, tear down",
    )
    parser.add_argument(
        "--no-report", action="store_true", help="skip the notebooks and report.html"
    )
    parser.add_argument(
        "--locust-stats",
        action="store_true",
        help="print Locust's request tables every few seconds (default: one progress line)",
    )
    parser.add_argument(
        "--no-calibrate",
        action="store_true",
        help="skip the four calibration chats before the load (the plan then shows no rates)",
    )
    parser.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop the run at the first violation the live judge proves (exit 1, the proof "
        "printed); the verdict is still the offline check of what was recorded",
    )
    parser.add_argument(
        "--until",
        choices=("duration", "decided"),
        default="duration",
        help="'decided': each case's keys stop once every check has power on the case (or a "
        "violation there is proven), and the run once every case is; at most its duration "
        "(default: duration)",
    )
    parser.add_argument(
        "--no-live",
        action="store_true",
        help="no live judging: no per-check progress in the terminal while the load runs",
    )
    add_master_options(parser)
    add_existing_options(parser)
    add_allow_remote_option(parser)
    add_emulator_options(parser, zone=False)
    parser.set_defaults(handler=_handle)
