"""A load generator that cannot keep its schedule says so, and its step is not the target's.

Locust pinned to one core is asked for far more arrivals per second than one process can hand
over: its scheduler falls behind (``recording.json``'s ``behind_schedule``) and its CPU samples
(``generator_cpu.json``) show the core busy. A capacity step measured so is generator-bound
(``harness.capacity.generator``) and is never quoted as the target's capacity.
"""

from __future__ import annotations

import os
import subprocess
from functools import partial
from pathlib import Path

import pytest
from run_target import API_KEY, RUN_TIMEOUT_S, Target, run_command
from testkit import clean_env

from harness.capacity import Slo
from harness.capacity.generator import BEHIND_SHARE, mark_generator
from harness.capacity.open_result import open_result
from harness.capacity.open_steps import measure_open_step
from harness.run.generator_cpu import read_generator_cpu
from harness.run.reader import read_records
from harness.run.recording import read_recording

pytestmark = pytest.mark.locust

FLOOD_RPS = 50_000  # far beyond what one Locust process hands over (bench: ~10 000 req/s)
FLOOD = f"""
name = "flood"
duration = "3s"

[[cases]]
name = "open"
behaviour = {{ kind = "open", rate = {FLOOD_RPS}, max_in_flight = 64 }}
population = {{ keys = 1 }}
"""


def test_a_pinned_generator_asked_for_too_much_is_generator_bound(
    target: Target, tmp_path: Path
) -> None:
    path = tmp_path / "flood.toml"
    path.write_text(FLOOD)
    run_dir = tmp_path / "run"
    done = subprocess.run(
        run_command("--target", target.url, "--api-key", API_KEY, "--scenario", str(path),
                    "--out", str(run_dir), "--no-calibrate"),
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        check=False, preexec_fn=partial(os.sched_setaffinity, 0, {0}),
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr[-3000:]
    recording = read_recording(run_dir)
    records = read_records(run_dir)
    sent = int(((records["kind"] == "chat") & (records["phase"] == "open")).sum())
    scheduled = sent + recording.dropped_sends.get("open", 0)
    behind = recording.behind_schedule.get("open", 0)
    assert sent < FLOOD_RPS * 3 * 0.5  # it could not send what was asked
    assert behind / scheduled > BEHIND_SHARE
    cpu = read_generator_cpu(run_dir)
    assert {sample.process for sample in cpu.samples} == {"local"}
    slo = Slo(p95_s=2.0, max_error_rate=0.01)
    step = measure_open_step(records, index=2, label="flood", rate=FLOOD_RPS,
                             duration_ns=3_000_000_000, slo=slo,
                             dropped=recording.dropped_sends.get("open", 0))  # fmt: skip
    marked = mark_generator(step, cpu, behind / scheduled)
    print(f"sent {sent} of {scheduled}, behind {behind}, CPU {marked.generator_cpu_percent}%")
    assert marked.generator_bound
    assert marked.generator_process == "local"
    # Such a step is shown but never taken for the target's capacity.
    result = open_result(target.url, slo, [], [marked], "constant")
    assert result.capacity_rps is None
    assert "generator-bound (flood:" in result.sentence
    assert "not counted as the target's" in result.sentence
