"""What else could explain a failed check's proofs (``causes.py``), through the whole verdict:
traces played by the emulator's limiter states with one bug each, where the bug's own check must
be the root and every other failed check explained by it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from harness.conformance import Outcome, evaluate, write_junit, write_verdict
from harness.conformance.roots import CAUSE_WORDS
from harness.conformance.spec import CaseSpec, CheckInput
from harness.conformance.verdict import CheckResult, Verdict
from harness.run.records import Record

D = 1_000_000_000
MS = 1_000_000
BASE = 1_000_000 * D


def sent(*offsets: float) -> list[tuple[int, int, int]]:
    return [(BASE + round(x * D), MS, MS) for x in offsets]


def as_key(records: Sequence[Record], key: str, positions: Sequence[int]) -> list[Record]:
    """The records at ``positions`` as another key's (one limiter state played them all)."""
    out = []
    for n, record in enumerate(records):
        if n in positions:
            rid = f"case/{key}-{n}"
            record = record.replace(key=key, device_id=key, request_id=rid)
        out.append(record)
    return out


def failed(verdict: Verdict) -> dict[str, CheckResult]:
    return {check.id: check for check in verdict.checks if check.outcome is Outcome.FAIL}


def test_a_shared_budget_is_the_root_of_another_keys_refusals(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # One sliding log of 2 per D for both keys: dev-2's first request is refused at 0.3 D.
    records = simulator("sliding-log", 2, D).records(sent(0.0, 0.1, 0.3, 0.4, 1.2, 1.3))
    records = as_key(records, "dev-2", [2, 3])
    verdict = evaluate(make_input(records, [make_case("case", 2, D, keys=2)]), "test")
    failures = failed(verdict)
    assert failures["vary-isolation"].root is True
    assert failures["vary-isolation"].explanation == "root cause"
    under = failures["under-admission"]
    assert (under.root, under.explained_by) == (False, ["vary-isolation"])
    assert under.explanation == "explained by vary-isolation: the keys shared one budget"
    assert under.assumed_family == "any family"
    assert verdict.root_causes == ["vary-isolation"]


def test_separate_budgets_blame_no_other_key(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # The same sends on two limiter states: nothing fails, nothing is attributed.
    one = simulator("sliding-log", 2, D).records(sent(0.0, 0.1, 1.2))
    two = simulator("sliding-log", 2, D).records(sent(0.3, 0.4), key="dev-2")
    verdict = evaluate(make_input([*one, *two], [make_case("case", 2, D, keys=2)]), "test")
    assert failed(verdict) == {}
    assert all(check.root is None and not check.explained_by for check in verdict.checks)


def test_a_window_longer_than_configured_is_the_root_of_its_long_waits(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # A log of 2 per 2 D on a key configured for 2 per D: refused at 1.2 D with nothing in D.
    target = simulator("sliding-log", 2, D, real_duration_ns=2 * D)
    records = target.records(sent(0.0, 0.1, 0.5, 1.2, 2.05, 2.15))
    verdict = evaluate(make_input(records, [make_case("case", 2, D)]), "test")
    failures = failed(verdict)
    assert failures["under-admission"].root is True
    metadata = failures["throttle-metadata"]
    assert metadata.explained_by == ["under-admission"]
    assert metadata.explanation == f"explained by under-admission: {CAUSE_WORDS['under-admission']}"
    assert failures["under-admission"].assumed_family == (
        "a sliding log, a fixed window or a token bucket"
    )


def test_refusals_counted_explain_the_refusals_with_budget_left(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # Throttles recorded as admissions: the promise moves (wait-honesty's own proof), and the
    # refusal at 1.15 D, with one admission in the D before it, is what the counted ones explain.
    target = simulator("sliding-log", 2, D, count_throttled=True)
    records = target.records(sent(0.0, 0.1, 0.5, 0.6, 1.15))
    verdict = evaluate(make_input(records, [make_case("case", 2, D)]), "test")
    failures = failed(verdict)
    assert failures["wait-honesty"].root is True
    assert failures["under-admission"].explained_by == ["wait-honesty"]


def test_junit_and_verdict_json_carry_the_root_and_the_explanation(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
    tmp_path: Path,
) -> None:
    records = simulator("sliding-log", 2, D).records(sent(0.0, 0.1, 0.3, 0.4, 1.2, 1.3))
    records = as_key(records, "dev-2", [2, 3])
    verdict = evaluate(make_input(records, [make_case("case", 2, D, keys=2)]), "test")
    suite = ET.parse(write_junit(tmp_path, verdict)).getroot()
    failures = {
        case.get("name", "").split(":")[0]: case.find("failure") for case in suite.iter("testcase")
    }
    under = failures["under-admission"]
    assert under is not None
    assert under.get("message", "").startswith(
        "explained by vary-isolation: the keys shared one budget; case 'case', key 'dev-2'"
    )
    assert (under.text or "").endswith("assumed family: any family")
    isolation = failures["vary-isolation"]
    assert isolation is not None
    assert isolation.get("message", "").startswith("root cause; ")
    saved = json.loads(write_verdict(tmp_path, verdict).read_text())
    by_id = {check["id"]: check for check in saved["checks"]}
    assert by_id["under-admission"]["explained_by"] == ["vary-isolation"]
    assert by_id["vary-isolation"]["root"] is True
    assert by_id["well-formed"]["root"] is None
    assert saved["root_causes"] == ["vary-isolation"]
