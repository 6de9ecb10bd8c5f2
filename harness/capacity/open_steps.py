"""Figures of one open-model rate step, from every request of its run.

Pure: a step's records in, one ``StepResult`` out. An open step sends on a schedule that does not
wait for answers, so what it measures differs from a closed step's in four ways:

- **Which requests**: those whose *intended* send instant lies in the step's window (its first
  ``SETTLE_FRACTION`` left out), on the sending process's monotonic clock.
- **Latency from the intended instant** (the percentiles ``p50_s``..``p99_s``): an arrival that
  waited for a free sender, because the target held every one, waited as a client would have;
  measuring from the actual send (``p50_sent_s``..) hides that wait (coordinated omission).
- **Unserved arrivals count as errors**: arrivals never sent (dropped past ``max_delay``:
  ``recording.json``'s ``dropped_sends``, the window's share of them) are clients nobody
  answered. ``error_rate`` is (errors + unserved) / (requests + unserved). Throttles and
  out-of-quota answers are their own outcomes, counted beside, never errors (a capacity
  chatbot has no limit, so any is a finding).
- **Throughput and goodput** are what the target *completed* in the window, per second (any
  arrival's answer that came back in it, as a closed step counts): ``throughput_rps`` every
  admitted answer, ``goodput_rps`` those with a non-empty text whose corrected latency is
  within the SLO's bound. Past the capacity they stay at what the target sustains while the
  arrivals (``sent_rps``) go on.

In flight: the time-average over the window of arrivals not yet answered (waiting for a sender
or at the target: each from its intended instant to its answer), beside Little's law's
completions per second × their mean corrected latency. In a steady state the two agree; where
they differ by more than ``LITTLE_TOLERANCE`` a queue grew (or drained) during the step, and
``steady`` says so: its percentiles then depend on how long the step lasted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.api.answer import Outcome
from harness.capacity.result import Slo, StepResult
from harness.capacity.steps import SETTLE_FRACTION, percentile
from harness.run.records import LATE_NS

__all__ = ["LITTLE_TOLERANCE", "OPEN_PHASE", "measure_open_step"]

OPEN_PHASE = "open"
LITTLE_TOLERANCE = 0.10
_QUIET_IN_FLIGHT = 0.05  # below this many in flight on average, Little's law is not judged
NS = 1_000_000_000


def _int(column: pd.Series) -> npt.NDArray[np.int64]:
    return column.to_numpy(np.int64)


def _completed(load: pd.DataFrame, start: int, end: int, slo: Slo) -> tuple[int, int]:
    """Admitted answers that came back in ``[start, end)``, and those of them that are good:
    a non-empty text within the SLO's latency bound from the intended instant."""
    recv = _int(load["recv_mono_ns"])
    ok = (
        (load["outcome"].astype(str) == Outcome.OK.value).to_numpy()
        & (recv >= start)
        & (recv < end)
    )
    chars = load["answer_chars"].to_numpy(np.float64, na_value=0.0)
    waited = (recv - _int(load["intended_send_mono_ns"])) / NS
    return int(ok.sum()), int((ok & (chars > 0) & (waited <= slo.p95_s)).sum())


def _little(load: pd.DataFrame, start: int, end: int) -> tuple[float, float]:
    """Over ``[start, end)``: the time-average of arrivals unanswered (every arrival of the
    step, whenever intended), and completions per second × their mean corrected latency."""
    arrived, answered = _int(load["intended_send_mono_ns"]), _int(load["recv_mono_ns"])
    overlap = np.clip(np.minimum(answered, end) - np.maximum(arrived, start), 0, None)
    in_flight = float(overlap.sum()) / (end - start)
    done = (answered >= start) & (answered < end)
    if not done.any():
        return in_flight, 0.0
    latency = float(np.mean(answered[done] - arrived[done])) / NS
    return in_flight, int(done.sum()) / ((end - start) / NS) * latency


