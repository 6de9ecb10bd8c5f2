"""The verdict a release gates on: ``verdict.json`` and a JUnit XML file for CI."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from pydantic import BaseModel, ConfigDict

from harness.conformance.findings import Finding, Outcome

__all__ = ["EXIT_CODES", "CheckResult", "Verdict", "write_junit", "write_verdict"]

VERDICT_FILE = "verdict.json"
JUNIT_FILE = "junit.xml"


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    outcome: Outcome
    summary: str
    evidence: list[str]
    details: dict[str, object] = {}

    @classmethod
    def of(cls, finding: Finding) -> CheckResult:
        return cls(
            id=finding.id,
            title=finding.title,
            outcome=finding.outcome,
            summary=finding.summary,
            evidence=list(finding.evidence),
            details=finding.details,
        )


# The exit codes of ``run`` and ``check`` for each state of a verdict (2: no verdict at all).
EXIT_CODES = {"conformant": 0, "not conformant": 1, "inconclusive": 3}


class Verdict(BaseModel):
    """``conformant``: no check failed *and* the target answered every request whole.

    ``unanswered`` counts, by error class, the requests the target left without a whole answer
    (timeouts, resets, refused connections, cut or oversized bodies; not our own interruptions).
    With some and no failure the verdict is inconclusive: the checks judged only what came back.
    ``lost_processes``: workers lost mid-run, whose last requests went unrecorded; a check may
    then fail for want of a missing record, so the verdict is inconclusive even with failures.
    """

    model_config = ConfigDict(frozen=True)

    conformant: bool
    target: str
    algorithm: str
    algorithm_reason: str
    algorithm_parameters: dict[str, object] = {}
    checks: list[CheckResult]
    unanswered: dict[str, int] = {}
    lost_processes: list[str] = []

    @property
    def failed(self) -> list[CheckResult]:
        return [check for check in self.checks if check.outcome is Outcome.FAIL]

    @property
    def state(self) -> str:
        if self.lost_processes:
            return "inconclusive"
        if self.failed:
            return "not conformant"
        return "inconclusive" if self.unanswered else "conformant"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.state]

    @property
    def unanswered_summary(self) -> str:
        """'9 requests got no whole answer (timeout 6, reset 3)', or '' if none."""
        if not self.unanswered:
            return ""
        parts = ", ".join(f"{name} {count}" for name, count in self.unanswered.items())
        return f"{sum(self.unanswered.values())} requests got no whole answer ({parts})"


def write_verdict(run_dir: Path, verdict: Verdict) -> Path:
    path = run_dir / VERDICT_FILE
    path.write_text(verdict.model_dump_json(indent=2), encoding="utf-8")
    return path


def write_junit(run_dir: Path, verdict: Verdict) -> Path:
    """One test case per check: failures fail, inconclusive and skipped checks are skipped."""
    suite = ET.Element(
        "testsuite",
        name="aisk-harness conformance",
        tests=str(len(verdict.checks)),
        failures=str(len(verdict.failed)),
        skipped=str(
            sum(c.outcome in (Outcome.SKIPPED, Outcome.INCONCLUSIVE) for c in verdict.checks)
        ),
    )
    for check in verdict.checks:
        case = ET.SubElement(
            suite, "testcase", classname="conformance", name=f"{check.id}: {check.title}"
        )
        if check.outcome is Outcome.FAIL:
            failure = ET.SubElement(case, "failure", message=check.summary)
            failure.text = "evidence: " + ", ".join(check.evidence)
        elif check.outcome is not Outcome.PASS:
            ET.SubElement(case, "skipped", message=f"{check.outcome.value}: {check.summary}")
    if verdict.unanswered or verdict.lost_processes:
        # Not a check: the run itself is incomplete, which JUnit calls an error.
        suite.set("tests", str(len(verdict.checks) + 1))
        suite.set("errors", "1")
        case = ET.SubElement(
            suite, "testcase", classname="conformance", name="answers: every request recorded whole"
        )
        lost = ", ".join(verdict.lost_processes)
        problems = [verdict.unanswered_summary, f"worker {lost} lost mid-run" if lost else ""]
        ET.SubElement(case, "error", message="; ".join(text for text in problems if text))
    path = run_dir / JUNIT_FILE
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    return path
