"""``python -m bench [NAME ...]``: run the benchmarks and write ``bench/results/NAME.json``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    checks_scale,
    compare_false_alarm,
    emulator_throughput,
    live_judge,
    locust_overhead,
    open_sender,
    run_overhead,
    soak,
)

BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "emulator_throughput": emulator_throughput.run,
    "locust_overhead": locust_overhead.run,
    "checks_scale": checks_scale.run,
    "soak": soak.run,
    "compare_false_alarm": compare_false_alarm.run,
    "open_sender": open_sender.run,
    "run_overhead": run_overhead.run,
    "live_judge": live_judge.run,
}


def main(names: list[str]) -> None:
    chosen = names or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}: expected some of {list(BENCHMARKS)}")
    folder = Path(__file__).parent / "results"
    folder.mkdir(exist_ok=True)
    for name in chosen:
        result = BENCHMARKS[name]()
        (folder / f"{name}.json").write_text(json.dumps(result, indent=2))
        print(f"{name}: {json.dumps(result)}")


if __name__ == "__main__":
    main(sys.argv[1:])
