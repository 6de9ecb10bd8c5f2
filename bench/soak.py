"""Soak: memory of the harness and the embedded emulator over a long run (default 10 minutes).

``aisk-harness run`` drives a mixed scenario (hammer, paced, polite, fresh-key bursts, a quota)
against the embedded emulator on loopback; the emulator serves from the ``run`` process itself, and
Locust runs in child processes. Every few seconds the RSS of each is sampled (psutil) into
``bench/results/soak.csv``; the summary gives RSS after warm-up, the maximum, the end, and the
slope of a least-squares line in MiB per hour (flat memory: a slope near zero).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MIB = 1024 * 1024
SAMPLE_S = 5.0
WARMUP_S = 60.0
RATE = 500

# Moderate, steady load: ``--max-rps`` holds the whole run to RATE requests/s (the hammer gets
# what the paced cases leave), so the soak measures growth, not how fast a shared machine can go.
# Bursts use a fresh key each repetition (the emulator's key table must forget them); one case
# rotates 50 device ids per key.
SCENARIO = """
name = "soak"
duration = "{seconds}s"

[[cases]]
name = "device-hammer"
behaviour = {{ kind = "hammer" }}
population = {{ keys = 4, users_per_key = 2 }}
rate_limit = {{ limit = 5, duration = "2s", vary_by = "device" }}

[[cases]]
name = "ip-with-many-devices"
behaviour = {{ kind = "paced", rate = 50.0 }}
population = {{ keys = 2, users_per_key = 2, rotate = "device", rotate_values = 50 }}
rate_limit = {{ limit = 5, duration = "2s", vary_by = "ip" }}

[[cases]]
name = "chatbot-paced"
behaviour = {{ kind = "paced", rate = 50.0 }}
population = {{ keys = 2 }}
rate_limit = {{ limit = 20, duration = "1s" }}

[[cases]]
name = "device-polite"
behaviour = {{ kind = "polite" }}
population = {{ keys = 3 }}
rate_limit = {{ limit = 4, duration = "2s", vary_by = "device" }}

[[cases]]
name = "fresh-key-bursts"
behaviour = {{ kind = "burst", size = 20, repeat = 1000, interval = "{interval}" }}
rate_limit = {{ limit = 5, duration = "2s", vary_by = "device" }}

[[cases]]
name = "quota-paced"
behaviour = {{ kind = "paced", rate = 20.0 }}
population = {{ keys = 2 }}
rate_limit = {{ limit = 50, duration = "1s", vary_by = "device" }}
quota = {{ limit = 1000 }}
"""


def _fit_slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), in MiB per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_m = sum(m for _, m in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    cov = sum((t - mean_t) * (m - mean_m) for t, m in points)
    return cov / var * 3600 if var else 0.0


def _rss(process: psutil.Process) -> float | None:
    try:
        return float(process.memory_info().rss) / MIB
    except psutil.Error:
        return None


def _sample(run: psutil.Process) -> dict[str, float] | None:
    """RSS of the run process (the emulator) and of all its Locust descendants; None once done."""
    emulator = _rss(run)
    if emulator is None:
        return None
    locust = []
    for child in run.children(recursive=True):
        rss = _rss(child)
        if rss is not None:
            locust.append(rss)
    if not locust:
        return None
    return {"emulator_mib": emulator, "locust_mib": sum(locust), "locust_processes": len(locust)}


def _summary(rows: list[dict[str, float]], column: str) -> dict[str, float]:
    """RSS after warm-up, max, end; the slope over the run and over its second half (growth
    that levels off, such as a table filling up to its sweep threshold, shows as a smaller one)."""
    steady = [(row["t_s"], row[column]) for row in rows if row["t_s"] >= WARMUP_S]
    return {
        "after_warmup_mib": round(steady[0][1], 1),
        "max_mib": round(max(m for _, m in steady), 1),
        "end_mib": round(steady[-1][1], 1),
        "slope_mib_per_hour": round(_fit_slope(steady), 2),
        "second_half_slope_mib_per_hour": round(_fit_slope(steady[len(steady) // 2 :]), 2),
    }


def run(minutes: float = 10.0, processes: int = 1) -> dict[str, Any]:
    seconds = int(minutes * 60 + WARMUP_S)
    interval = f"{max(seconds / 1000, 0.5):.3f}s"
    RESULTS.mkdir(exist_ok=True)
    rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        scenario = folder / "soak.toml"
        scenario.write_text(SCENARIO.format(seconds=seconds, interval=interval))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AISK_")}
        command = [
            sys.executable, "-m", "harness.cli.main", "run", "--scenario", str(scenario),
            "--out", str(folder / "run"), "--latency", "5ms..30ms",
            "--processes", str(processes), "--max-rps", str(RATE), "--no-report",
        ]  # fmt: skip
        log = (folder / "run.log").open("w")
        child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        run_process = psutil.Process(child.pid)
        started = time.monotonic()
        seen_locust = False
        try:
            while child.poll() is None:
                sample = _sample(run_process)
                if sample is not None:
                    seen_locust = True
                    rows.append({"t_s": round(time.monotonic() - started, 1), **sample})
                elif seen_locust:
                    break  # Locust has finished: what follows is the verdict, not the load
                time.sleep(SAMPLE_S)
            code = child.wait(timeout=seconds + 600)
        finally:
            if child.poll() is None:
                child.kill()
            log.close()
        records = json.loads((folder / "run" / "recording.json").read_text())["records_written"]
        tail = (folder / "run.log").read_text().strip().splitlines()[-1:]
    with (RESULTS / "soak.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return {
        "load_seconds": seconds,
        "warmup_seconds": WARMUP_S,
        "sample_seconds": SAMPLE_S,
        "samples": len(rows),
        "records": records,
        "run_exit_code": code,
        "run_last_line": tail[0] if tail else "",
        "emulator": _summary(rows, "emulator_mib"),
        "locust": _summary(rows, "locust_mib"),
        "command": " ".join(command[1:]).replace(str(folder), "<tmp>"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="load after warm-up")
    parser.add_argument("--processes", type=int, default=1, help="Locust processes")
    args = parser.parse_args()
    result = run(args.minutes, args.processes)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=2))
    for name in ("soak.csv", "soak.json"):  # kept per process count, for comparison
        suffix = f"-p{args.processes}"
        (RESULTS / name.replace(".", f"{suffix}.")).write_bytes((RESULTS / name).read_bytes())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
