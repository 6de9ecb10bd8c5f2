"""Soundness: a correct limiter of any family never fails a check, whatever the timing.

Each example plays the emulator's own limiter states (sliding log, aligned fixed window, token
bucket) on random request instants τ; the harness only sees [τ - before, τ + after] and the wait
rounded up to the microsecond, exactly as a real run records them. Traces mix bursts, concurrent
clients (overlapping intervals), pauses longer than the window, a key sent by two processes
with imperfectly measured clock offsets, and a server clock running up to ρ faster or slower.
Then three seeded faults are shown to be caught by the check designed for each, on traces built
to expose them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from unittest.mock import patch

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.conformance import Outcome, evaluate
from harness.conformance import checks as checks_module
from harness.conformance.spec import CaseSpec, CheckInput
from harness.emulator.policy import Policy

MS = 1_000_000
# The emulator's three, and anchored windows (a test-local state in conftest.py).
FAMILIES = ("sliding-log", "fixed-window", "token-bucket", "anchored-window")
UNIT = 1_000_000  # draws of a fraction u/UNIT


Trace = list[tuple[int, int, int]]


@st.composite
def timings(draw: st.DrawFn, duration: int, limit: int, start: int) -> Trace:
    """Request instants with their latency parts: bursts, trickles, pauses, overlaps."""
    scales = (0, duration // 1000, duration // (2 * limit), duration // limit, duration)
    cap = draw(st.sampled_from((0, duration // 500, duration // 50, duration // 4)))
    # Mostly the trace's usual latency; now and then a straggler as slow as a whole window,
    # whose interval then holds other requests' (the order of decisions is unknown).
    latency = st.one_of(st.integers(0, cap), st.integers(0, cap), st.integers(0, duration))
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from((*scales, -1)),  # -1: a pause longer than the window
                st.integers(0, UNIT),
                latency,
                latency,
            ),
            min_size=1,
            max_size=40,
        )
    )
    trace, tau = [], start
    for scale, fraction, before, after in steps:
        gap = duration + 2 * duration * fraction // UNIT if scale < 0 else scale * fraction // UNIT
        tau += gap
        trace.append((tau, before, after))
    return trace


@st.composite
def clocks(draw: st.DrawFn, duration: int, count: int) -> list[tuple[str, int, int, int]]:
    """Each request's sending process: two workers whose wall clocks are off the master's by
    ``shift``, which each measured as ``estimate`` within ``error`` (one key, two clocks)."""
    workers = []
    for name in ("w0", "w1"):
        shift = draw(st.integers(-duration, duration))
        error = draw(st.integers(0, duration // 20))
        estimate = shift + draw(st.integers(-error, error))
        workers.append((name, shift, estimate, error))
    picks = draw(st.lists(st.integers(0, 1), min_size=count, max_size=count))
    return [workers[pick] for pick in picks]


@st.composite
def runs(draw: st.DrawFn) -> dict[str, Any]:
    family = draw(st.sampled_from(FAMILIES))
    limit = draw(st.integers(1, 5))
    duration = draw(st.integers(20, 2000)) * MS
    start = 10**12 + draw(st.integers(0, 4 * duration))  # a random phase of aligned windows
    traces = [draw(timings(duration, limit, start)) for _ in range(3)]
    spread = draw(st.booleans())
    two_clocks = draw(clocks(duration, len(traces[1]))) if spread else None
    # The server's clock may run at another rate than ours, within the tolerance's ρ = 2·10⁻⁴.
    skew = draw(st.sampled_from((0.0, 2e-4, -2e-4)) | st.floats(-2e-4, 2e-4))
    return {
        "family": family,
        "skew": skew,
        "limit": limit,
        "duration": duration,
        "traces": traces,
        "clocks": two_clocks,
    }


def simulated_input(
    run: dict[str, Any],
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> CheckInput:
    """Two keys of a hammer case (the second maybe sent by two processes with their own clocks),
    a third as a fresh key's concurrent burst; the first and second again as a sequential burst
    and as a key seen from rotating addresses (each case is its own chatbot: fresh keys)."""
    limit, duration = run["limit"], run["duration"]
    target = simulator(run["family"], limit, duration, skew=run["skew"])
    first, second, third = run["traces"]
    records = [
        *target.records(first, case="hammer", key="dev-1"),
        *target.records(second, case="hammer", key="dev-2", clocks=run["clocks"]),
        *target.records(third, case="burst", key="dev-3", phase="burst"),
        *target.records(first, case="sequential", key="dev-4", phase="burst"),
        *target.records(second, case="rotated", key="dev-5"),
    ]
    cases = [
        make_case("hammer", limit, duration, keys=2),
        make_case("burst", limit, duration, behaviour="burst", concurrent=True),
        make_case("sequential", limit, duration, behaviour="burst"),
        make_case("rotated", limit, duration, rotate="ip"),
    ]
    return make_input(records, cases)


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(run=runs())
def test_no_check_fails_a_correct_limiter(
    run: dict[str, Any],
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    verdict = evaluate(simulated_input(run, simulator, make_case, make_input), "simulated")
    failed = {c.id: c.summary for c in verdict.checks if c.outcome is Outcome.FAIL}
    assert failed == {}, verdict.algorithm_reason


# Detection: each seeded fault, on a trace built to expose it, fails the check designed for it.

D = 1_000_000_000
BASE = 1_000_000 * D  # a boundary of aligned windows


def judged(
    target: Any,
    offsets: list[float],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> dict[str, Outcome]:
    """Every check's outcome on ``offsets`` (fractions of D), each seen within ±1 ms."""
    sent = [(BASE + round(x * D), MS, MS) for x in offsets]
    data = make_input(target.records(sent), [make_case("case", target.limit, D)])
    return {check.id: check.outcome for check in evaluate(data, "simulated").checks}


