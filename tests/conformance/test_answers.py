"""Checks 1 and 2: every answer has the documented shape; throttles echo the configuration.

Answers are real bodies (the emulator's answer builder, or a hand-written body) classified by the
load package's classifier, so the records carry what a real run's records carry.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from harness.api.answer import Answer, classify_answer, unread_answer
from harness.api.status import DOMAIN, ERROR_INFO_TYPE, REASON_THROTTLING
from harness.conformance import CheckContext, Outcome
from harness.conformance.answers import (
    throttle_metadata_finding,
    well_formed_finding,
)
from harness.conformance.spec import CaseSpec, CheckInput
from harness.emulator.answers import throttled
from harness.emulator.policy import CORRECT, Policy
from harness.run.records import Record

MINUTE = 60_000_000_000
DEVICE = "RATE_LIMIT_VARY_BY_DEVICE_ID"

Build = Callable[..., Record]


def emulator_throttle(policy: Policy = CORRECT, wait_ns: int = 36_580_000_000) -> Answer:
    """The emulator's throttle for limit 5 per minute by device, classified."""
    answer = throttled(
        policy=policy, limit=5, duration_ns=MINUTE, throttle_message="slow down",
        vary_by=DEVICE, true_wait_ns=wait_ns,
    )  # fmt: skip
    return classify_answer("chat", answer.status, answer.body)


def throttle_with(**metadata: str) -> Answer:
    """A documented throttle body for limit 5 per minute, with some metadata replaced."""
    fields = {
        "duration": "1m0s", "limit": "5", "throttle_message": "slow down", "vary_by": DEVICE,
        "wait": "36.58s", "wait_sec": "36.580000",
    }  # fmt: skip
    fields.update(metadata)
    info = {"@type": ERROR_INFO_TYPE, "reason": REASON_THROTTLING, "domain": DOMAIN}
    body = {"code": 8, "message": "throttle", "details": [{**info, "metadata": fields}]}
    return classify_answer("chat", 429, json.dumps(body).encode())


def judge_metadata(
    make_record: Build,
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
    answers: list[Answer],
    vary_by: str = DEVICE,
) -> tuple[Outcome, str]:
    records = [make_record(request_id=f"r{n}", answer=answer) for n, answer in enumerate(answers)]
    case = make_case("case", 5, MINUTE, vary_by=vary_by)
    finding = throttle_metadata_finding(CheckContext.of(make_input(records, [case])))
    return finding.outcome, finding.summary


# well-formed --------------------------------------------------------------------------------


def test_documented_answers_are_well_formed(
    make_record: Build, make_input: Callable[..., CheckInput], transport: Answer
) -> None:
    records = [
        make_record(request_id="ok"),
        make_record(request_id="t", answer=emulator_throttle()),
        make_record(request_id="x", answer=transport),
    ]
    finding = well_formed_finding(CheckContext.of(make_input(records, [])))
    assert finding.outcome is Outcome.PASS
    assert finding.summary == "2 answers match the contract; 1 requests got no answer"


def test_a_5xx_answer_fails_even_when_it_says_throttle(
    make_record: Build, make_input: Callable[..., CheckInput]
) -> None:
    answer = emulator_throttle(Policy(throttle_http_status=503, throttle_grpc_code=14))
    finding = well_formed_finding(
        CheckContext.of(make_input([make_record(request_id="s", answer=answer)], []))
    )
    assert finding.outcome is Outcome.FAIL
    assert "1 answers were 5xx" in finding.summary
    assert finding.evidence == ("s",)


def test_a_429_without_code_8_fails(
    make_record: Build, make_input: Callable[..., CheckInput]
) -> None:
    answer = emulator_throttle(Policy(throttle_grpc_code=14))
    assert answer.outcome == "throttled"
    finding = well_formed_finding(
        CheckContext.of(make_input([make_record(request_id="c", answer=answer)], []))
    )
    assert finding.outcome is Outcome.FAIL
    assert "429s without code 8" in finding.summary


def test_a_429_with_an_undocumented_reason_fails(
    make_record: Build, make_input: Callable[..., CheckInput]
) -> None:
    info = {"@type": ERROR_INFO_TYPE, "reason": "SOMETHING_ELSE", "domain": DOMAIN}
    body = json.dumps({"code": 8, "message": "no", "details": [info]}).encode()
    record = make_record(request_id="u", answer=classify_answer("chat", 429, body))
    finding = well_formed_finding(CheckContext.of(make_input([record], [])))
    assert finding.outcome is Outcome.FAIL
    assert "429s without a documented reason" in finding.summary


def test_only_transport_errors_are_inconclusive(
    make_record: Build, make_input: Callable[..., CheckInput], transport: Answer
) -> None:
    records = [make_record(request_id=f"x{n}", answer=transport) for n in range(3)]
    finding = well_formed_finding(CheckContext.of(make_input(records, [])))
    assert (finding.outcome, finding.summary) == (Outcome.INCONCLUSIVE, "no request got an answer")


# throttle-metadata --------------------------------------------------------------------------


