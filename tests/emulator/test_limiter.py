"""Each limiter family, with a fake clock, at and around its window boundaries.

The reference checks restate each family's definition as plainly as possible and are compared with
the implementation on random arrival sequences.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.emulator.limiter import (
    Algorithm,
    FixedWindow,
    LimiterTable,
    Rule,
    SlidingLog,
    TableFullError,
    TokenBucket,
    new_state,
)

S = 1_000_000_000
T0 = 28_333_333 * 60 * S  # a Unix instant that is a multiple of 60 s
RULE = Rule(limit=5, duration_ns=60 * S)


def offer(state: SlidingLog | FixedWindow | TokenBucket, now: int) -> int:
    """Offer one request: record it if admissible; return the wait (0 = admitted)."""
    wait = state.wait(now)
    if wait == 0:
        state.record(now)
    return wait


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_a_fresh_key_admits_exactly_limit_back_to_back(algorithm: Algorithm) -> None:
    state = new_state(algorithm, RULE)
    start = T0 + 1 * S  # not on a fixed-window boundary's last instant
    waits = [offer(state, start + i) for i in range(RULE.limit + 3)]
    assert waits[: RULE.limit] == [0] * RULE.limit
    assert all(wait > 0 for wait in waits[RULE.limit :])


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_a_retry_after_the_reported_wait_is_admitted_and_not_a_nanosecond_before(
    algorithm: Algorithm,
) -> None:
    state = new_state(algorithm, RULE)
    start = T0 + 7 * S
    for i in range(RULE.limit):
        offer(state, start + i * S)
    throttled_at = start + 4 * S + 1
    wait = state.wait(throttled_at)
    assert wait > 0
    assert state.wait(throttled_at + wait - 1) > 0
    assert state.wait(throttled_at + wait) == 0


def test_sliding_log_wait_is_the_time_until_the_oldest_admission_expires() -> None:
    state = SlidingLog(RULE)
    for i in range(5):
        offer(state, T0 + i * 10 * S)  # admissions at 0, 10, 20, 30, 40 s
    assert state.wait(T0 + 45 * S) == 15 * S
    # An entry counts for [t, t + D): at exactly t + D it no longer does.
    assert state.wait(T0 + 60 * S) == 0
    state.record(T0 + 60 * S)
    assert state.wait(T0 + 61 * S) == 9 * S  # now the entry of 10 s is the oldest that counts


def test_fixed_window_is_aligned_to_the_epoch_and_passes_two_limits_across_a_boundary() -> None:
    state = FixedWindow(RULE)
    boundary = T0 + 60 * S
    before = [offer(state, boundary - 5 + i) for i in range(5)]
    assert before == [0] * 5
    assert state.wait(boundary - 1) == 1  # exactly until the boundary
    after = [offer(state, boundary + i) for i in range(5)]
    assert after == [0] * 5  # 10 admitted within 10 ns: legitimate for a fixed window
    assert state.wait(boundary + 30 * S) == 30 * S


def test_token_bucket_refills_one_message_every_duration_over_limit() -> None:
    state = TokenBucket(RULE)
    for i in range(5):
        offer(state, T0 + i)
    interval = RULE.duration_ns // RULE.limit  # 12 s
    # Refill starts with the first admission: the first token is back at T0 + 12 s.
    assert state.wait(T0 + 5) == interval - 5
    assert offer(state, T0 + interval) == 0
    assert state.wait(T0 + interval) == interval


def test_token_bucket_never_rounds_a_wait_down() -> None:
    rule = Rule(limit=3, duration_ns=10 * S + 1)  # emission interval of 3.333…34 s
    state = TokenBucket(rule)
    for _ in range(3):
        offer(state, T0)
    wait = state.wait(T0)
    assert wait == -(-rule.duration_ns // 3)
    assert state.wait(T0 + wait) == 0


def _reference_sliding_log(times: list[int], rule: Rule) -> list[bool]:
    admitted: list[int] = []
    decisions = []
    for now in times:
        in_window = [t for t in admitted if now - rule.duration_ns < t <= now]
        ok = len(in_window) < rule.limit
        if ok:
            admitted.append(now)
        decisions.append(ok)
    return decisions


def _reference_fixed_window(times: list[int], rule: Rule) -> list[bool]:
    counts: dict[int, int] = {}
    decisions = []
    for now in times:
        window = now // rule.duration_ns
        ok = counts.get(window, 0) < rule.limit
        if ok:
            counts[window] = counts.get(window, 0) + 1
        decisions.append(ok)
    return decisions


def _reference_token_bucket(times: list[int], rule: Rule) -> list[bool]:
    # Tokens as exact fractions: capacity L, refill L per D.
    from fractions import Fraction

    tokens = Fraction(rule.limit)
    last = times[0] if times else 0
    decisions = []
    for now in times:
        tokens = min(
            Fraction(rule.limit), tokens + Fraction(now - last) * rule.limit / rule.duration_ns
        )
        last = now
        ok = tokens >= 1
        if ok:
            tokens -= 1
        decisions.append(ok)
    return decisions


REFERENCES = {
    Algorithm.SLIDING_LOG: _reference_sliding_log,
    Algorithm.FIXED_WINDOW: _reference_fixed_window,
    Algorithm.TOKEN_BUCKET: _reference_token_bucket,
}


@settings(max_examples=150, deadline=None)
@given(
    algorithm=st.sampled_from(list(Algorithm)),
    limit=st.integers(1, 6),
    duration=st.integers(1, 50),
    gaps=st.lists(st.integers(0, 30), min_size=1, max_size=60),
)
def test_each_family_matches_its_plain_definition(
    algorithm: Algorithm, limit: int, duration: int, gaps: list[int]
) -> None:
    rule = Rule(limit, duration * S // 10)
    times = []
    now = T0
    for gap in gaps:
        now += gap * S // 40
        times.append(now)
    state = new_state(algorithm, rule)
    decisions = [offer(state, t) == 0 for t in times]
    assert decisions == REFERENCES[algorithm](times, rule)


def test_the_table_forgets_idle_keys_and_refuses_to_grow_past_its_bound() -> None:
    table = LimiterTable(Algorithm.SLIDING_LOG, max_keys=3)
    for name in "abc":
        table.state(("bot", name), RULE, T0).record(T0)
    with pytest.raises(TableFullError):
        table.state(("bot", "d"), RULE, T0 + S)  # all three still hold an admission
    table.state(("bot", "d"), RULE, T0 + 61 * S)  # now they are idle and swept
    assert len(table) == 1


def test_forgetting_a_chatbot_drops_only_its_keys() -> None:
    table = LimiterTable(Algorithm.FIXED_WINDOW)
    table.state(("one", "a"), RULE, T0).record(T0)
    table.state(("two", "a"), RULE, T0).record(T0)
    table.forget_chatbot("one")
    assert len(table) == 1
    assert table.state(("two", "a"), RULE, T0).wait(T0) == 0
