"""Capacity, knee, first errors and the sentence: on hand-made steps and on a simulated queue.

The simulation is the emulator's model in miniature: ``servers`` answers at once, each taking
``service_s``, the rest waiting in FIFO order, driven by closed-loop users; its capacity is
``servers / service_s``, which the analysis must find from the records alone.
"""

from __future__ import annotations

import heapq
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.capacity import CapacityResult, Slo, StepResult, analyse, capacity_step, knee
from harness.capacity.result import read_result, write_result
from harness.capacity.search import errors_begin
from harness.run.generator_cpu import CpuSample, GeneratorCpu
from harness.run.step_log import StepLog, StepSpan, step_users

S = 1_000_000_000
T0 = 1_800_000_000 * S
SLO = Slo(p95_s=1.0, max_error_rate=0.01)
CLIENT_GAP_NS = 200_000  # a user's own time between an answer and its next request


def step(index: int, p95: float | None, rps: float = 10.0, errors: float = 0.0) -> StepResult:
    within = p95 is not None and p95 <= SLO.p95_s and errors <= SLO.max_error_rate
    return StepResult(
        index=index, offered=float(2 * (index + 1)), offered_unit="users",
        start_ns=T0 + index * S, end_ns=T0 + (index + 1) * S, requests=100,
        errors=round(errors * 100), throughput_rps=rps, error_rate=errors,
        p50_s=p95, p95_s=p95, p99_s=p95, within_slo=within,
    )  # fmt: skip


def test_the_knee_is_the_first_step_whose_p95_rises_past_the_factor_and_the_floor() -> None:
    assert knee([step(0, 0.040), step(1, 0.059), step(2, 0.061), step(3, 0.2)]) == step(2, 0.061)
    # 1.5x a 2 ms baseline is only 1 ms more: jitter, not a knee, until 5 ms above it.
    assert knee([step(0, 0.002), step(1, 0.004), step(2, 0.0069), step(3, 0.0071)]) == step(
        3, 0.0071
    )
    assert knee([step(0, 0.040), step(1, 0.041)]) is None
    # The baseline is the lightest step with an answer; a step with none is skipped.
    assert knee([step(0, None), step(1, 0.040), step(2, 0.070)]) == step(2, 0.070)
    assert knee([step(0, None)]) is None


def test_capacity_is_the_highest_throughput_within_the_slo_and_errors_begin_past_the_max() -> None:
    steps = [
        step(0, 0.1, rps=40),
        step(1, 0.2, rps=90),
        step(2, 0.3, rps=90),  # a tie: the lighter step is the capacity
        step(3, 1.5, rps=120),  # beyond the p95
        step(4, 0.3, rps=130, errors=0.02),  # beyond the error rate
        step(5, 0.9, rps=80, errors=0.03),
    ]
    assert capacity_step(steps) == steps[1]
    assert errors_begin(steps, SLO) == steps[4]
    assert capacity_step(steps[3:4]) is None
    assert errors_begin(steps[:4], SLO) is None


def simulate(servers: int, service_s: float, users: list[int], step_s: float) -> pd.DataFrame:
    """Closed-loop users against a FIFO queue of ``servers``: one record per completed request."""
    service_ns, step_ns = round(service_s * S), round(step_s * S)
    free = [T0] * servers  # when each server is next free
    ready: list[tuple[int, int]] = []  # (next send, user)
    rows = []
    started = 0
    for index, count in enumerate(users):
        begin, end = T0 + index * step_ns, T0 + (index + 1) * step_ns
        for user in range(started, count):
            heapq.heappush(ready, (begin, user))
        started = count
        while ready and ready[0][0] < end:
            send, user = heapq.heappop(ready)
            start = max(send, heapq.heappop(free))
            done = start + service_ns
            heapq.heappush(free, done)
            rows.append((done, (done - send) / 1e6))
            heapq.heappush(ready, (done + CLIENT_GAP_NS, user))
    return pd.DataFrame(
        {
            "kind": "chat",
            "phase": "hammer",
            "recv_wall_ns": [row[0] for row in rows],
            "clock_offset_ns": 0,
            "latency_ms": [row[1] for row in rows],
            "outcome": "ok",
        }
    )


def log_of(users: list[int], step_s: float) -> StepLog:
    step_ns = round(step_s * S)
    return StepLog(
        step_duration_ns=step_ns,
        planned_users=users,
        steps=[
            StepSpan(index=i, users=u, start_ns=T0 + i * step_ns, end_ns=T0 + (i + 1) * step_ns)
            for i, u in enumerate(users)
        ],
    )


