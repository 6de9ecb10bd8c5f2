"""The harness's Locust user (recording every request) vs a bare fast-HTTP Locust user.

Both run in one Locust process for the same time against the same emulator (no latency, limits
never reached); wrk against the same target gives the ceiling. Figures are requests per second
per Locust process; what matters is the ratio harness / bare, measured in one run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.emulator_throughput import _chatbot_token, target, wrk
from bench.targets import BENCH_KEY

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = """
name = "bench"
duration = "{seconds}s"

[[cases]]
name = "bench-hammer"
behaviour = {{ kind = "hammer" }}
population = {{ keys = {keys}, users_per_key = {clients} }}
rate_limit = {{ limit = 2147483647, duration = "1s", vary_by = "device" }}
"""


def _rate(stats_file: Path) -> float:
    entries = json.loads(stats_file.read_text())
    requests = sum(int(entry["num_requests"]) for entry in entries)
    start = min(float(entry["start_time"]) for entry in entries)
    end = max(float(entry["last_request_timestamp"]) for entry in entries)
    return requests / (end - start)


def _bare(url: str, token: str, users: int, seconds: int, folder: Path) -> float:
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "bare_locustfile.py"),
         "--headless", "-u", str(users), "-r", str(users), "--run-time", f"{seconds}s",
         "--host", url, "--json-file", str(folder / "bare"), "--only-summary"],
        env={**os.environ, "BENCH_TOKEN": token}, check=True, capture_output=True,
        timeout=seconds + 60,
    )  # fmt: skip
    return _rate(folder / "bare.json")


def _harness(url: str, keys: int, clients: int, seconds: int, folder: Path) -> float:
    scenario = folder / "bench.toml"
    scenario.write_text(SCENARIO.format(seconds=seconds, keys=keys, clients=clients))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISK_")}
    subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "run", "--target", url, "--api-key", BENCH_KEY,
         "--scenario", str(scenario), "--out", str(folder / "run"), "--no-report"],
        env=env, check=False, capture_output=True, timeout=seconds + 120,
    )  # fmt: skip
    return _rate(folder / "run" / "locust_stats.json")


def run(seconds: int = 15, keys: int = 8, clients: int = 4, rounds: int = 3) -> dict[str, Any]:
    """Bare and harness alternate ``rounds`` times; the median ratio resists a noisy machine."""
    users = keys * clients
    results: dict[str, Any] = {"seconds": seconds, "concurrent_clients": users, "rounds": []}
    with tempfile.TemporaryDirectory() as temporary, target("emulator") as url:
        token = _chatbot_token(url)
        results["wrk_rps"] = wrk(url, token, seconds, users)["rps"]
        for number in range(rounds):
            folder = Path(temporary) / str(number)
            folder.mkdir()
            bare = _bare(url, token, users, seconds, folder)
            harness = _harness(url, keys, clients, seconds, folder)
            results["rounds"].append(
                {"bare_locust_rps": round(bare), "harness_rps": round(harness),
                 "harness_vs_bare": round(harness / bare, 3)}
            )  # fmt: skip
    results["median_harness_vs_bare"] = statistics.median(
        r["harness_vs_bare"] for r in results["rounds"]
    )
    return results
