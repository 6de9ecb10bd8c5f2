"""How often ``compare`` cries wolf, and whether it and ``history`` see a real step.

Against the embedded emulator, with the built-in comparison scenario (``compare.toml``) for 3 s,
as the end-to-end test: 8 keys paced at 20 answers/s each, and 2 paced keys throttled at 5 a
second. Paced, not hammered: a hammer saturates this 2-core machine's client, and its latency
then measures the machine's other load as much as the target (the README gives the hammer's
figures too):

- ``PAIRS`` pairs of runs at the same settings (``--latency 20ms``), each pair compared: the
  false-alarm rate is the share whose verdict is not "no significant change";
- one pair at 20 ms then 30 ms: must be a regression;
- ``history`` over five runs labelled v1.0 … v1.4 whose latency steps from 20 ms to 30 ms at the
  fourth: the change must be found at the fourth run and nowhere else.

``python -m bench compare_false_alarm`` (about 6 minutes); the figures go to the README.
``python -m bench.compare_false_alarm --pairs 3 --duration 30s --no-history`` measures longer runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.load.scenario import default_scenario_path

PAIRS = 10
DURATION = "3s"
RUN_TIMEOUT_S = 180
SCENARIO = default_scenario_path().with_name("compare.toml")


def _harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip


def _run(folder: Path, name: str, latency: str, duration: str = DURATION) -> Path:
    run_dir = folder / name
    done = _harness("run", "--scenario", str(SCENARIO), "--duration", duration, "--no-report",
                    "--out", str(run_dir), "--label", name, "--latency", latency)  # fmt: skip
    if not (run_dir / "verdict.json").exists():
        raise SystemExit(f"run {name} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return run_dir


def _compare(folder: Path, base: Path, candidate: Path) -> dict[str, Any]:
    out = folder / f"compare-{base.name}-{candidate.name}"
    done = _harness("compare", str(base), str(candidate), "--out", str(out))
    document = json.loads((out / "compare.json").read_text())
    answers = next(case for case in document["cases"] if case["case"] == "answers")
    p95 = answers["latency"][0]["percentiles"][1]
    gate = next(g for g in document["gates"] if g["subject"] == "p95 answers")
    return {
        "exit": done.returncode,
        "verdict": document["verdict"],
        "p95_ms": [
            round(p95["base_s"]["value"] * 1e3, 2),
            round(p95["candidate_s"]["value"] * 1e3, 2),
        ],
        "p95_shift": round(p95["shift"]["value"], 4),
        "p95_interval": [round(p95["shift"]["low"], 4), round(p95["shift"]["high"], 4)],
        "p95_gate": gate["outcome"],
    }


def _history(folder: Path, runs: list[Path]) -> dict[str, Any]:
    out = folder / "history"
    done = _harness("history", *map(str, runs), "--order", "label", "--out", str(out))
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("!")]
    return {"exit": done.returncode, "changes": lines}


def run(
    pairs_wanted: int = PAIRS, duration: str = DURATION, history_too: bool = True
) -> dict[str, Any]:
    started = time.monotonic()
    history: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="aisk-compare-bench-") as temporary:
        folder = Path(temporary)
        pairs = []
        for index in range(pairs_wanted):
            base = _run(folder, f"same{index}a", "20ms", duration)
            candidate = _run(folder, f"same{index}b", "20ms", duration)
            pairs.append(_compare(folder, base, candidate))
            print(f"pair {index}: {pairs[-1]}", file=sys.stderr)
        slow = _compare(
            folder,
            _run(folder, "step20", "20ms", duration),
            _run(folder, "step30", "30ms", duration),
        )
        if history_too:
            steps = [_run(folder, f"v1.{i}", "30ms" if i >= 3 else "20ms") for i in range(5)]
            history = _history(folder, steps)
    alarms = [pair for pair in pairs if pair["verdict"] != "no significant change"]
    return {
        "duration": duration,
        "pairs": pairs,
        "same_settings_no_significant_change": pairs_wanted - len(alarms),
        "false_alarm_rate": len(alarms) / pairs_wanted,
        "p95_gate_inconclusive": sum(pair["p95_gate"] == "inconclusive" for pair in pairs),
        "20ms_vs_30ms": slow,
        "history_step_at_fourth": history,
        "seconds": round(time.monotonic() - started, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=PAIRS)
    parser.add_argument("--duration", default=DURATION)
    parser.add_argument("--no-history", action="store_true")
    options = parser.parse_args()
    print(json.dumps(run(options.pairs, options.duration, not options.no_history), indent=2))
