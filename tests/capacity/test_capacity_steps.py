"""Per-step figures from synthetic records: windows, throughput, errors, percentiles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.capacity.result import Slo
from harness.capacity.steps import Requests, Window, measure, windows_of
from harness.run.step_log import StepLog, StepSpan

S = 1_000_000_000
T0 = 1_800_000_000 * S
SLO = Slo(p95_s=0.1, max_error_rate=0.01)


def frame(rows: list[tuple[int, float, str]], **columns: object) -> pd.DataFrame:
    """Records of the load: (completion ns, latency ms, outcome) each; ``columns`` override."""
    data: dict[str, object] = {
        "kind": "chat",
        "phase": "hammer",
        "recv_wall_ns": [row[0] for row in rows],
        "clock_offset_ns": 0,
        "latency_ms": [row[1] for row in rows],
        "outcome": [row[2] for row in rows],
    }
    data.update(columns)
    return pd.DataFrame(data, index=range(len(rows)))


def nearest_rank(values: list[float], q: float) -> float:
    """The reference: the smallest value at or below which at least q of the values lie."""
    ordered = sorted(values)
    return next(v for v in ordered if sum(x <= v for x in ordered) >= q * len(ordered))


def test_windows_leave_out_each_steps_settling_quarter_and_any_step_without_an_end() -> None:
    log = StepLog(
        step_duration_ns=4 * S,
        planned_users=[2, 4, 6],
        steps=[
            StepSpan(index=0, users=2, start_ns=T0, end_ns=T0 + 4 * S),
            StepSpan(index=1, users=4, start_ns=T0 + 4 * S, end_ns=T0 + 9 * S),
            StepSpan(index=2, users=6, start_ns=T0 + 9 * S),  # killed mid-step
        ],
    )
    assert windows_of(log) == [
        Window(0, 2.0, T0 + 1 * S, T0 + 4 * S),
        Window(1, 4.0, T0 + 4 * S + 1_250_000_000, T0 + 9 * S),
    ]
    assert windows_of(log, settle_fraction=0)[0].start_ns == T0


def test_a_request_counts_in_the_window_its_answer_completed_in_with_its_clock_offset() -> None:
    windows = [Window(0, 1.0, T0, T0 + S), Window(1, 2.0, T0 + S, T0 + 3 * S)]
    records = frame(
        [
            (T0 - 1, 10.0, "ok"),  # before the first window
            (T0, 10.0, "ok"),  # window 0 is [start, end)
            (T0 + S - 1, 20.0, "ok"),
            (T0 + S - 5, 30.0, "ok"),  # offset +5 moves it to window 1's start
            (T0 + 2 * S, 40.0, "server_error"),
            (T0 + 3 * S, 50.0, "ok"),  # at the end: outside
        ],
        clock_offset_ns=[0, 0, 0, 5, 0, 0],
    )
    first, second = measure(Requests.of(records), windows, SLO)
    assert (first.requests, first.errors, first.throughput_rps) == (2, 0, 2.0)
    assert (second.requests, second.errors) == (2, 1)
    assert second.throughput_rps == pytest.approx(0.5)  # one success in two seconds
    assert second.error_rate == 0.5
    assert (second.p50_s, second.p95_s) == (0.03, 0.03)  # from the successful answer only


def test_set_up_requests_and_probes_are_not_load() -> None:
    records = pd.concat(
        [
            frame([(T0 + 1, 10.0, "ok")]),
            frame([(T0 + 2, 999.0, "client_error")], phase="access:garbled-token"),
            frame([(T0 + 3, 999.0, "ok")], kind="create_chatbot", phase="setup"),
        ],
        ignore_index=True,
    )
    (step,) = measure(Requests.of(records), [Window(0, 1.0, T0, T0 + S)], SLO)
    assert (step.requests, step.errors, step.p99_s) == (1, 0, 0.01)


def test_a_step_is_within_the_slo_only_with_its_p95_and_its_error_rate_within() -> None:
    fast = [(T0 + i, 50.0, "ok") for i in range(100)]
    windows = [Window(0, 1.0, T0, T0 + S)]

    def within(rows: list[tuple[int, float, str]]) -> bool:
        (step,) = measure(Requests.of(frame(rows)), windows, SLO)
        return step.within_slo

    assert within(fast)
    assert within([*fast[:99], (T0 + 99, 50.0, "timeout")])  # 1 % errors: at the maximum
    assert not within([*fast[:98], (T0 + 98, 5.0, "server_error"), (T0 + 99, 5.0, "reset")])
    slow = [(T0 + i, 150.0 if i < 6 else 50.0, "ok") for i in range(100)]
    assert not within(slow)  # 6 % above 0.1 s: the p95 is 0.15 s
    assert within([(T0, 50.0, "ok"), *slow[1:]])  # 5 % above: the p95 is 0.05 s
    assert not within([])  # nothing measured is not within


def test_a_step_with_no_successful_answer_has_no_percentiles() -> None:
    rows = [(T0 + i, 1.0, "server_error") for i in range(10)]
    (step,) = measure(Requests.of(frame(rows)), [Window(0, 1.0, T0, T0 + S)], SLO)
    assert (step.p50_s, step.p95_s, step.p99_s, step.throughput_rps) == (None, None, None, 0.0)
    assert step.error_rate == 1.0


@settings(max_examples=60, deadline=None)
@given(
    latencies=st.lists(
        st.floats(min_value=0.01, max_value=5000, allow_nan=False), min_size=1, max_size=300
    ),
    failed=st.lists(st.booleans(), min_size=300, max_size=300),
)
def test_percentiles_are_nearest_rank_over_every_successful_request(
    latencies: list[float], failed: list[bool]
) -> None:
    outcomes = ["server_error" if fail else "ok" for fail in failed[: len(latencies)]]
    pairs = list(zip(latencies, outcomes, strict=True))
    rows = [(T0 + i, value, outcome) for i, (value, outcome) in enumerate(pairs)]
    # Shuffle the completion order against the latencies: nothing may depend on it.
    order = np.random.default_rng(len(rows)).permutation(len(rows))
    records = frame([rows[i] for i in order])
    (step,) = measure(Requests.of(records), [Window(0, 1.0, T0, T0 + 10 * S)], SLO)
    good = [value / 1e3 for value, outcome in pairs if outcome == "ok"]
    assert step.requests == len(rows)
    assert step.errors == len(rows) - len(good)
    assert step.throughput_rps == pytest.approx(len(good) / 10)
    for q, got in ((0.5, step.p50_s), (0.95, step.p95_s), (0.99, step.p99_s)):
        if good:
            assert got is not None
            assert math.isclose(got, nearest_rank(good, q))
        else:
            assert got is None
