"""An open-model step's figures: latency from the intended instant beside the actual one,
unserved arrivals as errors, throttles as their own outcome, goodput, Little's law."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.capacity import Slo, StepResult
from harness.capacity.open_steps import measure_open_step

NS = 1_000_000_000
SLO = Slo(p95_s=0.5, max_error_rate=0.01)
STEP_NS = 4 * NS  # measured: its last 3 s (the first quarter settles)


def step_records(
    rate: float,
    latency_s: float,
    *,
    late_s: float = 0.0,
    late_growth: float = 0.0,
    outcomes: list[str] | None = None,
    chars: int = 10,
    skip_every: int = 0,
) -> pd.DataFrame:
    """Arrivals every 1/rate s for a step; each leaves ``late_s`` (+ growth × its turn) after
    its instant and takes ``latency_s``; ``skip_every``: every n-th arrival never sent."""
    count = int(rate * STEP_NS / NS)
    turns = np.arange(count)
    intended = 10 * NS + (turns * NS / rate).astype(np.int64)
    send = intended + (late_s * NS + late_growth * turns * NS).astype(np.int64)
    recv = send + int(latency_s * NS)
    frame = pd.DataFrame(
        {
            "kind": "chat",
            "phase": "open",
            "intended_send_mono_ns": intended,
            "send_mono_ns": send,
            "recv_mono_ns": recv,
            "send_wall_ns": send + 1_700_000_000 * NS,
            "clock_offset_ns": 0,
            "outcome": (outcomes * count)[:count] if outcomes else "ok",
            "answer_chars": chars,
        }
    )
    if skip_every:
        frame = frame[turns % skip_every != 0]
    probe = frame.iloc[:1].assign(phase="access:no-key", intended_send_mono_ns=pd.NA)
    return pd.concat([frame, probe], ignore_index=True)


def measure(records: pd.DataFrame, rate: float, dropped: int = 0) -> StepResult:
    return measure_open_step(
        records, index=3, label="x", rate=rate, duration_ns=STEP_NS, slo=SLO, dropped=dropped
    )


def test_a_step_the_target_keeps_up_with_is_within_and_steady() -> None:
    step = measure(step_records(50, 0.04), 50)
    assert step.offered == 50
    assert step.offered_unit == "req/s"
    assert step.requests == 150  # the last 3 s of the schedule
    assert (step.errors, step.unserved, step.late) == (0, 0, 0)
    assert step.throughput_rps == step.goodput_rps == step.sent_rps == pytest.approx(50)
    assert step.p95_s == pytest.approx(0.04) == step.p95_sent_s
    assert step.in_flight == pytest.approx(2.0, rel=0.02)  # 50/s × 40 ms
    assert step.littles_in_flight == pytest.approx(2.0)
    assert step.steady
    assert step.within_slo


def test_waiting_for_a_sender_counts_in_the_corrected_latency_only() -> None:
    # Each arrival left 0.6 s late (every sender busy): a client waited 0.64 s for its answer.
    step = measure(step_records(50, 0.04, late_s=0.6), 50)
    assert step.p95_sent_s == pytest.approx(0.04)
    assert step.p95_s == pytest.approx(0.64)
    assert step.late == step.requests
    assert not step.within_slo  # 0.64 s > the SLO's 0.5 s, though every answer took 40 ms
    assert step.goodput_rps == 0  # none within the latency bound
    assert step.throughput_rps == pytest.approx(50)


def test_arrivals_never_sent_are_errors() -> None:
    # 200 arrivals in the 4 s step, 20 dropped (recording.json): 15 of them in its last 3 s.
    step = measure(step_records(50, 0.04, skip_every=10), 50, dropped=20)
    assert step.unserved == 15
    assert step.requests == 135
    assert step.errors == 15
    assert step.error_rate == pytest.approx(15 / 150)
    assert not step.within_slo
    # A schedule that was sent whole has none unserved, whatever its window's edges hold.
    assert measure(step_records(50, 0.04), 50).unserved == 0


def test_throttles_and_out_of_quota_answers_are_their_own_outcomes_not_errors() -> None:
    outcomes = ["ok", "throttled", "out_of_quota", "server_error"]
    step = measure(step_records(40, 0.01, outcomes=outcomes), 40)
    assert step.requests == 120
    assert (step.throttled, step.out_of_quota, step.errors) == (30, 30, 30)
    assert step.error_rate == pytest.approx(30 / 120)
    assert step.throughput_rps == pytest.approx(10)


def test_empty_answers_are_not_goodput() -> None:
    step = measure(step_records(20, 0.01, chars=0), 20)
    assert step.throughput_rps == pytest.approx(20)
    assert step.goodput_rps == 0


def test_a_growing_queue_is_not_steady() -> None:
    # Each send later than the one before: the backlog grows through the step.
    step = measure(step_records(50, 0.04, late_growth=0.004), 50)
    assert step.p95_s is not None
    assert step.p95_sent_s is not None
    assert step.p95_s > 10 * step.p95_sent_s
    assert step.in_flight is not None
    assert step.littles_in_flight is not None
    assert step.steady is False
    # What the target completed in the window, not what arrived in it: it fell behind.
    assert step.sent_rps is not None
    assert step.throughput_rps < 0.9 * step.sent_rps
    # The window's wall-clock bounds are the intended window's, on the recording clock.
    assert step.end_ns - step.start_ns == STEP_NS * 3 // 4


def test_a_step_without_requests_is_outside_the_slo() -> None:
    records = step_records(10, 0.01).iloc[0:0]
    step = measure(records, 10)
    assert (step.requests, step.within_slo, step.p95_s) == (0, False, None)
