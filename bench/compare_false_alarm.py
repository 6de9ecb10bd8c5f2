"""How often ``compare`` cries wolf, and whether it and ``history`` see a real step.

Against the embedded emulator, with the built-in performance scenario (``perf.toml``: open
arrivals, 2 load cases of 4 keys at 5 requests/s, no limit on them, and a polite case), as the
end-to-end test (``tests/cli/test_compare_power_runs.py``):

- ``PAIRS`` pairs of runs at the same settings (``--latency 20ms``), each pair compared: the
  false-alarm rate is the share whose exit code is not 0 (a regression, and an INCONCLUSIVE
  comparison too: a release gate that cannot decide fails the pipeline as surely);
- one pair at 20 ms then 30 ms: must be a regression (exit 1);
- ``history`` over five runs labelled v1.0 … v1.4 whose latency steps from 20 ms to 30 ms at the
  fourth: the change must be found at the fourth run and nowhere else.

``--model-latency 2s`` runs the same at a language model's latency (both runs of every pair get
it; the step is then 20 → 30 ms of ``--latency`` on top of it, far below the threshold: use
``--step-model-latency 3s`` to step the model instead).

``python -m bench compare_false_alarm`` (20 pairs of 60 s runs: about 50 minutes);
``python -m bench.compare_false_alarm --pairs 20 --duration 30s --no-history`` (about 27).
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

PAIRS = 20
DURATION = "60s"
RUN_TIMEOUT_S = 300
SCENARIO = default_scenario_path().with_name("perf.toml")
CASE = "chat-device"


def _harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip


def _run(
    folder: Path, name: str, latency: str, duration: str = DURATION, model: str | None = None
) -> Path:
    run_dir = folder / name
    options = ["--duration", duration, "--no-report", "--out", str(run_dir), "--label", name,
               "--latency", latency, *(["--model-latency", model] if model else [])]  # fmt: skip
    done = _harness("run", "--scenario", str(SCENARIO), *options)
    if not (run_dir / "verdict.json").exists():
        raise SystemExit(f"run {name} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return run_dir


def _compare(folder: Path, base: Path, candidate: Path) -> dict[str, Any]:
    out = folder / f"compare-{base.name}-{candidate.name}"
    done = _harness("compare", str(base), str(candidate), "--out", str(out))
    document = json.loads((out / "compare.json").read_text())
    answers = next(case for case in document["cases"] if case["case"] == CASE)
    p95 = next(p for p in answers["latency"][0]["percentiles"] if p["quantile"] == 0.95)
    gate = next(g for g in document["gates"] if g["subject"] == f"p95 {CASE}")
    return {
        "exit": done.returncode,
        "verdict": document["verdict"],
        "not_no_change": [
            f"{g['subject']}: {g['outcome']}"
            for g in document["gates"]
            if g["outcome"] not in ("no significant change", "not compared")
        ],
        "p95_ms": [
            round(p95["base_s"]["value"] * 1e3, 2),
            round(p95["candidate_s"]["value"] * 1e3, 2),
        ],
        "p95_shift": round(p95["shift"]["value"], 4),
        "p95_interval": [round(p95["shift"]["low"], 4), round(p95["shift"]["high"], 4)],
        "p95_gate": gate["outcome"],
        "p95_detectable": gate["detectable"],
    }


def _history(folder: Path, runs: list[Path]) -> dict[str, Any]:
    out = folder / "history"
    done = _harness("history", *map(str, runs), "--order", "label", "--out", str(out))
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("!")]
    return {"exit": done.returncode, "changes": lines}


def run(
    pairs_wanted: int = PAIRS,
    duration: str = DURATION,
    history_too: bool = True,
    model: str | None = None,
    step_model: str | None = None,
) -> dict[str, Any]:
    started = time.monotonic()
    history: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="aisk-compare-bench-") as temporary:
        folder = Path(temporary)
        pairs = []
        for index in range(pairs_wanted):
            base = _run(folder, f"same{index}a", "20ms", duration, model)
            candidate = _run(folder, f"same{index}b", "20ms", duration, model)
            pairs.append(_compare(folder, base, candidate))
            print(f"pair {index}: {pairs[-1]}", file=sys.stderr)
        slow = _compare(
            folder,
            _run(folder, "step20", "20ms", duration, model),
            _run(folder, "step30", "20ms" if step_model else "30ms", duration, step_model or model),
        )
        if history_too:
            steps = [_run(folder, f"v1.{i}", "30ms" if i >= 3 else "20ms") for i in range(5)]
            history = _history(folder, steps)
    alarms = [pair for pair in pairs if pair["exit"] != 0]
    return {
        "duration": duration,
        "model_latency": model,
        "pairs": pairs,
        "same_settings_exit_0": pairs_wanted - len(alarms),
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
    parser.add_argument("--model-latency", default=None, help="e.g. 2s: a language model's")
    parser.add_argument("--step-model-latency", default=None, help="the slower candidate's model")
    options = parser.parse_args()
    result = run(
        options.pairs,
        options.duration,
        not options.no_history,
        options.model_latency,
        options.step_model_latency,
    )
    print(json.dumps(result, indent=2))
