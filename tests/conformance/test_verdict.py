"""The verdict: every registered check runs once; verdict.json and junit.xml say the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from harness.api.answer import Answer, classify_answer, transport_answer, unread_answer
from harness.conformance import (
    CHECK_IDS,
    Evidence,
    Outcome,
    Verdict,
    evaluate,
    write_junit,
    write_verdict,
)
from harness.conformance.checks import unanswered
from harness.conformance.spec import CaseSpec, CheckInput
from harness.conformance.verdict import CheckResult, Status
from harness.run.plan import PlannedAway
from harness.run.records import Record

S = 1_000_000_000


def failing_input(
    make_record: Callable[..., Record],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> CheckInput:
    """Two admissions and a 5xx on a limit of 5 per second: one check fails, others pass."""
    server_error: Answer = classify_answer("chat", 500, b'{"code":13,"message":"x","details":[]}')
    records = [
        make_record(request_id="a", send_mono_ns=0, recv_mono_ns=S // 100),
        make_record(request_id="b", send_mono_ns=S // 10, recv_mono_ns=S // 10 + S // 100),
        make_record(request_id="c", send_mono_ns=S // 5, recv_mono_ns=S // 4, answer=server_error),
    ]
    return make_input(records, [make_case("case", 5, S)])


def test_every_registered_check_runs_once_in_order(
    make_record: Callable[..., Record],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    verdict = evaluate(failing_input(make_record, make_case, make_input), "emulator")
    assert tuple(check.id for check in verdict.checks) == CHECK_IDS
    assert [c.id for c in verdict.failed] == ["well-formed"]
    assert verdict.conformant is False
    assert verdict.target == "emulator"
    assert verdict.algorithm == "undetermined"


def test_verdict_json_reads_back_as_the_same_verdict(
    tmp_path: Path,
    make_record: Callable[..., Record],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    verdict = evaluate(failing_input(make_record, make_case, make_input), "emulator")
    path = write_verdict(tmp_path, verdict)
    assert path == tmp_path / "verdict.json"
    assert Verdict.model_validate_json(path.read_text(encoding="utf-8")) == verdict


def test_junit_has_one_testcase_per_check_and_marks_failures(
    tmp_path: Path,
    make_record: Callable[..., Record],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    verdict = evaluate(failing_input(make_record, make_case, make_input), "emulator")
    suite = ET.parse(write_junit(tmp_path, verdict)).getroot()
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert [c.get("name", "").split(":")[0] for c in cases] == list(CHECK_IDS)
    assert suite.get("tests") == str(len(CHECK_IDS))
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["well-formed: Answers are well-formed"]
    failure = failed[0].find("failure")
    assert failure is not None
    assert "5xx" in failure.get("message", "")
    assert failure.text == "evidence: c"
    assert suite.get("failures") == "1"
    not_passed = [c for c in verdict.checks if c.outcome in (Outcome.SKIPPED, Outcome.INCONCLUSIVE)]
    assert len([c for c in cases if c.find("skipped") is not None]) == len(not_passed)
    assert suite.get("skipped") == str(len(not_passed))


def test_junit_stays_well_formed_whatever_the_summaries_say(tmp_path: Path) -> None:
    odd = 'wait "1µs" < 2µs & > 0; \u6e2c\u8a66'
    checks = [
        CheckResult(id="a", title="A & B", outcome=Outcome.FAIL, summary=odd, evidence=["<r1>"]),
        CheckResult(id="b", title="B", outcome=Outcome.INCONCLUSIVE, summary=odd, evidence=[]),
        CheckResult(id="c", title="C", outcome=Outcome.PASS, summary=odd, evidence=[]),
    ]
    verdict = Verdict(
        status=Status.NOT_CONFORMANT,
        conformant=False,
        target="t",
        algorithm="x",
        algorithm_reason="y",
        checks=checks,
    )
    suite = ET.parse(write_junit(tmp_path, verdict)).getroot()
    first, second, third = suite.findall("testcase")
    failure = first.find("failure")
    assert failure is not None
    assert (failure.get("message"), failure.text) == (odd, "evidence: <r1>")
    skipped = second.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == f"inconclusive: {odd}"
    assert list(third) == []
    assert (tmp_path / "junit.xml").read_bytes().startswith(b"<?xml")


def test_requests_left_unanswered_make_a_clean_verdict_inconclusive(
    make_record: Callable[..., Record],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    records = [
        make_record(request_id="a"),
        make_record(request_id="t", answer=transport_answer("timeout", "timed out")),
        make_record(request_id="r", answer=transport_answer("reset", "reset")),
        make_record(request_id="u", answer=transport_answer("timeout", "timed out")),
        make_record(request_id="big", answer=unread_answer(200, "too_large", "too big", 9)),
        # Our own stop and judged bodies are not the target leaving a request unanswered.
        make_record(request_id="i", answer=transport_answer("interrupted", "stopped")),
        make_record(request_id="h", answer=classify_answer("chat", 200, b"<html>")),
    ]
    data = make_input(records, [make_case("case", 5, S)])
    assert unanswered(data.records) == {"timeout": 2, "reset": 1, "too_large": 1}
    verdict = evaluate(data, "t")
    assert [c.id for c in verdict.failed] == ["well-formed"]  # the HTML body
    assert (verdict.state, verdict.exit_code, verdict.conformant) == ("not conformant", 1, False)
    clean = evaluate(make_input(records[:5], [make_case("case", 5, S)]), "t")
    assert not clean.failed
    assert (clean.state, clean.exit_code, clean.conformant) == ("inconclusive", 3, False)
    assert clean.unanswered_summary == (
        "4 requests got no whole answer (timeout 2, reset 1, too_large 1)"
    )
    # Our own interruption leaves nothing unanswered: the verdict is the one without it (here
    # inconclusive only because one admitted chat could not have shown a violation: no power).
    answered = evaluate(make_input(records[:1] + records[5:6], [make_case("case", 5, S)]), "t")
    alone = evaluate(make_input(records[:1], [make_case("case", 5, S)]), "t")
    assert (answered.unanswered, answered.unanswered_summary, answered.incomplete) == ({}, "", [])
    assert answered.exit_code == alone.exit_code
    assert [c.outcome for c in answered.checks] == [c.outcome for c in alone.checks]


def test_junit_reports_an_incomplete_run_as_an_error(
    tmp_path: Path,
    make_record: Callable[..., Record],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    records = [
        make_record(request_id="a"),
        make_record(request_id="t", answer=transport_answer("timeout", "timed out")),
    ]
    verdict = evaluate(make_input(records, [make_case("case", 5, S)]), "t", ("w1",))
    suite = ET.parse(write_junit(tmp_path, verdict)).getroot()
    assert (suite.get("tests"), suite.get("errors")) == (str(len(CHECK_IDS) + 1), "1")
    last = suite.findall("testcase")[-1]
    error = last.find("error")
    assert error is not None
    assert error.get("message") == (
        "1 requests got no whole answer (timeout 1); worker w1 lost mid-run"
    )


def test_a_lost_worker_leaves_even_a_failure_inconclusive(
    make_record: Callable[..., Record],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    verdict = evaluate(failing_input(make_record, make_case, make_input), "t", ("w1",))
    assert verdict.failed
    assert (verdict.state, verdict.exit_code, verdict.conformant) == ("inconclusive", 3, False)
    assert verdict.lost_processes == ["w1"]


@pytest.fixture
def failed_verdict(
    make_record: Callable[..., Record],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> Verdict:
    return evaluate(failing_input(make_record, make_case, make_input), "emulator")


def test_typed_evidence_round_trips_through_verdict_json(
    tmp_path: Path, failed_verdict: Verdict
) -> None:
    (failed,) = failed_verdict.failed
    expected = Evidence("server-error", "case", "dev-1", ("c",), "no 5xx", "HTTP 500")
    assert failed.proofs == (expected,)
    assert failed.evidence == ["c"]
    path = write_verdict(tmp_path, failed_verdict)
    document = json.loads(path.read_text(encoding="utf-8"))
    (stored,) = [check for check in document["checks"] if check["id"] == "well-formed"]
    assert stored["evidence"] == ["c"]
    assert stored["proofs"] == [
        {"kind": "server-error", "case": "case", "key": "dev-1", "request_ids": ["c"],
         "expected": "no 5xx", "observed": "HTTP 500"},
    ]  # fmt: skip
    read_back = Verdict.model_validate_json(path.read_text(encoding="utf-8"))
    (again,) = read_back.failed
    assert again.proofs == (expected,)
    assert isinstance(again.proofs[0], Evidence)
    assert [check.proofs for check in read_back.checks if check.outcome is not Outcome.FAIL] == [
        ()
    ] * (len(CHECK_IDS) - 1)


def test_parts_planned_away_are_skipped_after_their_check_and_never_fail_the_verdict(
    tmp_path: Path,
    make_record: Callable[..., Record],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    records = [
        make_record(request_id="a", send_mono_ns=0, recv_mono_ns=S // 100),
        make_record(request_id="b", send_mono_ns=S // 10, recv_mono_ns=S // 10 + S // 100),
    ]
    away = PlannedAway(
        check="vary-isolation",
        case="ip-open",
        what="distinct IP keys keep their own budgets",
        reason="needs 2 source addresses, this host has 1",
    )
    data = make_input(records, [make_case("case", 5, S)])
    plain = evaluate(data, "emulator")
    verdict = evaluate(data, "emulator", planned_away=[away])
    ids = [check.id for check in verdict.checks]
    assert ids.index("vary-isolation/ip-open") == ids.index("vary-isolation") + 1
    skipped = verdict.checks[ids.index("vary-isolation/ip-open")]
    assert (skipped.outcome, skipped.summary, skipped.title) == (
        Outcome.SKIPPED,
        "needs 2 source addresses, this host has 1",
        "Vary isolation: distinct IP keys keep their own budgets",
    )
    # A skipped part changes no status: the verdict is what it is without it.
    assert verdict.status is plain.status
    suite = ET.parse(write_junit(tmp_path, verdict)).getroot()
    case = next(
        c for c in suite.findall("testcase") if c.get("name", "").startswith("vary-isolation/")
    )
    element = case.find("skipped")
    assert element is not None
    assert element.get("message") == "skipped: needs 2 source addresses, this host has 1"
