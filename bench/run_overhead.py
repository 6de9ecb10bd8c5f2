"""What ``aisk-harness run`` costs beyond its load: wall time minus the load's own duration.

The built-in scenario against the embedded emulator, ``--duration 10s``, ``rounds`` times with
the report and as many without (``--no-report``), alternating. The overhead is set-up (emulator,
chatbots, tokens, READY, probes, calibration), Locust's start and stop, teardown, the checks and,
with the report, its notebooks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LOAD_S = 10.0


def _wall_s(out: Path, *extra: str) -> float:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "run", "--duration", f"{LOAD_S:g}s",
         "--out", str(out), *extra],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    wall = time.monotonic() - started
    if done.returncode not in (0, 3):  # 3: a 10 s run cannot reach the minute window's power
        raise SystemExit(f"run failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return wall


def run(rounds: int = 3) -> dict[str, Any]:
    walls: dict[str, list[float]] = {"with_report": [], "no_report": []}
    with tempfile.TemporaryDirectory() as temporary:
        for number in range(rounds):
            walls["with_report"].append(_wall_s(Path(temporary) / f"r{number}"))
            walls["no_report"].append(_wall_s(Path(temporary) / f"n{number}", "--no-report"))
    result: dict[str, Any] = {"load_s": LOAD_S}
    for name, values in walls.items():
        overheads = sorted(round(wall - LOAD_S, 1) for wall in values)
        result[f"{name}_overhead_s"] = overheads
        result[f"{name}_median_overhead_s"] = overheads[len(overheads) // 2]
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
