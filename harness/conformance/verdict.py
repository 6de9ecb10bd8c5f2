"""The verdict a release gates on: ``verdict.json`` and a JUnit XML file for CI."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from xml.etree import ElementTree as ET

from pydantic import BaseModel, ConfigDict

from harness.conformance.findings import Evidence, Finding, Outcome
from harness.run.interruption import Interruption
from harness.run.summary import RefusedChats

__all__ = [
    "EXIT_CODES",
    "CheckResult",
    "Status",
    "Verdict",
    "status_of",
    "write_junit",
    "write_verdict",
]

VERDICT_FILE = "verdict.json"
JUNIT_FILE = "junit.xml"


class CheckResult(BaseModel):
    """One check in ``verdict.json``: its id and title (from the registry) and what it found.

    ``evidence``: the request ids the proofs cite (what the table, JUnit and the report show
    first); ``proofs``: each violation as data (``Evidence``), the first the one the summary names.
    ``keys_with_power`` / ``keys_without_power``: of the keys of the cases meant for the check,
    those whose traffic could have shown a violation, and the others (None: every run has it).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    outcome: Outcome
    summary: str
    evidence: list[str]
    proofs: tuple[Evidence, ...] = ()
    keys_with_power: int | None = None
    keys_without_power: int | None = None
    # A failed check's place among the failures (``roots.py``): a root cause of its own, or
    # explained by the roots named (still failed, still counted); ``explanation`` says why in
    # words; ``assumed_family``: the limiter family its first proof held the target to.
    root: bool | None = None
    explained_by: list[str] = []
    explanation: str = ""
    assumed_family: str = ""
    # Figures the check measured besides its verdict (``Finding.measures``).
    measures: dict[str, object] = {}

    @classmethod
    def of(cls, check_id: str, title: str, finding: Finding) -> CheckResult:
        return cls(
            id=check_id,
            title=title,
            outcome=finding.outcome,
            summary=finding.summary,
            evidence=list(finding.evidence),
            proofs=finding.proofs,
            keys_with_power=finding.power.with_power if finding.power else None,
            keys_without_power=finding.power.without_power if finding.power else None,
            measures=finding.measures or {},
        )


class Status(StrEnum):
    CONFORMANT = "conformant"
    NOT_CONFORMANT = "not-conformant"
    INCONCLUSIVE = "inconclusive"


# The exit codes of ``run`` and ``check`` for each status (2: no verdict at all, or a damaged part).
EXIT_CODES = {Status.CONFORMANT: 0, Status.NOT_CONFORMANT: 1, Status.INCONCLUSIVE: 3}


