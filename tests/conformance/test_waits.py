"""Wait honesty (check 6): a promised retry instant is kept, not beaten, and stays still.

Traces are played by the emulator's limiter states (with a fault where one is wanted); the
records carry the waits exactly as a real run's do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from harness.conformance import CheckContext, Finding, Outcome
from harness.conformance.spec import CaseSpec, CheckInput
from harness.conformance.waits import WaitProblem, wait_honesty_finding
from harness.emulator.policy import Policy
from harness.run.records import Record

D = 1_000_000_000
MS = 1_000_000
BASE = 1_000_000 * D

Judge = Callable[..., Finding]


def retried(records: list[Record], *positions: int) -> list[Record]:
    """The records, with those at ``positions`` sent as polite retries."""
    return [r.replace(phase="polite-retry") if n in positions else r for n, r in enumerate(records)]


def finding_of(
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
    records: Sequence[Record],
    limit: int,
    duration: int = D,
) -> Finding:
    data = make_input(records, [make_case("case", limit, duration)])
    return wait_honesty_finding(CheckContext.of(data))


def sent(*offsets: float) -> list[tuple[int, int, int]]:
    return [(BASE + round(x * D), MS, MS) for x in offsets]


def test_no_throttle_leaves_wait_honesty_inconclusive(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    records = simulator("sliding-log", 2, D).records(sent(0.0, 0.1))
    finding = finding_of(make_case, make_input, records, 2)
    assert (finding.outcome, finding.summary) == (Outcome.INCONCLUSIVE, "no throttle to judge")


def test_kept_promises_pass_only_once_a_client_retried_after_a_wait(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # The throttle at 0.2 D promises D; the retry at 1.01 D is admitted.
    records = simulator("sliding-log", 2, D).records(sent(0.0, 0.1, 0.2, 1.01))
    unproven = finding_of(make_case, make_input, records, 2)
    assert unproven.outcome is Outcome.INCONCLUSIVE
    assert "no client retried" in unproven.summary
    proven = finding_of(make_case, make_input, retried(records, 3), 2)
    assert proven.outcome is Outcome.PASS
    assert proven.summary.startswith("1 throttled keys, 1 retries")


def test_the_remedy_for_no_retry_names_what_is_missing(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # Throttled at 0.2 D with a wait of 0.8 D, and the run over before it ended.
    records = simulator("sliding-log", 2, D).records(sent(0.0, 0.1, 0.2))
    hammer = finding_of(make_case, make_input, records, 2)
    remedy, _measures = hammer.summary.split("; ", 1)  # the waits' accuracy follows the remedy
    assert remedy.endswith("(add a polite case)")
    polite = make_case("case", 2, D, behaviour="polite")
    finding = wait_honesty_finding(CheckContext.of(make_input(records, [polite])))
    assert finding.outcome is Outcome.INCONCLUSIVE
    assert "add a polite case" not in finding.summary
    assert (
        "the polite case 'case' was throttled, but each wait it was given (up to 0.8 s) ended "
        "after the run did; run for several windows (1s each)"
    ) in finding.summary


def test_an_admission_before_the_promised_instant_fails(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # A doubled wait promises 1.8 D; the log admits again at D.
    target = simulator("sliding-log", 2, D, policy=Policy(wait_factor=2.0))
    records = target.records(sent(0.0, 0.1, 0.2, 1.05))
    finding = finding_of(make_case, make_input, records, 2)
    assert finding.outcome is Outcome.FAIL
    assert "admitted before the retry instant an earlier throttle promised" in finding.summary
    assert finding.evidence == ("case/dev-1-2", "case/dev-1-3")


def test_a_retry_after_the_wait_throttled_again_fails(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # A halved wait promises 0.6 D; the retry at 0.65 D is throttled (the log frees at D).
    target = simulator("sliding-log", 2, D, policy=Policy(wait_factor=0.5))
    records = retried(target.records(sent(0.0, 0.1, 0.2, 0.65)), 3)
    finding = finding_of(make_case, make_input, records, 2)
    assert finding.outcome is Outcome.FAIL
    assert "a retry sent after the reported wait (0.400000s) had passed" in finding.summary
    assert finding.evidence[:2] == ("case/dev-1-2", "case/dev-1-3")


def test_a_promise_that_moves_with_nothing_admitted_fails(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # Throttles counted as admissions: the promise moves from D (at 0.5 D) to 1.1 D (at 0.6 D).
    target = simulator("sliding-log", 2, D, count_throttled=True)
    finding = finding_of(make_case, make_input, target.records(sent(0.0, 0.1, 0.5, 0.6)), 2)
    assert finding.outcome is Outcome.FAIL
    assert "the promised retry instant moved" in finding.summary
    correct = simulator("sliding-log", 2, D).records(sent(0.0, 0.1, 0.5, 0.6))
    assert finding_of(make_case, make_input, correct, 2).outcome is not Outcome.FAIL


def test_a_slow_throttle_holding_another_and_an_admission_is_no_moved_promise(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    """Regression: a correct sliding log (1 per 100 ms) used to fail wait honesty.

    Admitted at 0; throttled at 85 ms (promise 100 ms, seen in [80, 90]); admitted at 125 ms;
    throttled at 160 ms (promise 225 ms, seen in [70, 170] by a slow client). By start the slow
    throttle comes first, and the admission, which starts after the other throttle's end, was not
    counted as possibly between the two decisions: the promises "moved" with nothing between.
    """
    duration = 100 * MS
    requests = [(0, 0, 0), (85 * MS, 5 * MS, 5 * MS), (125 * MS, 5 * MS, 5 * MS)]
    requests.append((160 * MS, 90 * MS, 10 * MS))
    records = simulator("sliding-log", 1, duration).records(
        [(BASE + tau, before, after) for tau, before, after in requests]
    )
    assert [r.answer.outcome for r in records] == ["ok", "throttled", "ok", "throttled"]
    finding = finding_of(make_case, make_input, records, 1, duration)
    assert finding.outcome is not Outcome.FAIL, finding.summary


def test_each_broken_promise_carries_its_kind_as_data(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    """The kinds replace the summary's parsed-back prefixes: one per way a wait can lie."""
    too_long = simulator("sliding-log", 2, D, policy=Policy(wait_factor=2.0))
    too_short = simulator("sliding-log", 2, D, policy=Policy(wait_factor=0.5))
    counted = simulator("sliding-log", 2, D, count_throttled=True)
    traces = {
        WaitProblem.TOO_LONG: too_long.records(sent(0.0, 0.1, 0.2, 1.05)),
        WaitProblem.TOO_SHORT: retried(too_short.records(sent(0.0, 0.1, 0.2, 0.65)), 3),
        WaitProblem.MOVED: counted.records(sent(0.0, 0.1, 0.5, 0.6)),
    }
    for kind, records in traces.items():
        finding = finding_of(make_case, make_input, records, 2)
        first = finding.proofs[0]
        assert first.kind == kind, finding.summary
        assert (first.case, first.key) == ("case", "dev-1")
        assert first.request_ids == finding.evidence[:2]
        assert first.request_ids[0] == "case/dev-1-2"
    long_wait = finding_of(make_case, make_input, traces[WaitProblem.TOO_LONG], 2).proofs[0]
    assert long_wait.expected.startswith("no admission until the reported wait (")
    assert long_wait.observed == "admitted before"
