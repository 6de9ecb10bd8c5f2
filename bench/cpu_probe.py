"""A Locust plugin for the benchmarks: CPU seconds this process spends per request, in steady state.

Loaded next to a locustfile (``-f user.py,bench/cpu_probe.py``). After ``BENCH_WARMUP_S`` it
notes the process CPU time (all threads, user + system) and the requests completed so far, again
``BENCH_WINDOW_S`` later, and writes both to ``BENCH_PROBE_FILE``. On a machine where the target
shares the cores, requests per CPU second is the per-process capacity that raw rps only hints at.
"""

from locust import events

import json
import os
import time
from typing import Any

import gevent

_completed = 0


@events.request.add_listener
def _count(**_: Any) -> None:
    global _completed
    _completed += 1


def _snapshot() -> dict[str, float]:
    return {"requests": _completed, "cpu_s": time.process_time(), "wall_s": time.monotonic()}


def _measure(path: str, warmup_s: float, window_s: float) -> None:
    gevent.sleep(warmup_s)
    start = _snapshot()
    gevent.sleep(window_s)
    end = _snapshot()
    requests = end["requests"] - start["requests"]
    cpu_s = end["cpu_s"] - start["cpu_s"]
    wall_s = end["wall_s"] - start["wall_s"]
    with open(path, "w", encoding="utf-8") as out:
        json.dump(
            {
                "requests": requests,
                "cpu_s": cpu_s,
                "wall_s": wall_s,
                "rps": requests / wall_s,
                "cpu_us_per_request": 1e6 * cpu_s / max(requests, 1),
                "cpu_utilisation": cpu_s / wall_s,
            },
            out,
        )


@events.test_start.add_listener
def _start(**_: Any) -> None:
    path = os.environ.get("BENCH_PROBE_FILE")
    if path:
        warmup = float(os.environ.get("BENCH_WARMUP_S", "3"))
        window = float(os.environ.get("BENCH_WINDOW_S", "10"))
        gevent.spawn(_measure, path, warmup, window)
