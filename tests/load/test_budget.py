"""Run budgets: fair shares that never exceed the total, and a pacer that never exceeds its rate."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.load.budget import (
    NS,
    Pacer,
    SlotAllowance,
    SlotShare,
    fair_split,
    fair_split_int,
    polite_ceiling,
    slot_request_ceiling,
    split_budget,
)
from harness.load.estimate import estimate_cases
from harness.load.keys import plan_keys
from harness.load.scenario import parse_scenario
from harness.load.schedule import Slot, build_slots

NEEDS = st.lists(st.floats(0, 1e6, allow_nan=False) | st.just(math.inf), min_size=1, max_size=30)


@settings(max_examples=300)
@given(total=st.floats(0, 1e6, allow_nan=False), needs=NEEDS)
def test_fair_shares_never_exceed_the_total_or_a_need(total: float, needs: list[float]) -> None:
    shares = fair_split(total, needs)
    assert sum(shares) <= total * (1 + 1e-9)
    assert all(0 <= share <= need for share, need in zip(shares, needs, strict=True))
    # Max-min fair: whoever got less than its need got at least as much as anyone else.
    short = [share for share, need in zip(shares, needs, strict=True) if share < need]
    if short:
        assert min(short) >= max(shares) * (1 - 1e-9)
        # Nothing is wasted while someone is short (up to rounding, also of subnormal totals).
        assert sum(shares) >= total * (1 - 1e-9) - 1e-300


@settings(max_examples=300)
@given(total=st.integers(0, 10_000), needs=st.lists(st.integers(0, 2_000), min_size=1, max_size=30))
def test_whole_request_shares_use_the_total_or_every_need(total: int, needs: list[int]) -> None:
    shares = fair_split_int(total, needs)
    assert all(0 <= share <= need for share, need in zip(shares, needs, strict=True))
    assert sum(shares) == min(total, sum(needs))


@settings(max_examples=300)
@given(
    rps=st.floats(0.5, 5_000),
    capacity=st.integers(1, 20),
    calls=st.lists(st.tuples(st.integers(0, 50_000_000), st.integers(1, 20)), max_size=60),
)
def test_the_pacer_never_lets_more_than_capacity_plus_rate_times_window(
    rps: float, capacity: int, calls: list[tuple[int, int]]
) -> None:
    pacer = Pacer(rps, capacity)
    now, sent = 0, []
    for advance, tokens in calls:
        now += advance
        due = pacer.reserve(now, tokens)
        assert due >= now
        sent.append((due, min(tokens, capacity)))
    sent.sort()
    # Brute force over every window [due_i, due_j]: at most capacity + rate·window tokens.
    for i in range(len(sent)):
        tokens = 0
        for j in range(i, len(sent)):
            tokens += sent[j][1]
            window_s = (sent[j][0] - sent[i][0]) / NS
            assert tokens <= capacity + rps * window_s + 1e-6


def test_an_allowance_grants_its_share_and_then_nothing() -> None:
    allowance = SlotAllowance(SlotShare(requests=3, rps=None, capacity=1))
    assert [allowance.take(0)[0] for _ in range(5)] == [1, 1, 1, 0, 0]
    burst = SlotAllowance(SlotShare(requests=7, rps=None, capacity=5))
    assert [burst.take(0, 5)[0] for _ in range(3)] == [5, 2, 0]


def slots_of(document: dict[str, Any]) -> list[Slot]:
    scenario = parse_scenario(document)
    return build_slots(scenario, plan_keys(scenario, "run", target_host="127.0.0.1"))


SCENARIO: dict[str, Any] = {
    "duration": "10s",
    "cases": [
        {
            "name": "hammer",
            "behaviour": {"kind": "hammer"},
            "population": {"keys": 3, "users_per_key": 2},
            "rate_limit": {"limit": 5, "duration": "2s", "vary_by": "device"},
        },
        {
            "name": "paced",
            "behaviour": {"kind": "paced", "rate": 2.0},
            "population": {"keys": 2},
            "rate_limit": {"limit": 100, "duration": "1s"},
            "quota": {"limit": 15},
        },
        {
            "name": "burst",
            "behaviour": {"kind": "burst", "size": 10, "repeat": 50, "interval": "3s"},
        },
    ],
}


def test_schedule_ceilings_count_paced_turns_and_the_bursts_that_start_in_time() -> None:
    by_case = {slot.case.name: slot_request_ceiling(slot) for slot in slots_of(SCENARIO)}
    assert by_case["paced"] == 21  # 2/s for 10 s, turns at 0, 0.5, ..., 10 s at most
    assert by_case["burst"] == 40  # bursts at 0, 3, 6 and 9 s of the 10 s; not 50
    assert by_case["hammer"] == 1_000_000  # max_requests_per_key


def test_split_budget_keeps_every_total_and_bursts_their_size() -> None:
    slots = slots_of(SCENARIO)
    shares = split_budget(slots, 100, 30.0)
    assert sum(share.requests for share in shares) == 100
    assert sum(share.rps or 0 for share in shares) <= 30.0 + 1e-9
    assert [share.capacity for share in shares] == [1, 1, 1, 1, 1, 10]
    # The paced slots need 2/s each, the burst 10/3 s: they get that; the hammers share the rest.
    assert [share.rps for share in shares][3:] == [2.0, 2.0, 10 / 3]
    unbounded = split_budget(slots, None, None)
    assert [share.rps for share in unbounded] == [None] * 6
    assert [share.requests for share in unbounded] == [slot_request_ceiling(s) for s in slots]


def test_the_estimate_bounds_requests_by_the_budget_and_admissions_by_limits_and_quota() -> None:
    slots = slots_of(SCENARIO)
    free = {e.case: e for e in estimate_cases(slots, split_budget(slots, None, None), 30.0)}
    assert free["hammer"].max_requests == 3_000_000
    # 3 device keys, 5 per 2 s, over 10 s + 30 s of request timeout: 3·5·(20 + 1).
    assert free["hammer"].max_admitted == 315
    assert free["paced"].max_requests == 42
    assert free["paced"].max_admitted == 15  # the daily quota
    assert free["paced"].may_exhaust_quota
    assert free["burst"].max_admitted == free["burst"].max_requests == 40  # no limits
    capped = estimate_cases(slots, split_budget(slots, None, 6.0), 30.0)
    # At most capacity + rate·duration per slot: the whole run stays within 6/s·10 s + 15.
    assert sum(e.max_requests for e in capped) <= 6 * 10 + 5 + 10
    # Only the hammer's ceiling is nothing but max_requests_per_key (the plan marks it so)...
    assert [free[name].capped for name in ("hammer", "paced", "burst")] == [True, False, False]
    # ... until a budget holds it back.
    budgeted = estimate_cases(slots, split_budget(slots, 1_000, None), 30.0)
    assert not any(e.capped for e in budgeted)


def _polite_sends(
    family: str, limit: int, window: int, clients: int, time: int, lags: list[int]
) -> int:
    """Polite clients against a correct limiter, played decision by decision: each sends at once
    after an admission and after the promised wait after a throttle; client c's request reaches
    the server ``lags[c]`` after it is sent and its answer comes back as long after. Returns the
    requests sent before ``time``."""
    admitted: list[int] = []
    lag = [lags[client % len(lags)] for client in range(clients)]
    due = [(lag[client], client) for client in range(clients)]  # (decision instant, client)
    sent = 0
    while due:
        due.sort()
        tau, client = due.pop(0)
        if tau - lag[client] >= time:
            continue
        sent += 1
        if family == "sliding-log":
            recent = [t for t in admitted if t > tau - window]
            wait = None if len(recent) < limit else min(recent) + window - tau
        else:  # aligned fixed windows
            start = tau - tau % window
            wait = None if sum(start <= t for t in admitted) < limit else start + window - tau
        if wait is None:
            admitted.append(tau)
        due.append((tau + 2 * lag[client] + (wait or 0), client))
    return sent


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(["sliding-log", "fixed-window"]),
    st.integers(1, 6),
    st.integers(1, 6),
    st.integers(1, 5),
    st.lists(st.integers(1, 300), min_size=1, max_size=8),
)
def test_polite_clients_of_a_correct_limiter_stay_under_the_ceiling_their_waits_give(
    family: str, limit: int, clients: int, windows: int, lags: list[int]
) -> None:
    window = 1_000
    rate = (
        parse_scenario(
            {
                "name": "s",
                "cases": [
                    {
                        "name": "p",
                        "behaviour": {"kind": "polite"},
                        "rate_limit": {"limit": limit, "duration": "1s"},
                    }
                ],
            }
        )
        .cases[0]
        .rate_limit
    )
    assert rate is not None
    time = windows * window + 1
    sent = _polite_sends(family, limit, window, clients, time, lags)
    # The same bound in the simulation's units (a window of 1 000): scale the run to seconds.
    assert sent <= polite_ceiling(rate, time * 1_000_000, clients)


def test_a_polite_cases_ceiling_in_the_plan_comes_from_its_waits_not_a_default() -> None:
    slots = slots_of(
        {
            "name": "s",
            "duration": "40s",
            "cases": [
                {
                    "name": "p",
                    "behaviour": {"kind": "polite"},
                    "population": {"keys": 3, "users_per_key": 5},
                    "rate_limit": {"limit": 4, "duration": "10s", "vary_by": "device"},
                }
            ],
        }
    )
    # A = 4 × (40/10 + 1) = 20 admitted per key at most; 20 + 2·5·21 = 230 requests.
    assert [slot_request_ceiling(slot) for slot in slots] == [230, 230, 230]
    (estimate,) = estimate_cases(slots, split_budget(slots, None, None), 5.0)
    assert estimate.max_requests == 690