@settings(max_examples=25, deadline=None)
@given(
    servers=st.integers(min_value=1, max_value=8),
    service_ms=st.integers(min_value=10, max_value=100),
    increment=st.integers(min_value=1, max_value=3),
)
def test_the_search_finds_a_simulated_queues_capacity_at_its_knee(
    servers: int, service_ms: int, increment: int
) -> None:
    increment = min(increment, servers)  # the lightest step must be below saturation: the baseline
    users = step_users(increment, 3 * servers + increment)
    records = simulate(servers, service_ms / 1e3, users, step_s=4.0)
    result = analyse(records, log_of(users, 4.0), SLO, "http://simulated")
    implied = servers / (service_ms / 1e3)
    assert result.knee_step is not None
    assert result.knee_rps is not None
    # Past saturation a closed loop's mean latency is users/servers times the service time, so
    # latency has turned up 1.5-fold by the first step with more than 1.5 users per server...
    knee_users = result.steps[result.knee_step].offered
    assert servers < knee_users <= min(u for u in users if u > 1.5 * servers)
    # ...where the throughput is the queue's capacity (the users' own gaps cost well under 5 %).
    assert result.knee_rps == pytest.approx(implied, rel=0.05)
    assert result.capacity_rps == pytest.approx(implied, rel=0.05)
    assert result.errors_begin_step is None
    assert all(s.within_slo == (s.p95_s is not None and s.p95_s <= 1.0) for s in result.steps)


def test_the_sentence_states_capacity_knee_and_first_errors_or_their_absence() -> None:
    users = [2, 4, 6, 8]
    records = simulate(4, 0.04, users, step_s=4.0)
    result = analyse(records, log_of(users, 4.0), SLO, "http://simulated")
    assert result.model == "closed"
    assert "coordinated omission" in result.model_note
    assert result.sentence.startswith("The target sustains 100 req/s within the SLO (p95 ≤ 1 s")
    assert "with p95 0.04 s and 0.0% errors at 4 users (closed loop)" in result.sentence
    assert "latency turns up at 8 users (100 req/s)" in result.sentence  # 6: p95 = 1.5x, not more
    assert result.sentence.endswith("errors stay within 1% up to 8 users.")
    tight = analyse(records, log_of(users, 4.0), Slo(p95_s=0.01, max_error_rate=0), "x")
    assert tight.capacity_rps is None
    assert tight.sentence.startswith("No load step met the SLO (p95 ≤ 0.01 s, errors ≤ 0%)")
    failing = records.assign(outcome=["server_error" if i % 2 else "ok" for i in records.index])
    errors = analyse(failing, log_of(users, 4.0), SLO, "x")
    assert errors.errors_begin_step == 0
    assert "errors exceed 1% from 2 users" in errors.sentence
    empty = analyse(records.iloc[:0], StepLog(step_duration_ns=S, planned_users=[1]), SLO, "x")
    assert empty.steps == []
    assert empty.sentence == "No load step completed, so the capacity is unknown."


def test_capacity_json_round_trips(tmp_path: Path) -> None:
    users = [1, 2]
    records = simulate(1, 0.05, users, step_s=2.0)
    result = analyse(records, log_of(users, 2.0), SLO, "http://simulated")
    write_result(tmp_path, result)
    assert read_result(tmp_path) == result
    document = json.loads((tmp_path / "capacity.json").read_text())
    assert set(document) == set(CapacityResult.model_fields)
    assert document["steps"][0]["offered_unit"] == "users"


def test_a_step_whose_generator_was_busy_is_never_the_capacity() -> None:
    users = [1, 2, 4, 8]
    records = simulate(2, 0.05, users, step_s=4.0)
    log = log_of(users, 4.0)
    plain = analyse(records, log, SLO, "x")
    best = plain.capacity_step
    assert best is not None
    window = plain.steps[best]
    busy = GeneratorCpu(samples=[
        CpuSample(wall_ns=(window.start_ns + window.end_ns) // 2, process="local", percent=97.0),
    ])  # fmt: skip
    marked = analyse(records, log, SLO, "x", busy)
    assert marked.steps[best].generator_bound
    assert marked.capacity_step != best
    assert "generator-bound" in marked.sentence
    assert "Locust process local at 97% CPU" in marked.sentence
    quiet = GeneratorCpu(samples=[CpuSample(wall_ns=window.start_ns + 1, process="local",
                                            percent=12.0)])  # fmt: skip
    assert analyse(records, log, SLO, "x", quiet).capacity_step == best
