"""Checks whose outcome changed, the gates they make, and the limiter family's news."""

from __future__ import annotations

from collections.abc import Callable

from harness.compare.checks import check_changes, check_gates, family_change
from harness.conformance.findings import Outcome
from harness.conformance.verdict import Verdict

P, F, N = Outcome.PASS, Outcome.FAIL, Outcome.INCONCLUSIVE


def test_pass_to_fail_is_a_regression_listed_first(make_verdict: Callable[..., Verdict]) -> None:
    base = make_verdict({"well-formed": P, "over-admission": P, "wait-honesty": F})
    candidate = make_verdict({"well-formed": N, "over-admission": F, "wait-honesty": P})
    changes = check_changes(base, candidate)
    assert [c.id for c in changes] == ["over-admission", "well-formed", "wait-honesty"]
    gates = {g.subject: g.outcome for g in check_gates(changes, base, candidate)}
    assert gates == {
        "check well-formed": "no significant change",  # pass → inconclusive weighs nothing
        "check over-admission": "regression",
        "check wait-honesty": "improvement",
    }


def test_unchanged_checks_pass_their_gate(make_verdict: Callable[..., Verdict]) -> None:
    base = candidate = make_verdict()
    assert check_changes(base, candidate) == []
    assert {g.outcome for g in check_gates([], base, candidate)} == {"no significant change"}


def test_a_new_family_is_news_even_when_all_pass(make_verdict: Callable[..., Verdict]) -> None:
    change = family_change(make_verdict(algorithm="fixed-window"), make_verdict())
    assert change is not None
    assert (change.base, change.candidate, change.parameters) == ("fixed-window", "sliding-log", [])
    assert family_change(make_verdict(), make_verdict()) is None


def test_parameters_count_when_they_move_beyond_measurement(
    make_verdict: Callable[..., Verdict],
) -> None:
    def with_start(ms: float) -> Verdict:
        parameters = {"window_start_ms_after_epoch_multiple": {"c": ms}}
        return make_verdict(algorithm="fixed-window", parameters=parameters)

    assert family_change(with_start(0.2), with_start(1.1)) is None  # 0.9 ms: measurement
    moved = family_change(with_start(0.2), with_start(500.0))
    assert moved is not None
    assert moved.parameters == ["window_start_ms_after_epoch_multiple.c: 0.2 → 500.0"]
