"""``aisk-harness check``'s printed table: every check of the verdict, failures with their proof."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.check import print_verdict
from harness.conformance import Evidence, Outcome, Verdict
from harness.conformance.verdict import CheckResult, Status

RESET = Evidence(
    "reset-at", "q", "", ("local-7", "local-9"), "2024-01-06T00:00:00+08:00", "2024-01-05T16:00:00Z"
)


def verdict(*checks: CheckResult) -> Verdict:
    return Verdict(
        status=Status.NOT_CONFORMANT, conformant=False, target="t", algorithm="sliding-log",
        algorithm_reason="never more than limit", checks=list(checks),
    )  # fmt: skip


def test_a_failed_check_shows_its_evidence_and_what_its_first_violation_expected(
    capsys: pytest.CaptureFixture[str],
) -> None:
    checks = (
        CheckResult(id="burst", title="B", outcome=Outcome.PASS, summary="ok", evidence=[]),
        CheckResult(
            id="quota",
            title="Q",
            outcome=Outcome.FAIL,
            summary="case 'q': reset_at wrong",
            evidence=list(RESET.request_ids),
            proofs=(RESET,),
        ),
    )
    print_verdict(verdict(*checks), Path("run"))
    lines = capsys.readouterr().out.splitlines()
    failed = next(n for n, line in enumerate(lines) if line.startswith("  FAIL"))
    assert lines[failed].split() == ["FAIL", "quota", "case", "'q':", "reset_at", "wrong"]
    assert lines[failed + 1].strip() == "evidence: local-7, local-9"
    assert lines[failed + 2].strip() == (
        "expected: 2024-01-06T00:00:00+08:00; observed: 2024-01-05T16:00:00Z"
    )
    # The proof's line sits under the summary, as the evidence line does.
    assert lines[failed + 2].index("expected") == lines[failed].index("case")
    assert "NOT CONFORMANT: 1 of 2 checks failed" in lines


def test_a_passing_check_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    passed = CheckResult(id="quota", title="Q", outcome=Outcome.PASS, summary="ok", evidence=[])
    print_verdict(verdict(passed), Path("run"))
    out = capsys.readouterr().out
    assert "evidence:" not in out
    assert "expected:" not in out