def test_the_emulators_throttles_echo_the_configuration(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    answers = [emulator_throttle(wait_ns=w) for w in (1, 999, 1_500, 36_580_000_000, MINUTE)]
    outcome, summary = judge_metadata(make_record, make_case, make_input, answers)
    assert outcome is Outcome.PASS, summary


def test_a_protojson_duration_for_one_minute_fails(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    answer = emulator_throttle(Policy(duration_as_seconds=True))
    assert answer.m_duration == "60s"
    outcome, summary = judge_metadata(make_record, make_case, make_input, [answer])
    assert outcome is Outcome.FAIL
    assert "duration is not '1m0s'" in summary


def test_wait_sec_in_milliseconds_fails(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    answer = emulator_throttle(Policy(wait_sec_millis=True))
    assert answer.m_wait_sec == "36580.000"
    outcome, summary = judge_metadata(make_record, make_case, make_input, [answer])
    assert outcome is Outcome.FAIL
    assert "wait_sec is not wait in six-decimal seconds" in summary


def test_wait_sec_rounded_by_go_to_six_decimals_passes(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    # 59.9999999s is 60.000000 in %f: within half a microsecond, as Go prints it.
    answer = throttle_with(wait="59.9999999s", wait_sec="60.000000")
    outcome, summary = judge_metadata(make_record, make_case, make_input, [answer])
    assert outcome is Outcome.PASS, summary


def test_an_unset_vary_by_may_be_empty_or_unspecified_but_nothing_else(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    for sent in ("", "RATE_LIMIT_VARY_BY_UNSPECIFIED"):
        answers = [throttle_with(vary_by=sent)]
        outcome, summary = judge_metadata(make_record, make_case, make_input, answers, "")
        assert outcome is Outcome.PASS, summary
    answers = [throttle_with(vary_by="RATE_LIMIT_VARY_BY_IP")]
    outcome, summary = judge_metadata(make_record, make_case, make_input, answers, "")
    assert outcome is Outcome.FAIL
    assert "vary_by is not 'unset'" in summary
    # A configured vary must be echoed exactly.
    answers = [throttle_with(vary_by="")]
    outcome, _ = judge_metadata(make_record, make_case, make_input, answers, DEVICE)
    assert outcome is Outcome.FAIL


def test_wrong_limit_message_or_wait_fail(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    cases = {
        "limit is not '5'": throttle_with(limit="05"),
        "throttle_message is not the configured one": throttle_with(throttle_message="busy"),
        "wait is not a canonical Go duration": throttle_with(wait="36.580s"),
        "wait is not in (0, 1m0s]": throttle_with(wait="1m5s", wait_sec="65.000000"),
    }
    for expected, answer in cases.items():
        outcome, summary = judge_metadata(make_record, make_case, make_input, [answer])
        assert outcome is Outcome.FAIL, expected
        assert expected in summary


def test_no_throttle_skips_and_a_throttle_without_a_limit_fails(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    records = [make_record(request_id="ok")]
    case = make_case("case", 5, MINUTE)
    # A rate-limited case never throttled could not have shown its metadata wrong: no pass.
    never = throttle_metadata_finding(CheckContext.of(make_input(records, [case])))
    assert never.outcome is Outcome.INCONCLUSIVE
    assert "case 'case' was never throttled" in never.summary
    # Without a rate-limited case there is nothing to judge.
    unlimited = CaseSpec("case", "bot-case", None, None, "hammer", False, "none", 1)
    alone = throttle_metadata_finding(CheckContext.of(make_input(records, [unlimited])))
    assert alone.outcome is Outcome.SKIPPED
    throttle = [make_record(request_id="t", answer=emulator_throttle())]
    finding = throttle_metadata_finding(CheckContext.of(make_input(throttle, [unlimited])))
    assert finding.outcome is Outcome.FAIL
    assert "throttled although the case has no rate limit" in finding.summary


def test_a_body_not_read_whole_is_not_judged_but_counted(
    make_record: Build, make_input: Callable[..., CheckInput]
) -> None:
    records = [
        make_record(request_id="ok"),
        make_record(request_id="big", answer=unread_answer(429, "too_large", "too big", 1 << 20)),
        make_record(request_id="cut", answer=unread_answer(200, "truncated", "cut", 12)),
    ]
    finding = well_formed_finding(CheckContext.of(make_input(records, [])))
    assert finding.outcome is Outcome.PASS
    assert (
        finding.summary
        == "1 answers match the contract; 2 bodies not read whole (truncated or too large)"
    )


def test_an_unread_5xx_still_fails(
    make_record: Build, make_input: Callable[..., CheckInput]
) -> None:
    record = make_record(request_id="big", answer=unread_answer(500, "too_large", "too big", 9))
    finding = well_formed_finding(CheckContext.of(make_input([record], [])))
    assert finding.outcome is Outcome.FAIL
    assert finding.evidence == ("big",)


def test_no_throttle_among_unanswered_requests_is_inconclusive(
    make_record: Build,
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
    transport: Answer,
) -> None:
    records = [make_record(request_id="a"), make_record(request_id="b", answer=transport)]
    finding = throttle_metadata_finding(CheckContext.of(make_input(records, [make_case("case")])))
    assert (finding.outcome, finding.summary) == (
        Outcome.INCONCLUSIVE,
        "no throttle seen, and 1 chat requests got no answer",
    )
