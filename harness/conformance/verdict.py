"""The verdict a release gates on: ``verdict.json`` and a JUnit XML file for CI."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from pydantic import BaseModel, ConfigDict

from harness.conformance.findings import Finding, Outcome

__all__ = ["CheckResult", "Verdict", "write_junit", "write_verdict"]

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


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    conformant: bool
    target: str
    algorithm: str
    algorithm_reason: str
    algorithm_parameters: dict[str, object] = {}
    checks: list[CheckResult]

    @property
    def failed(self) -> list[CheckResult]:
        return [check for check in self.checks if check.outcome is Outcome.FAIL]


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
    path = run_dir / JUNIT_FILE
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    return path
