"""The live judge's CPU at 2 000 requests/s: one round's CPU time as the run grows.

Each round of ``python -m harness.cli.live`` reads every part on disk and judges the complete
prefix again (not incrementally), so a round costs more as the run grows; the judge spaces its
rounds so that it uses at most ``CPU_SHARE`` of one core (``harness.cli.live``), at the price
of a slower refresh. This measures, for the records a run at 2 000 requests/s has on disk after
``seconds``, one round's CPU time (every thread's), the pause the judge then takes, and the
share of one core that makes. Synthetic records of a correct sliding log (``checks_scale``).
"""

from __future__ import annotations

import resource
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.checks_scale import write_run
from harness.cli.check import read_check_input
from harness.cli.live import CPU_SHARE, INTERVAL_S
from harness.conformance.live import complete_prefix, cutoff_ns, judge_live
from harness.run.plan import read_plan

RATE = 2_000  # requests per second
TIMEOUT_NS = 30 * 1_000_000_000  # the default request timeout


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _round(folder: Path) -> tuple[float, int]:
    """One live round over ``folder``: its CPU seconds, and the requests it judged."""
    started = _cpu_s()
    data, _ = read_check_input(folder, read_plan(folder))
    cutoff = cutoff_ns(data.records, TIMEOUT_NS) or 0
    records, resets = complete_prefix(data.records, cutoff, data.resets)
    judged = judge_live(replace(data, records=records, resets=resets), cutoff).judged

    return _cpu_s() - started, judged


def run(seconds: tuple[int, ...] = (40, 300, 1_800)) -> dict[str, Any]:
    rounds = []
    for at in seconds:
        with tempfile.TemporaryDirectory() as temporary:
            folder = Path(temporary) / "run"
            folder.mkdir()
            # Each key is sent every 2 ms (checks_scale): 4 keys make 2 000 requests/s.
            write_run(folder, RATE * at, keys=4)
            cpu_s, judged = _round(folder)
        pause_s = max(INTERVAL_S, cpu_s * (1 / CPU_SHARE - 1))
        rounds.append(
            {
                "seconds_of_load": at,
                "records": RATE * at,
                "judged": judged,
                "round_cpu_s": round(cpu_s, 3),
                "refresh_s": round(pause_s + cpu_s, 1),
                "core_share": round(cpu_s / (pause_s + cpu_s), 3),
            }
        )
    return {"rate": RATE, "cpu_share_bound": CPU_SHARE, "rounds": rounds}
