"""Check 9: the daily quota per chatbot per day of the organisation's zone (Asia/Taipei, +08:00).

Refusals are the emulator's own answers (``out_of_quota``), classified as a run classifies them.
A request's server instant is only known within [send - ε, recv + ε] on the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from harness.api.answer import Answer, classify_answer
from harness.conformance import CheckContext, Evidence, Outcome
from harness.conformance.quota import QuotaProblem, quota_finding
from harness.conformance.spec import CaseSpec, CheckInput, Tolerance
from harness.emulator.answers import out_of_quota, throttled
from harness.emulator.policy import CORRECT
from harness.emulator.quota import QuotaExhausted
from harness.run.records import Record

TAIPEI = ZoneInfo("Asia/Taipei")
S = 1_000_000_000
EPSILON = 2 * S  # the default bound on the target's wall clock error
QUOTA = 3

Build = Callable[..., Record]


def local(hour: int, minute: int = 0, second: int = 0, day: int = 5) -> int:
    """Epoch ns of 2024-01-<day> hh:mm:ss in Taipei."""
    moment = datetime(2024, 1, day, hour, minute, second, tzinfo=TAIPEI)
    return int(moment.timestamp()) * S


NEXT_MIDNIGHT = datetime(2024, 1, 6, tzinfo=TAIPEI)  # 2024-01-05T16:00:00Z


def refusal(now_ns: int, reset_at: datetime = NEXT_MIDNIGHT) -> Answer:
    reset_in = int(reset_at.timestamp()) * S - now_ns
    answer = out_of_quota(QuotaExhausted(limit=QUOTA, reset_at=reset_at, reset_in_ns=reset_in))
    return classify_answer("chat", answer.status, answer.body)


def request(
    make_record: Build, n: int, sent: int, answer: Answer | None = None, took: int = S // 10
) -> Record:
    changes: dict[str, object] = {"request_id": f"q{n}", "case": "q", "chatbot_id": "bot-q"}
    if answer is not None:
        changes["answer"] = answer
    record = make_record(**changes)
    return record.replace(send_wall_ns=sent, recv_wall_ns=sent + took)


def judge(
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
    records: list[Record],
) -> tuple[Outcome, str, tuple[str, ...]]:
    case = make_case("q", 50, S, quota=QUOTA)
    finding = quota_finding(CheckContext.of(make_input(records, [case], zone="Asia/Taipei")))
    return finding.outcome, finding.summary, finding.evidence


def test_a_refusal_after_the_quota_with_the_next_local_midnight_passes(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    records = [request(make_record, n, local(10, n)) for n in range(QUOTA)]
    records.append(request(make_record, 3, local(10, 3), refusal(local(10, 3) + S // 20)))
    assert records[-1].answer.m_reset_at == "2024-01-06T00:00:00+08:00"
    outcome, summary, _ = judge(make_case, make_input, records)
    assert outcome is Outcome.PASS, summary


def test_reset_at_written_in_utc_fails(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    records = [request(make_record, n, local(10, n)) for n in range(QUOTA)]
    in_utc = NEXT_MIDNIGHT.astimezone(UTC)  # the same instant, written 2024-01-05T16:00:00Z
    records.append(request(make_record, 3, local(10, 3), refusal(local(10, 3), in_utc)))
    assert records[-1].answer.m_reset_at == "2024-01-05T16:00:00Z"
    outcome, summary, evidence = judge(make_case, make_input, records)
    assert outcome is Outcome.FAIL
    assert "reset_at is not the next local midnight, with the zone's offset" in summary
    assert evidence == ("q3",)


def test_a_reset_at_utc_midnight_fails(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    records = [request(make_record, n, local(10, n)) for n in range(QUOTA)]
    utc_midnight = datetime(2024, 1, 6, tzinfo=UTC).astimezone(TAIPEI)  # 08:00 local
    records.append(request(make_record, 3, local(10, 3), refusal(local(10, 3), utc_midnight)))
    outcome, summary, _ = judge(make_case, make_input, records)
    assert outcome is Outcome.FAIL
    assert "reset_at is not the next local midnight" in summary


def test_one_more_than_the_quota_surely_inside_one_local_day_fails(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    # From 00:00:03 to 23:59:57 local: each one surely on 2024-01-05, even with ε = 2 s.
    times = [local(0, 0, 3), local(8), local(16), local(23, 59, 57) - S // 10]
    records = [request(make_record, n, t) for n, t in enumerate(times)]
    outcome, summary, evidence = judge(make_case, make_input, records)
    assert outcome is Outcome.FAIL
    assert "4 admitted on 2024-01-05 (quota 3)" in summary
    assert evidence == ("q0", "q1", "q2", "q3")


def test_an_admission_that_may_fall_on_either_side_of_midnight_is_not_counted(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    # The last one is sent at 23:59:58.5 and answered 0.1 s later: with the clock error it may
    # have been decided on 2024-01-06.
    times = [local(8), local(12), local(16), local(23, 59, 58) + S // 2]
    records = [request(make_record, n, t) for n, t in enumerate(times)]
    outcome, summary, _ = judge(make_case, make_input, records)
    assert outcome is Outcome.INCONCLUSIVE, summary
    # With a perfect server clock it surely fell on 2024-01-05.
    case = make_case("q", 50, S, quota=QUOTA)
    exact = make_input(records, [case], tolerance=Tolerance(server_clock_ns=0))
    assert quota_finding(CheckContext.of(exact)).outcome is Outcome.FAIL


def test_a_refusal_before_the_quota_could_be_used_fails(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    sent = throttled(
        policy=CORRECT, limit=50, duration_ns=S, throttle_message="m", vary_by="", true_wait_ns=S
    )
    throttle = classify_answer("chat", sent.status, sent.body)
    assert throttle.outcome == "throttled"
    records = [
        request(make_record, 0, local(10)),
        request(make_record, 1, local(10, 1)),
        request(make_record, 2, local(10, 2), throttle),  # a throttle uses no quota
        request(make_record, 3, local(10, 3), refusal(local(10, 3))),
    ]
    outcome, summary, evidence = judge(make_case, make_input, records)
    assert outcome is Outcome.FAIL
    assert "refused for quota on 2024-01-05 after only 2 requests" in summary
    assert evidence == ("q3",)


def test_yesterdays_admissions_do_not_use_todays_quota(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    yesterday = [request(make_record, n, local(20, n, day=4)) for n in range(QUOTA)]
    today = request(make_record, 9, local(10), refusal(local(10)))
    outcome, summary, _ = judge(make_case, make_input, [*yesterday, today])
    assert outcome is Outcome.FAIL
    assert "after only 0 requests" in summary


def test_a_refusal_straddling_midnight_may_name_either_midnight(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    admitted = [request(make_record, n, local(10, n)) for n in range(QUOTA)]
    sent = local(23, 59, 59)
    for reset_at in (NEXT_MIDNIGHT, datetime(2024, 1, 7, tzinfo=TAIPEI)):
        # Decided at 23:59:59.9 by the server's clock, which may be 2 s off either way.
        records = [*admitted, request(make_record, 3, sent, refusal(sent + 9 * S // 10, reset_at))]
        outcome, summary, _ = judge(make_case, make_input, records)
        assert outcome is Outcome.PASS, summary
    late = datetime(2024, 1, 8, tzinfo=TAIPEI)
    records = [*admitted, request(make_record, 3, sent, refusal(sent, late))]
    assert "reset_at is not the next local midnight" in judge(make_case, make_input, records)[1]


def test_no_quota_case_is_skipped_and_an_unreached_quota_is_inconclusive(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    records = [request(make_record, 0, local(10))]
    no_quota = quota_finding(CheckContext.of(make_input(records, [make_case("q", 50, S)])))
    assert no_quota.outcome is Outcome.SKIPPED
    outcome, summary, _ = judge(make_case, make_input, records)
    assert outcome is Outcome.INCONCLUSIVE
    assert "never reached" in summary


def reset_at_proofs(
    make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput], records: list[Record]
) -> list[Evidence]:
    case = make_case("q", 50, S, quota=QUOTA)
    finding = quota_finding(CheckContext.of(make_input(records, [case], zone="Asia/Taipei")))
    return [proof for proof in finding.proofs if proof.kind == QuotaProblem.RESET_AT]


def test_a_reset_at_failure_shows_the_midnight_expected_and_the_reset_at_sent(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    records = [request(make_record, n, local(10, n)) for n in range(QUOTA)]
    in_utc = NEXT_MIDNIGHT.astimezone(UTC)
    records += [
        request(make_record, n, local(10, n), refusal(local(10, n), in_utc)) for n in (3, 4)
    ]
    (proof,) = reset_at_proofs(make_case, make_input, records)
    assert proof == Evidence(
        "reset-at", "q", "", ("q3", "q4"), "2024-01-06T00:00:00+08:00", "2024-01-05T16:00:00Z"
    )
    assert proof.contrast() == (
        "expected: 2024-01-06T00:00:00+08:00; observed: 2024-01-05T16:00:00Z"
    )


def test_a_refusal_that_may_fall_on_two_days_expects_either_midnight(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    admitted = [request(make_record, n, local(10, n)) for n in range(QUOTA)]
    sent = local(23, 59, 59)
    late = datetime(2024, 1, 8, tzinfo=TAIPEI)
    records = [*admitted, request(make_record, 3, sent, refusal(sent, late))]
    (proof,) = reset_at_proofs(make_case, make_input, records)
    assert proof.expected == "2024-01-06T00:00:00+08:00 or 2024-01-07T00:00:00+08:00"
    assert proof.observed == "2024-01-08T00:00:00+08:00"
    assert proof.request_ids == ("q3",)


def test_a_correct_reset_at_carries_no_reset_at_evidence(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    # Refused after only 2 admissions (a failure), but with the right reset_at.
    records = [request(make_record, n, local(10, n)) for n in range(2)]
    records.append(request(make_record, 2, local(10, 2), refusal(local(10, 2))))
    case = make_case("q", 50, S, quota=QUOTA)
    finding = quota_finding(CheckContext.of(make_input(records, [case], zone="Asia/Taipei")))
    assert [proof.kind for proof in finding.proofs] == [QuotaProblem.EARLY_REFUSAL]
