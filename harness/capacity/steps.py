"""Per-step figures of a stepped load, from every request: throughput, errors, percentiles.

Pure: record frames and step windows in, ``StepResult`` out. A request belongs to the step in
whose window its answer completed (on the recording clock), so throughput is completions per
second; the first ``settle_fraction`` of each step is left out, while the new users start and the
target's queues fill.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.capacity.result import Slo, StepResult
from harness.run.step_log import StepLog

__all__ = [
    "LOAD_PHASE",
    "SETTLE_FRACTION",
    "Requests",
    "Window",
    "measure",
    "percentile",
    "windows_of",
]

SETTLE_FRACTION = 0.25
LOAD_PHASE = "hammer"  # the phase of the stepped load's chat requests (not the set-up probes)
NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Window:
    """Where step ``index`` (``offered`` users) is measured: ``[start_ns, end_ns)``."""

    index: int
    offered: float
    start_ns: int
    end_ns: int


@dataclass(frozen=True)
class Requests:
    """The load's requests as arrays sorted by completion instant."""

    done_ns: npt.NDArray[np.int64]
    latency_s: npt.NDArray[np.float64]
    ok: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, records: pd.DataFrame) -> Requests:
        """The stepped load's chat requests among a run's records (any other kind is left out)."""
        load = records[(records["kind"] == "chat") & (records["phase"] == LOAD_PHASE)]
        done = (load["recv_wall_ns"] + load["clock_offset_ns"]).to_numpy(np.int64)
        order = np.argsort(done, kind="stable")
        return cls(
            done_ns=done[order],
            latency_s=load["latency_ms"].to_numpy(np.float64)[order] / 1e3,
            ok=(load["outcome"] == "ok").to_numpy(np.bool_)[order],
        )


def windows_of(log: StepLog, settle_fraction: float = SETTLE_FRACTION) -> list[Window]:
    """The measured part of every step that ran to an end (a killed run leaves one open)."""
    if not 0 <= settle_fraction < 1:
        raise ValueError("settle_fraction must be in [0, 1)")
    windows = []
    for span in log.steps:
        if span.end_ns is None or span.end_ns <= span.start_ns:
            continue
        start = span.start_ns + round((span.end_ns - span.start_ns) * settle_fraction)
        windows.append(Window(span.index, float(span.users), start, span.end_ns))
    return windows


def percentile(sorted_values: npt.NDArray[np.float64], q: float) -> float | None:
    """Nearest rank: the smallest latency at least ``q`` of the requests did not exceed."""
    if sorted_values.size == 0:
        return None
    rank = max(int(np.ceil(q * sorted_values.size)), 1)
    return float(sorted_values[rank - 1])


def measure(requests: Requests, windows: list[Window], slo: Slo) -> list[StepResult]:
    results = []
    for window in windows:
        low, high = np.searchsorted(requests.done_ns, [window.start_ns, window.end_ns], "left")
        ok = requests.ok[low:high]
        total = int(high - low)
        succeeded = int(ok.sum())
        latencies = np.sort(requests.latency_s[low:high][ok])
        seconds = (window.end_ns - window.start_ns) / NS
        error_rate = (total - succeeded) / total if total else 0.0
        p95 = percentile(latencies, 0.95)
        results.append(
            StepResult(
                index=window.index,
                offered=window.offered,
                offered_unit="users",
                start_ns=window.start_ns,
                end_ns=window.end_ns,
                requests=total,
                errors=total - succeeded,
                throughput_rps=succeeded / seconds,
                error_rate=error_rate,
                p50_s=percentile(latencies, 0.50),
                p95_s=p95,
                p99_s=percentile(latencies, 0.99),
                within_slo=(
                    total > 0
                    and p95 is not None
                    and p95 <= slo.p95_s
                    and error_rate <= slo.max_error_rate
                ),
            )
        )
    return results
