"""Checks 10 and 11: the settings read back as created; credentials are enforced."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from harness.api.answer import Answer, classify_answer, transport_answer, unread_answer
from harness.conformance import CheckContext, Outcome
from harness.conformance.probes import ACCESS_EXPECTED, access_finding, settings_roundtrip_finding
from harness.conformance.spec import CaseSpec, CheckInput
from harness.run.records import Record

MINUTE = 60_000_000_000
DEVICE = "RATE_LIMIT_VARY_BY_DEVICE_ID"

Build = Callable[..., Record]


def chatbot_answer(rate: dict[str, Any] | None, quota: dict[str, Any] | None) -> Answer:
    """A GET answer carrying these rate and quota limits, classified as a run classifies it."""
    chatbot: dict[str, Any] = {"id": "bot-case"}
    if rate is not None:
        chatbot["rate_limit"] = rate
    if quota is not None:
        chatbot["quota_limit"] = quota
    return classify_answer("get_chatbot", 200, json.dumps({"chatbot": chatbot}).encode())


def rate_limit(**changes: Any) -> dict[str, Any]:
    setting = {"limit": 5, "duration": "1m", "throttle_message": "slow down", "vary_by": DEVICE}
    setting.update(changes)
    return {"enabled": True, "setting": setting}


DAILY = {"enabled": True, "setting": {"limit": 100, "reset": "QUOTA_LIMIT_RESET_DAILY"}}


def roundtrip(
    make_record: Build,
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
    answer: Answer,
    quota: int | None = 100,
    vary_by: str = DEVICE,
) -> tuple[Outcome, str]:
    record = make_record(
        request_id="get-1", kind="get_chatbot", phase="roundtrip", case="case", answer=answer
    )
    case = make_case("case", 5, MINUTE, quota=quota, vary_by=vary_by)
    finding = settings_roundtrip_finding(CheckContext.of(make_input([record], [case])))
    return finding.outcome, finding.summary


@pytest.mark.parametrize("duration", ["1m", "1m0s", "60s", "60000ms"])
def test_a_duration_read_back_in_any_spelling_of_the_same_value_passes(
    duration: str,
    make_record: Build,
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    answer = chatbot_answer(rate_limit(duration=duration), DAILY)
    outcome, summary = roundtrip(make_record, make_case, make_input, answer)
    assert outcome is Outcome.PASS, summary


@pytest.mark.parametrize(
    ("answer", "complaint"),
    [
        (chatbot_answer(rate_limit(duration="2m"), DAILY), "duration '2m' instead of 1m0s"),
        (chatbot_answer(rate_limit(duration="soon"), DAILY), "duration 'soon' instead of 1m0s"),
        (chatbot_answer(rate_limit(limit=6), DAILY), "limit 6 instead of 5"),
        (chatbot_answer(rate_limit(throttle_message="hi"), DAILY), "throttle_message differs"),
        (
            chatbot_answer(rate_limit(vary_by="RATE_LIMIT_VARY_BY_IP"), DAILY),
            "vary_by 'RATE_LIMIT_VARY_BY_IP' instead of 'RATE_LIMIT_VARY_BY_DEVICE_ID'",
        ),
        (chatbot_answer({"enabled": False}, DAILY), "rate_limit is not enabled"),
        (chatbot_answer(rate_limit(), None), "quota_limit is not enabled"),
        (
            chatbot_answer(
                rate_limit(), {"enabled": True, "setting": {"limit": 100, "reset": "X"}}
            ),
            "quota reset 'X' instead of QUOTA_LIMIT_RESET_DAILY",
        ),
    ],
)
def test_a_setting_read_back_differently_fails(
    answer: Answer,
    complaint: str,
    make_record: Build,
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    outcome, summary = roundtrip(make_record, make_case, make_input, answer)
    assert outcome is Outcome.FAIL
    assert complaint in summary


def test_an_unset_vary_by_may_be_absent_or_unspecified(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    absent = rate_limit()
    del absent["setting"]["vary_by"]
    for setting in (absent, rate_limit(vary_by="RATE_LIMIT_VARY_BY_UNSPECIFIED")):
        answer = chatbot_answer(setting, DAILY)
        outcome, summary = roundtrip(make_record, make_case, make_input, answer, vary_by="")
        assert outcome is Outcome.PASS, summary


def test_a_quota_enabled_on_a_case_without_one_fails(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    answer = chatbot_answer(rate_limit(), DAILY)
    outcome, summary = roundtrip(make_record, make_case, make_input, answer, quota=None)
    assert outcome is Outcome.FAIL
    assert "quota_limit is enabled but was created disabled" in summary


def test_a_failed_read_back_fails_and_none_skips(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    missing = classify_answer("get_chatbot", 404, b'{"code":5,"message":"no","details":[]}')
    outcome, summary = roundtrip(make_record, make_case, make_input, missing)
    assert outcome is Outcome.FAIL
    assert "GET answered 404" in summary
    chat = make_record(request_id="c")
    finding = settings_roundtrip_finding(CheckContext.of(make_input([chat], [make_case("case")])))
    assert finding.outcome is Outcome.SKIPPED


# Access -------------------------------------------------------------------------------------


def refused(status: int) -> Answer:
    body = json.dumps({"code": 16 if status == 401 else 7, "message": "no", "details": []})
    return classify_answer("chat", status, body.encode())


def access(
    make_record: Build, make_input: Callable[..., CheckInput], statuses: dict[str, int], **kw: Any
) -> tuple[Outcome, str, tuple[str, ...]]:
    records = [
        make_record(request_id=probe, phase=probe, case="", answer=refused(status))
        for probe, status in statuses.items()
    ]
    finding = access_finding(CheckContext.of(make_input(records, [], **kw)))
    return finding.outcome, finding.summary, finding.evidence


def test_every_probe_refused_as_expected_passes(
    make_record: Build, make_input: Callable[..., CheckInput]
) -> None:
    statuses = {probe: expected[-1] for probe, expected in ACCESS_EXPECTED.items()}
    outcome, summary, _ = access(make_record, make_input, statuses)
    assert (outcome, summary) == (Outcome.PASS, "5 probes refused as expected")


def test_an_unknown_token_must_get_401(
    make_record: Build, make_input: Callable[..., CheckInput]
) -> None:
    statuses = {"access:unknown-token": 403, "access:no-key": 401}
    outcome, summary, evidence = access(make_record, make_input, statuses)
    assert outcome is Outcome.FAIL
    assert "access:unknown-token: HTTP 403, expected (401,)" in summary
    assert evidence == ("access:unknown-token",)
    outcome, _, _ = access(make_record, make_input, {"access:no-key": 200})
    assert outcome is Outcome.FAIL


def test_without_a_second_organisation_the_summary_says_so(
    make_record: Build, make_input: Callable[..., CheckInput]
) -> None:
    statuses = {"access:unknown-token": 401, "access:api-key-as-token": 403}
    outcome, summary, _ = access(make_record, make_input, statuses, second_org=False)
    assert outcome is Outcome.PASS
    assert "cross-organisation probes not run" in summary


def test_no_probe_skips_access(make_record: Build, make_input: Callable[..., CheckInput]) -> None:
    finding = access_finding(CheckContext.of(make_input([make_record(request_id="c")], [])))
    assert finding.outcome is Outcome.SKIPPED


def test_a_probe_without_an_answer_is_inconclusive_not_a_failure(
    make_record: Build, make_input: Callable[..., CheckInput]
) -> None:
    lost = transport_answer("connect", "ConnectionRefusedError")
    records = [
        make_record(request_id="a", phase="access:unknown-token", case="", answer=refused(401)),
        make_record(request_id="b", phase="access:no-key", case="", answer=lost),
    ]
    finding = access_finding(CheckContext.of(make_input(records, [])))
    assert finding.outcome is Outcome.INCONCLUSIVE
    assert "1 probes refused as expected" in finding.summary
    assert finding.summary.endswith("; 1 got no whole answer")
    only_lost = access_finding(CheckContext.of(make_input(records[1:], [])))
    assert (only_lost.outcome, only_lost.summary) == (
        Outcome.INCONCLUSIVE,
        "every probe: 1 got no whole answer",
    )


def test_a_wrong_answer_still_fails_next_to_a_missing_one(
    make_record: Build, make_input: Callable[..., CheckInput]
) -> None:
    lost = transport_answer("timeout", "timed out")
    records = [
        make_record(request_id="a", phase="access:unknown-token", case="", answer=refused(403)),
        make_record(request_id="b", phase="access:no-key", case="", answer=lost),
    ]
    finding = access_finding(CheckContext.of(make_input(records, [])))
    assert finding.outcome is Outcome.FAIL
    assert finding.evidence == ("a",)


def test_a_read_back_cut_short_is_inconclusive(
    make_record: Build, make_case: Callable[..., CaseSpec], make_input: Callable[..., CheckInput]
) -> None:
    cut = unread_answer(200, "truncated", "HTTPParseError: Incomplete response.", 12)
    outcome, summary = roundtrip(make_record, make_case, make_input, cut)
    assert (outcome, summary) == (Outcome.INCONCLUSIVE, "every probe: 1 got no whole answer")