@dataclass(frozen=True)
class _Window:
    """The step's arrivals whose intended instant lies in ``[start, end)`` (monotonic ns)."""

    start: int
    end: int
    intended: npt.NDArray[np.int64]
    send: npt.NDArray[np.int64]
    recv: npt.NDArray[np.int64]
    outcome: npt.NDArray[np.object_]
    chars: npt.NDArray[np.float64]

    @classmethod
    def of(cls, load: pd.DataFrame, duration_ns: int, settle_fraction: float) -> _Window:
        intended = _int(load["intended_send_mono_ns"])
        first = int(intended.min()) if intended.size else 0
        start, end = first + round(duration_ns * settle_fraction), first + duration_ns
        inside = (intended >= start) & (intended < end)
        step = load[inside]
        return cls(
            start,
            end,
            intended[inside],
            _int(step["send_mono_ns"]),
            _int(step["recv_mono_ns"]),
            step["outcome"].astype(str).to_numpy(),
            step["answer_chars"].to_numpy(np.float64, na_value=0.0),
        )

    def count(self, outcome: Outcome) -> int:
        return int((self.outcome == outcome.value).sum())


def measure_open_step(
    records: pd.DataFrame,
    *,
    index: int,
    label: str,
    rate: float,
    duration_ns: int,
    slo: Slo,
    dropped: int,
    settle_fraction: float = SETTLE_FRACTION,
) -> StepResult:
    """Step ``index`` (``rate`` arrivals per second for ``duration_ns``, ``dropped`` of them
    never sent) from its run's records."""
    load = records[(records["kind"] == "chat") & (records["phase"] == OPEN_PHASE)]
    load = load[load["intended_send_mono_ns"].notna()]
    w = _Window.of(load, duration_ns, settle_fraction)
    ok = w.outcome == Outcome.OK.value
    requests = int(w.intended.size)
    refused = w.count(Outcome.THROTTLED) + w.count(Outcome.OUT_OF_QUOTA)
    errors = requests - int(ok.sum()) - refused
    seconds = (w.end - w.start) / NS
    unserved = round(dropped * (w.end - w.start) / duration_ns)
    corrected = np.sort((w.recv - w.intended)[ok] / NS)
    actual = np.sort((w.recv - w.send)[ok] / NS)
    completed, good = _completed(load, w.start, w.end, slo)
    offered = requests + unserved
    error_rate = (errors + unserved) / offered if offered else 0.0
    p95 = percentile(corrected, 0.95)
    in_flight, littles = _little(load, w.start, w.end)
    quiet = max(in_flight, littles) < _QUIET_IN_FLIGHT
    within = requests > 0 and p95 is not None and p95 <= slo.p95_s
    # The window on the recording clock (UTC epoch ns), as a closed step's: monotonic + the
    # process's wall-minus-monotonic difference, + its offset to the recording process.
    wall = _int(load["send_wall_ns"] + load["clock_offset_ns"] - load["send_mono_ns"])
    to_wall = int(np.median(wall)) if wall.size else 0
    return StepResult(
        index=index,
        offered=rate,
        offered_unit="req/s",
        start_ns=w.start + to_wall,
        end_ns=w.end + to_wall,
        requests=requests,
        errors=errors + unserved,
        throughput_rps=completed / seconds,
        error_rate=error_rate,
        p50_s=percentile(corrected, 0.50),
        p95_s=p95,
        p99_s=percentile(corrected, 0.99),
        within_slo=within and error_rate <= slo.max_error_rate,
        label=label,
        sent_rps=requests / seconds,
        goodput_rps=good / seconds,
        p50_sent_s=percentile(actual, 0.50),
        p95_sent_s=percentile(actual, 0.95),
        p99_sent_s=percentile(actual, 0.99),
        late=int(((w.send - w.intended) > LATE_NS).sum()),
        unserved=unserved,
        throttled=w.count(Outcome.THROTTLED),
        out_of_quota=w.count(Outcome.OUT_OF_QUOTA),
        in_flight=in_flight,
        littles_in_flight=littles,
        steady=quiet or abs(in_flight - littles) <= LITTLE_TOLERANCE * max(in_flight, littles),
    )
