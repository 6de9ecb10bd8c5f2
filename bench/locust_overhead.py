"""The harness's Locust user (recording every request) vs a bare fast-HTTP Locust user.

Both run in one Locust process each, one after the other, against the same emulator (no latency,
limits never reached); wrk against the same target gives the ceiling. ``bench/cpu_probe.py`` is
loaded into both Locust processes and measures, in steady state, requests per second and CPU
seconds per request. On this 2-core machine the target shares the cores with Locust, so raw rps
also measures the target; requests per CPU second of the Locust process is its own capacity.
What matters are the ratios harness / bare, measured in one run; rounds alternate. Locust runs on
CPU 0 and the target on CPU 1, so neither takes the other's core.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from bench.emulator_throughput import BENCH_SCENARIO, chatbot_token, target, wrk
from bench.targets import BENCH_KEY

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "bench" / "cpu_probe.py"
LOCUST_CPUS, TARGET_CPUS = {0}, {1}
WARMUP_S = 4


def _locust(locustfile: Path, arguments: list[str], env: dict[str, str], folder: Path,
            seconds: int) -> dict[str, Any]:  # fmt: skip
    probe_file = folder / "probe.json"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AISK_", "BENCH_"))},
        **env,
        "BENCH_PROBE_FILE": str(probe_file),
        "BENCH_WARMUP_S": str(WARMUP_S),
        "BENCH_WINDOW_S": str(seconds - WARMUP_S - 2),
    }
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", f"{locustfile},{PROBE}", "--headless",
         "--only-summary", *arguments],
        env=env, check=True, capture_output=True, timeout=seconds + 120,
        preexec_fn=partial(os.sched_setaffinity, 0, LOCUST_CPUS),
    )  # fmt: skip
    probe: dict[str, Any] = json.loads(probe_file.read_text())
    return probe


def _bare(url: str, token: str, users: int, seconds: int, folder: Path) -> dict[str, Any]:
    arguments = ["-u", str(users), "-r", str(users), "--run-time", f"{seconds}s", "--host", url]
    return _locust(
        ROOT / "bench" / "bare_locustfile.py", arguments, {"BENCH_TOKEN": token}, folder, seconds
    )


def _harness(url: str, keys: int, clients: int, seconds: int, folder: Path) -> dict[str, Any]:
    scenario = folder / "bench.toml"
    scenario.write_text(BENCH_SCENARIO.format(seconds=seconds, keys=keys, clients=clients))
    users = str(keys)  # one Locust user per key; its clients are greenlets of that user
    arguments = [
        "-u", users, "-r", users, "--host", url, "--aisk-scenario", str(scenario),
        "--aisk-out", str(folder / "run"),
    ]  # fmt: skip
    return _locust(
        ROOT / "locustfiles" / "aisk.py", arguments, {"AISK_API_KEY": BENCH_KEY}, folder, seconds
    )


def run(seconds: int = 20, keys: int = 8, clients: int = 4, rounds: int = 5) -> dict[str, Any]:
    """Bare and harness alternate ``rounds`` times; the median ratio resists a noisy machine."""
    users = keys * clients
    results: dict[str, Any] = {"seconds": seconds, "concurrent_clients": users, "rounds": []}
    with tempfile.TemporaryDirectory() as temporary, target("emulator", TARGET_CPUS) as url:
        token = chatbot_token(url)
        results["wrk_rps"] = wrk(url, token, seconds, users)["rps"]
        for number in range(rounds):
            folder = Path(temporary) / str(number)
            (folder / "bare").mkdir(parents=True)
            (folder / "harness").mkdir()
            bare = _bare(url, token, users, seconds, folder / "bare")
            harness = _harness(url, keys, clients, seconds, folder / "harness")
            results["rounds"].append(
                {
                    "bare": _rounded(bare),
                    "harness": _rounded(harness),
                    "rps_ratio": round(harness["rps"] / bare["rps"], 3),
                    "requests_per_cpu_s_ratio": round(
                        bare["cpu_us_per_request"] / harness["cpu_us_per_request"], 3
                    ),
                }
            )
    for ratio in ("rps_ratio", "requests_per_cpu_s_ratio"):
        results[f"median_{ratio}"] = statistics.median(r[ratio] for r in results["rounds"])
    return results


def _rounded(probe: dict[str, Any]) -> dict[str, Any]:
    return {
        "rps": round(probe["rps"]),
        "cpu_us_per_request": round(probe["cpu_us_per_request"], 1),
        "cpu_utilisation": round(probe["cpu_utilisation"], 2),
    }