class Verdict(BaseModel):
    """``status`` conformant: no check failed, the target answered every request whole, and the
    records judged are every record the run made.

    ``unanswered`` counts, by error class, the requests the target left without a whole answer
    (timeouts, resets, refused connections, cut or oversized bodies; not our own interruptions).
    With some and no failure the verdict is inconclusive: the checks judged only what came back.
    ``lost_processes``: workers lost mid-run, whose last requests went unrecorded; ``missing``:
    why records are not all here (a part missing, fewer rows than written, records lost on the
    way); ``damaged_parts``: part files that could not be read; ``slots_not_run``: slots of the
    scenario no user ran. With any of these a check may fail for want of a record it never saw,
    so the verdict is inconclusive even with failures (their findings still stand in ``checks``).
    """

    model_config = ConfigDict(frozen=True)

    status: Status
    conformant: bool
    run_id: str = ""
    harness_version: str = ""
    target: str
    algorithm: str
    algorithm_reason: str
    algorithm_parameters: dict[str, object] = {}
    checks: list[CheckResult]
    # The failed checks that name a bug of their own; every other failed check is explained by
    # them (its ``explained_by``). Empty when nothing failed.
    root_causes: list[str] = []
    unanswered: dict[str, int] = {}
    lost_processes: list[str] = []
    missing: list[str] = []
    damaged_parts: list[str] = []
    slots_not_run: list[str] = []
    # Open-model schedules, per case: sends that left late (> 5 ms), arrivals dropped unsent.
    late_sends: dict[str, int] = {}
    dropped_sends: dict[str, int] = {}
    # Load chats refused with another 4xx (training, malformed), per case, status, code, message.
    refused_chats: list[RefusedChats] = []
    # Stopped by SIGINT or SIGTERM: the signal, its instant, how far into the load it came. The
    # status is still what the records judged show (a failure stands, a pass needed power).
    interrupted: bool = False
    interruption: Interruption | None = None

    @property
    def failed(self) -> list[CheckResult]:
        return [check for check in self.checks if check.outcome is Outcome.FAIL]

    @property
    def state(self) -> str:
        """The status as the table prints it ("not conformant")."""
        return self.status.value.replace("-", " ")

    @property
    def headline(self) -> str:
        """The status as the summary line starts ("INCONCLUSIVE (interrupted by SIGINT at 8.1 s
        of 20 s)")."""
        state = self.state.upper()
        return f"{state} ({self.interruption.describe()})" if self.interruption else state

    @property
    def exit_code(self) -> int:
        return 2 if self.damaged_parts else EXIT_CODES[self.status]

    @property
    def incomplete(self) -> list[str]:
        """Every reason the records judged are not the whole run, one line each."""
        reasons = []
        if self.lost_processes:
            lost = ", ".join(self.lost_processes)
            reasons.append(f"worker {lost} lost mid-run")
        reasons += self.missing
        reasons += self.damaged_parts
        if self.slots_not_run:
            slots = ", ".join(self.slots_not_run[:10])
            reasons.append(f"{len(self.slots_not_run)} slots of the scenario never ran: {slots}")
        return reasons

    @property
    def unanswered_summary(self) -> str:
        """'9 requests got no whole answer (timeout 6, reset 3)', or '' if none."""
        if not self.unanswered:
            return ""
        parts = ", ".join(f"{name} {count}" for name, count in self.unanswered.items())
        return f"{sum(self.unanswered.values())} requests got no whole answer ({parts})"


def status_of(failed: bool, unanswered: bool, incomplete: bool, undecided: bool) -> Status:
    """Missing records make any verdict inconclusive; then a failure; then missing answers or a
    check that could not decide (its traffic could not have shown a violation): a pass only
    where every check could have failed."""
    if incomplete:
        return Status.INCONCLUSIVE
    if failed:
        return Status.NOT_CONFORMANT
    return Status.INCONCLUSIVE if unanswered or undecided else Status.CONFORMANT


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
        if check.keys_with_power is not None:
            properties = ET.SubElement(case, "properties")
            for name in ("keys_with_power", "keys_without_power"):
                ET.SubElement(properties, "property", name=name, value=str(getattr(check, name)))
        if check.outcome is Outcome.FAIL:
            message = (
                f"{check.explanation}; {check.summary}" if check.explanation else check.summary
            )
            failure = ET.SubElement(case, "failure", message=message)
            failure.text = "evidence: " + ", ".join(check.evidence)
            if check.assumed_family:
                failure.text += f"\nassumed family: {check.assumed_family}"
        elif check.outcome is not Outcome.PASS:
            ET.SubElement(case, "skipped", message=f"{check.outcome.value}: {check.summary}")
    if verdict.unanswered or verdict.incomplete:
        # Not a check: the run itself is incomplete, which JUnit calls an error.
        suite.set("tests", str(len(verdict.checks) + 1))
        suite.set("errors", "1")
        case = ET.SubElement(
            suite, "testcase", classname="conformance", name="answers: every request recorded whole"
        )
        problems = [verdict.unanswered_summary, *verdict.incomplete]
        ET.SubElement(case, "error", message="; ".join(text for text in problems if text))
    path = run_dir / JUNIT_FILE
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    return path