def test_a_sliding_log_admitting_one_extra_fails_over_admission(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # Three at once on a fresh key (limit 2); the later promises (D, then 1.1 D) are on no
    # lattice and each one window after an admission: only anchored windows (or a log) are left,
    # and no window can have begun before the three.
    offsets = [0.0, 0.1, 0.2, 0.3, 1.05, 1.06]
    faulty = judged(simulator("sliding-log", 2, D, real_limit=3), offsets, make_case, make_input)
    assert faulty["over-admission"] is Outcome.FAIL
    correct = judged(simulator("sliding-log", 2, D), offsets, make_case, make_input)
    assert Outcome.FAIL not in correct.values()


def test_a_sliding_log_counting_its_throttles_fails_wait_honesty(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # The throttle at 0.5 D promises D; counted, it moves the next promise to 1.1 D, and the
    # request at 1.2 D, long after the first promise, is throttled again.
    offsets = [0.0, 0.1, 0.5, 0.6, 1.2]
    faulty = simulator("sliding-log", 2, D, count_throttled=True)
    assert judged(faulty, offsets, make_case, make_input)["wait-honesty"] is Outcome.FAIL
    correct = judged(simulator("sliding-log", 2, D), offsets, make_case, make_input)
    assert Outcome.FAIL not in correct.values()


@pytest.mark.parametrize(
    ("family", "offsets"),
    [
        ("sliding-log", [0.0, 0.1, 0.2, 0.65]),  # promise 0.6 D instead of D
        ("fixed-window", [0.3, 0.31, 0.32, 0.7]),  # promise 0.66 D instead of the boundary
        ("token-bucket", [0.0, 0.01, 0.02, 0.3]),  # promise 0.26 D instead of 0.5 D
        ("anchored-window", [0.3, 0.31, 0.32, 0.85]),  # promise 0.81 D instead of 1.3 D
    ],
)
def test_a_halved_wait_fails_wait_honesty(
    family: str,
    offsets: list[float],
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # The last request comes after the reported wait and is throttled again.
    faulty = simulator(family, 2, D, policy=Policy(wait_factor=0.5))
    assert judged(faulty, offsets, make_case, make_input)["wait-honesty"] is Outcome.FAIL
    correct = judged(simulator(family, 2, D), offsets, make_case, make_input)
    assert Outcome.FAIL not in correct.values()


# Judged in threads: the checks are pure functions of one shared context, so judging them two at
# a time must give the verdict judging them one at a time gives, and leave the records as they were.


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=runs(), fault=st.sampled_from((None, "extra", "early-throttle")))
def test_checks_judged_in_threads_give_the_verdict_judged_one_at_a_time(
    run: dict[str, Any],
    fault: str | None,
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    data = simulated_input(run, simulator, make_case, make_input)
    if fault is not None:  # some checks fail too, with evidence to cite
        data = replace(data, records=_seeded(data.records, fault))
    before = pd.util.hash_pandas_object(data.records, index=True).to_numpy()
    with patch.object(checks_module, "JUDGES", 1):
        alone = evaluate(replace(data), "simulated")
    with patch.object(checks_module, "JUDGES", 2):
        together = evaluate(replace(data), "simulated")
    assert together == alone
    assert (pd.util.hash_pandas_object(data.records, index=True).to_numpy() == before).all()


def _seeded(records: pd.DataFrame, fault: str) -> pd.DataFrame:
    """``extra``: every throttle of the first key an admission (over-admission); ``early-throttle``:
    its first admission a throttle (under-admission, and a throttle's metadata missing)."""
    changed = records.copy()
    first_key = changed["key"] == changed["key"].iloc[0]
    if fault == "extra":
        changed.loc[first_key & (changed["outcome"] == "throttled"), "outcome"] = "ok"
    else:
        first_ok = changed.index[first_key & (changed["outcome"] == "ok")][:1]
        changed.loc[first_ok, "outcome"] = "throttled"
    return changed
