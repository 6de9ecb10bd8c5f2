"""The open-model sender's accuracy: does one Locust process hold a scheduled 2 000 req/s?

One Locust process (pinned to CPU 0) runs an open-model case at ``rate`` requests per second in
all (``keys`` keys sharing it) against the emulator (pinned to CPU 1, no latency, limits never
reached). From the records, over the run less its first two seconds and last one: the achieved
send rate against the scheduled one, how late sends left (actual minus intended instant: p50,
p99, max) and the share later than 5 ms, and the arrivals dropped (``recording.json``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bench.emulator_throughput import target
from bench.targets import BENCH_KEY
from harness.run.reader import read_records

ROOT = Path(__file__).resolve().parents[1]
LOCUST_CPUS, TARGET_CPUS = {0}, {1}
LATE_MS = 5.0
SCENARIO = """
name = "open-sender"
duration = "{seconds}s"

[[cases]]
name = "open"
behaviour = {{ kind = "open", rate = {per_key}, max_in_flight = {in_flight} }}
population = {{ keys = {keys} }}
"""


def _one(
    url: str, rate: float, keys: int, seconds: int, in_flight: int, folder: Path
) -> dict[str, Any]:
    scenario = folder / "open.toml"
    scenario.write_text(
        SCENARIO.format(seconds=seconds, per_key=rate / keys, keys=keys, in_flight=in_flight)
    )
    run_dir = folder / "run"
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "locustfiles" / "aisk.py"),
         "--headless", "--only-summary", "-u", str(keys), "-r", str(keys), "--host", url,
         "--aisk-scenario", str(scenario), "--aisk-out", str(run_dir)],
        env={**os.environ, "AISK_API_KEY": BENCH_KEY}, check=True, capture_output=True,
        timeout=seconds + 120, preexec_fn=partial(os.sched_setaffinity, 0, LOCUST_CPUS),
    )  # fmt: skip
    records = read_records(run_dir, ["kind", "phase", "send_mono_ns", "intended_send_mono_ns"])
    sends = records[records["phase"] == "open"]
    start = sends["intended_send_mono_ns"].min()
    intended = sends["intended_send_mono_ns"].to_numpy(np.int64) - start
    late_ms = (sends["send_mono_ns"].to_numpy(np.int64) - start - intended) / 1e6
    window = (intended >= 2e9) & (intended < (seconds - 1) * 1e9)
    late_ms = late_ms[window]
    dropped = json.loads((run_dir / "recording.json").read_text()).get("dropped_sends", {})
    return {
        "scheduled_rps": rate,
        "achieved_rps": round(int(window.sum()) / (seconds - 3), 1),
        "late_p50_ms": round(float(np.percentile(late_ms, 50)), 3),
        "late_p99_ms": round(float(np.percentile(late_ms, 99)), 3),
        "late_max_ms": round(float(late_ms.max()), 3),
        "late_share": round(float((late_ms > LATE_MS).mean()), 4),
        "dropped": int(sum(dropped.values())),
        # Every part compacted to Parquet by the run's end (the hub writes Arrow: issue 17).
        "arrow_parts_left": len(list((run_dir / "records").glob("part-*.arrow"))),
    }


def run(rate: float = 2000.0, keys: int = 8, seconds: int = 20, in_flight: int = 64,
        rounds: int = 3) -> dict[str, Any]:  # fmt: skip
    results: dict[str, Any] = {"rounds": []}
    with tempfile.TemporaryDirectory() as temporary, target("emulator", TARGET_CPUS) as url:
        for number in range(rounds):
            folder = Path(temporary) / str(number)
            folder.mkdir()
            results["rounds"].append(_one(url, rate, keys, seconds, in_flight, folder))
    for figure in ("achieved_rps", "late_p99_ms", "late_share"):
        values = sorted(r[figure] for r in results["rounds"])
        results[f"median_{figure}"] = values[len(values) // 2]
    return results


if __name__ == "__main__":
    print(json.dumps(run(*(float(a) for a in sys.argv[1:2])), indent=2))
