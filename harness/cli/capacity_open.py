"""``capacity --model open``: an arrival-rate sweep, one Locust run per step.

A synchronous run (one user, one request in flight) and a throughput run (``--max-users``
users) are closed loops, as GuideLLM's sweep begins; then ``--rates`` open-model rates spread
between the two and bisection (``harness.capacity.sweep``) until the highest rate within the SLO
is known to 5 %. Every step is a whole run of its own in ``RUN_DIR/steps/NN-label/`` (records,
``run.json``, Locust's files), against a fresh chatbot with no limit and no quota; the sweep's
``capacity.json`` is in ``RUN_DIR``.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from harness.api.duration import format_duration, parse_duration
from harness.capacity import CapacityResult, Slo, StepResult, write_result
from harness.capacity.generator import mark_generator
from harness.capacity.open_result import open_result
from harness.capacity.open_steps import OPEN_PHASE, measure_open_step
from harness.capacity.repeats import combine
from harness.capacity.statement import format_rate
from harness.capacity.steps import SETTLE_FRACTION, Requests, Window, measure
from harness.capacity.sweep import next_rate, spread
from harness.cli.engines import with_redis
from harness.cli.load_job import cli_spell, locust_command, make_run_dir, run_id_now, run_locust
from harness.cli.rails import print_target
from harness.cli.report import report_after_run
from harness.cli.serve import emulator_description
from harness.emulator import BackgroundEmulator, EmulatorConfig
from harness.errors import ConfigError, HarnessError
from harness.load.options import API_KEY_ENV, option_values
from harness.load.scenario import Scenario, parse_scenario
from harness.load.settings import run_settings
from harness.run.generator_cpu import read_generator_cpu
from harness.run.plan import PLAN_FILE
from harness.run.reader import read_records
from harness.run.recording import read_recording

__all__ = [
    "OPEN_KEYS",
    "emulator_capacity",
    "emulator_or_target",
    "one_case_scenario",
    "open_sweep",
    "run_open_sweep",
    "start_emulator",
]

OPEN_KEYS = 4  # the schedule is shared by this many keys (users), so no one key's senders bind
COLUMNS = [
    "kind",
    "phase",
    "send_wall_ns",
    "recv_wall_ns",
    "send_mono_ns",
    "recv_mono_ns",
    "intended_send_mono_ns",
    "clock_offset_ns",
    "latency_ms",
    "outcome",
    "answer_chars",
]


def one_case_scenario(
    name: str, behaviour: dict[str, object], keys: int, duration_ns: int
) -> Scenario:
    """A capacity run's scenario: one case, one user per key, on a chatbot with no limit."""
    case = {"name": name, "behaviour": behaviour, "population": {"keys": keys, "users_per_key": 1}}
    return parse_scenario(
        {"name": name, "duration": format_duration(duration_ns), "cases": [case]},
        "the capacity search's scenario",
    )


def emulator_or_target(
    stack: ExitStack, args: argparse.Namespace, config: EmulatorConfig | None
) -> tuple[str, BackgroundEmulator | None]:
    """The base URL the search loads: the embedded emulator's (made here, stopped with
    ``stack``, started by ``start_emulator`` once the options are checked) or --target's."""
    if config is None:
        return args.target.rstrip("/"), None
    emulator = BackgroundEmulator(with_redis(stack, config))
    stack.callback(emulator.stop)
    return emulator.base_url, emulator


def start_emulator(emulator: BackgroundEmulator | None, config: EmulatorConfig | None) -> None:
    if emulator is not None and config is not None:
        emulator.start()
        print(f"embedded emulator at {emulator.base_url} ({emulator_capacity(config)})")


def open_behaviour(rate: float, slo: Slo, arrivals: str) -> dict[str, object]:
    """A key's share of ``rate``: senders enough for answers up to twice the SLO's p95 (beyond
    it a step fails anyway), and an arrival waiting longer than the p95 is dropped (unserved)."""
    per_key = rate / OPEN_KEYS
    return {
        "kind": "open",
        "rate": per_key,
        "arrivals": arrivals,
        "max_in_flight": min(math.ceil(per_key * slo.p95_s * 2) + 4, 10_000),
        "max_delay": format_duration(round(slo.p95_s * 1e9)),
    }


