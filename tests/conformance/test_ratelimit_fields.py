"""The IETF RateLimit fields check: each draft's syntax read, and each broken promise failed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from harness.api.answer import Answer, Outcome
from harness.conformance.checks import PROFILE_CHECKS, evaluate
from harness.conformance.context import CheckContext
from harness.conformance.findings import Outcome as Verdict
from harness.conformance.ratelimit_fields import (
    Fields,
    FieldsProblem,
    parse_fields,
    ratelimit_fields_finding,
)
from harness.conformance.spec import CaseSpec, CheckInput
from harness.profiles.http.answers import http_answer
from harness.run.records import Record

MS = 1_000_000
MakeRecord = Callable[..., Record]
MakeInput = Callable[..., CheckInput]
MakeCase = Callable[..., CaseSpec]


@pytest.mark.parametrize(
    ("headers", "fields"),
    [
        (
            {"ratelimit": "limit=5, remaining=2, reset=3", "ratelimit-policy": "5;w=2"},
            Fields(remaining=2, reset_s=3, limit=5, quota=5, window_s=2, policies=((5, 2),)),
        ),
        (
            {"ratelimit": '"default"; r=0; t=4', "ratelimit-policy": '"default"; q=5; w=2; pk=:a:'},
            Fields(remaining=0, reset_s=4, quota=5, window_s=2, policies=((5, 2),)),
        ),
        (
            {"ratelimit-limit": "5", "ratelimit-remaining": "1", "ratelimit-reset": "2"},
            Fields(remaining=1, reset_s=2, limit=5),
        ),
        ({"content-type": "text/plain"}, None),
    ],
)
def test_each_draft_is_read(headers: dict[str, str], fields: Fields | None) -> None:
    assert parse_fields(headers) == fields


@pytest.mark.parametrize(
    "headers",
    [
        {"ratelimit": "limit=5, remaining=six, reset=3"},
        {"ratelimit": "limit=5, remaining=6, reset=3"},  # above the limit
        {"ratelimit": '"default";t=4'},  # no r
        {"ratelimit-policy": "five;w=2"},
        {"ratelimit-remaining": "-1"},
    ],
)
def test_a_malformed_field_is_named(headers: dict[str, str]) -> None:
    parsed = parse_fields(headers)
    assert parsed is not None
    assert parsed.error


def _answer(status: int, ratelimit: str, policy: str = "5;w=1") -> Answer:
    headers = {"ratelimit": ratelimit, "ratelimit-policy": policy}
    return http_answer(status, headers, 3, throttle_status=429, wait_from="none", recv_wall_ns=0)


def _judge(
    make_record: MakeRecord,
    make_input: MakeInput,
    make_case: MakeCase,
    answers: list[Answer],
) -> tuple[Verdict, str, tuple[str, ...]]:
    """One key's requests 10 ms apart, answered as given; the case is 5 per 1 s."""
    records = [
        make_record(
            request_id=f"local-{i}",
            send_mono_ns=10 * MS * i,
            recv_mono_ns=10 * MS * i + MS,
            answer=answer,
        )
        for i, answer in enumerate(answers)
    ]
    data = make_input(records, [make_case(limit=5)])
    finding = ratelimit_fields_finding(CheckContext.of(data))
    kinds = tuple(proof.kind for proof in finding.proofs)
    return finding.outcome, finding.summary, kinds


def test_fields_that_keep_their_promise_pass(
    make_record: MakeRecord, make_input: MakeInput, make_case: MakeCase
) -> None:
    answers = [_answer(200, f"limit=5, remaining={4 - i}, reset=1") for i in range(5)]
    answers.append(_answer(429, "limit=5, remaining=0, reset=1"))
    outcome, summary, _ = _judge(make_record, make_input, make_case, answers)
    assert outcome is Verdict.PASS, summary


@pytest.mark.parametrize(
    ("answers", "kind"),
    [
        # remaining=1, then three admitted well before its reset 2 s later
        (
            [_answer(200, "limit=5, remaining=1, reset=2")]
            + [_answer(200, "limit=5, remaining=0, reset=2")] * 3,
            FieldsProblem.OVER_REMAINING,
        ),
        ([_answer(429, "limit=5, remaining=3, reset=1")], FieldsProblem.THROTTLED_WITH_REMAINING),
        ([_answer(200, "limit=5, remaining=4, reset=1", "10;w=1")], FieldsProblem.POLICY),
        ([_answer(200, "limit=5, remaining=4, reset=1", "5;w=60")], FieldsProblem.POLICY),
        ([_answer(200, "limit=5; remaining=4")], FieldsProblem.MALFORMED),
    ],
)
def test_each_broken_promise_fails(
    make_record: MakeRecord,
    make_input: MakeInput,
    make_case: MakeCase,
    answers: list[Answer],
    kind: FieldsProblem,
) -> None:
    outcome, summary, kinds = _judge(make_record, make_input, make_case, answers)
    assert outcome is Verdict.FAIL, summary
    assert kinds[0] == kind


def test_remaining_is_not_held_past_a_reset_it_may_have_reached(
    make_record: MakeRecord, make_input: MakeInput, make_case: MakeCase
) -> None:
    # reset=1 (whole seconds): the true reset may be just after the answer, so admissions 10 ms
    # later are no evidence against remaining=0
    answers = [_answer(200, "limit=5, remaining=0, reset=1")] * 4
    outcome, summary, _ = _judge(make_record, make_input, make_case, answers)
    assert outcome is Verdict.PASS, summary


def test_only_an_http_run_lists_the_check(
    make_record: MakeRecord, make_input: MakeInput, make_case: MakeCase
) -> None:
    data = make_input([make_record()], [make_case(limit=5)])
    chatbot = evaluate(data, "http://x")
    assert "ratelimit-fields" not in [check.id for check in chatbot.checks]
    http = evaluate(replace(data, profile="http"), "http://x")
    assert [check.id for check in http.checks][-1] == PROFILE_CHECKS["http"][0].id
    assert http.checks[-1].outcome is Verdict.SKIPPED  # no m_other column: nothing to judge


def test_an_answer_keeps_its_fields_for_the_check() -> None:
    answer = _answer(429, "limit=5, remaining=0, reset=1")
    assert answer.outcome is Outcome.THROTTLED
    assert json.loads(answer.m_other)["ratelimit"] == "limit=5, remaining=0, reset=1"


def test_draft7_members_in_any_order_and_a_policy_among_several_are_read() -> None:
    # A structured dictionary's members may come in any order; a field may list several
    # policies (draft 7's own example), and the declared one need only be among them.
    assert parse_fields({"ratelimit": "remaining=0, limit=5, reset=3"}) == Fields(
        remaining=0, reset_s=3, limit=5
    )
    fields = parse_fields({"ratelimit-policy": "10;w=1, 50;w=60"})
    assert fields is not None
    assert fields.policies == ((10, 1), (50, 60))
    repeated = parse_fields({"ratelimit": "limit=5, limit=0, reset=3"})
    assert repeated is not None
    assert repeated.error