class _Steps:
    """Runs the sweep's steps one after another, each in its own run directory."""

    def __init__(
        self,
        args: argparse.Namespace,
        host: str,
        api_key: str,
        run_dir: Path,
        emulator: dict[str, object] | None,
    ) -> None:
        self.args, self.host, self.api_key, self.run_dir = args, host, api_key, run_dir
        self.emulator = emulator
        self.step_ns = parse_duration(args.step_duration)
        self.count = 0

    def run(self, label: str, scenario: Scenario, users: int) -> Path:
        step_dir = self.run_dir / "steps" / f"{self.count:02d}-{label}"
        settings = run_settings(
            option_values(self.args),
            spell=cli_spell,
            run_id=run_id_now(),
            run_dir=step_dir,
            target=self.host,
            emulator=self.emulator,
            scenario=scenario,
        )
        make_run_dir(step_dir)
        env = {**os.environ, API_KEY_ENV: self.api_key}
        code = run_locust(locust_command("aisk.py", settings, users=users), env)
        if not (step_dir / PLAN_FILE).exists():
            raise HarnessError(f"step {label} could not be made (Locust exited with {code})")
        self.count += 1
        return step_dir

    @staticmethod
    def generator(
        step: StepResult, step_dir: Path, behind_share: float | None = None
    ) -> StepResult:
        """The step marked with the CPU its Locust process used (``generator_cpu.json``)."""
        try:
            cpu = read_generator_cpu(step_dir)
        except ConfigError:
            cpu = None
        return mark_generator(step, cpu, behind_share)

    def closed(self, label: str, users: int, slo: Slo) -> StepResult:
        scenario = one_case_scenario(label, {"kind": "hammer"}, users, self.step_ns)
        step_dir = self.run(label, scenario, users)
        records = read_records(step_dir, COLUMNS)
        load = records[(records["kind"] == "chat") & (records["phase"] == "hammer")]
        first = int((load["send_wall_ns"] + load["clock_offset_ns"]).min()) if len(load) else 0
        settled = first + round(self.step_ns * SETTLE_FRACTION)
        window = Window(self.count - 1, float(users), settled, first + self.step_ns)
        (step,) = measure(Requests.of(records), [window], slo)
        return self.generator(step.model_copy(update={"label": label}), step_dir)

    def open(self, rate: float, slo: Slo) -> StepResult:
        arrivals = self.args.arrivals
        label = f"{rate:.4g}rps"
        scenario = one_case_scenario(
            OPEN_PHASE, open_behaviour(rate, slo, arrivals), OPEN_KEYS, self.step_ns
        )
        step_dir = self.run(label, scenario, OPEN_KEYS)
        recording = read_recording(step_dir)
        dropped = recording.dropped_sends.get(OPEN_PHASE, 0)
        behind = recording.behind_schedule.get(OPEN_PHASE, 0)
        records = read_records(step_dir, COLUMNS)
        step = measure_open_step(
            records,
            index=self.count - 1,
            label=label,
            rate=rate,
            duration_ns=self.step_ns,
            slo=slo,
            dropped=dropped,
        )
        # behind counts the whole step's arrivals: over all it scheduled (sent or dropped).
        sent = int(((records["kind"] == "chat") & (records["phase"] == OPEN_PHASE)).sum())
        share = behind / max(sent + dropped, 1)
        return self.generator(step, step_dir, round(share, 4))


def _line(step: StepResult) -> str:
    p95 = "-" if step.p95_s is None else f"{step.p95_s:.3f}"
    if step.offered_unit == "users":
        return (
            f"{step.label:>12}  {step.offered:g} users: {step.throughput_rps:.1f} req/s "
            f"completed, p95 {p95} s, {step.error_rate * 100:.1f}% errors"
            f"{_bound(step)}"
        )
    sent = "-" if step.p95_sent_s is None else f"{step.p95_sent_s:.3f}"
    return (
        f"{step.label:>12}  sent {step.sent_rps or 0:.1f}/s, ok {step.throughput_rps:.1f}/s, "
        f"goodput {step.goodput_rps or 0:.1f}/s, p95 {p95} s (from the send: {sent} s), "
        f"late {step.late}, unserved {step.unserved}, errors {step.error_rate * 100:.1f}%, "
        f"in flight {step.in_flight or 0:.1f} (Little {step.littles_in_flight or 0:.1f}"
        f"{'' if step.steady else ', NOT STEADY'})  {'ok' if step.within_slo else 'MISS'}"
        f"{_bound(step)}{_spread(step)}"
    )


def _spread(step: StepResult) -> str:
    """The 95 % intervals of a repeated step's main figures."""
    if not step.repeats or not step.intervals:
        return ""
    shown = [
        f"{name} {low:.3g}–{high:.3g}"
        for name, (low, high) in step.intervals.items()
        if name in ("throughput_rps", "goodput_rps", "p95_s")
    ]
    return f"\n{'':>14}95% CI over {step.repeats} runs: {', '.join(shown)}"


def _bound(step: StepResult) -> str:
    parts = (
        []
        if step.generator_cpu_percent is None
        else [f"Locust {step.generator_cpu_percent:.0f}% CPU"]
    )
    if step.behind_share:
        parts.append(f"{step.behind_share * 100:.1f}% handed over late")
    if not parts:
        return ""
    return f"  ({', '.join(parts)}){'  GENERATOR-BOUND' if step.generator_bound else ''}"


def open_sweep(
    args: argparse.Namespace,
    slo: Slo,
    host: str,
    api_key: str,
    run_dir: Path,
    emulator: dict[str, object] | None,
    say: Callable[[str], None] = print,
) -> CapacityResult:
    """Every step of the sweep, run and measured; its result (not yet written)."""
    steps = _Steps(args, host, api_key, run_dir, emulator)
    synchronous = steps.closed("synchronous", 1, slo)
    say(_line(synchronous))
    throughput = steps.closed("throughput", args.max_users, slo)
    say(_line(throughput))
    rates: list[StepResult] = []

    def tried() -> list[tuple[float, bool]]:
        return [(step.offered, step.within_slo) for step in rates if not step.generator_bound]

    def step(rate: float) -> StepResult:
        runs = [steps.open(rate, slo) for _ in range(args.repeat)]
        return combine(runs, slo.max_error_rate, slo.p95_s)

    for rate in spread(synchronous.throughput_rps, throughput.throughput_rps, args.rates):
        rates.append(step(rate))
        say(_line(rates[-1]))
    bisections = 0
    while (bisected := next_rate(tried(), bisections)) is not None:
        bisections += 1
        rates.append(step(bisected))
        say(_line(rates[-1]))
    result = open_result(host, slo, [synchronous, throughput], rates, args.arrivals)
    if result.capacity_rps is not None:
        say(f"capacity: {format_rate(result.capacity_rps)}")
    return result


def emulator_capacity(config: EmulatorConfig) -> str:
    """What the embedded emulator's settings imply, for the line that announces it."""
    rate = config.capacity_rps
    if rate is None or config.max_concurrency is None:
        return "no capacity limit"
    queue = "unbounded" if config.max_queue is None else str(config.max_queue)
    return (
        f"{config.max_concurrency} answers at once of {config.max_concurrency / rate * 1e3:g} ms "
        f"on average, queue {queue}: at most {format_rate(rate)}"
    )


def run_open_sweep(
    args: argparse.Namespace, slo: Slo, api_key: str, config: EmulatorConfig | None, run_dir: Path
) -> int:
    """The sweep against the emulator (``config``) or --target, its result written."""
    with ExitStack() as stack:
        host, emulator = emulator_or_target(stack, args, config)
        make_run_dir(run_dir)
        start_emulator(emulator, config)
        print_target(host, api_key, args.target is None)
        print(
            f"open-model sweep {run_dir}: a synchronous run, a throughput run of "
            f"{args.max_users} users, {args.rates} rates ({args.arrivals} arrivals) and "
            f"bisection, {args.step_duration} each; target {host}"
        )
        description = emulator_description(args) if config is not None else None
        result = open_sweep(args, slo, host, api_key, run_dir, description)
    path = write_result(run_dir, result)
    print(f"\n{result.sentence}\n({result.model_note})")
    print(f"\nrun directory: {run_dir} (each step's run in steps/)\ncapacity result: {path}")
    if not args.no_report:
        report_after_run(run_dir)
    return 0
