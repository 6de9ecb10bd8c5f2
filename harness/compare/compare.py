"""Two runs in, one ``Comparison`` out: the gates, the news, the per-case figures, a verdict.

The verdict is a regression when any gate is (a check from pass to fail, a case's p95, a
refusal percentile or the capacity beyond its threshold, significantly); **inconclusive** when
none regressed and every decisive gate compared (each case's admitted p95, the capacity) could
not tell: its runs had too few answers to resolve its threshold, or its interval straddles it
(exit 3, never a pass: checks that pass in both runs do not make a comparison whose latencies
could not have failed a pass); an improvement when some gate improved; otherwise no significant
change, its headline counting the gates that stayed inconclusive. A comparison that could
weigh nothing at all, or whose cases differ, cannot be made: ``ConfigError`` (exit 2), naming
the cases that match.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from harness.compare.capacity import capacity_gate, compare_capacity
from harness.compare.cases import match_cases
from harness.compare.checks import check_changes, check_gates, family_change
from harness.compare.latency import case_gates, compare_case
from harness.compare.result import (
    CapacityComparison,
    CaseComparison,
    Comparison,
    Gate,
    Method,
    RunRef,
    Thresholds,
    VerdictName,
)
from harness.compare.rundir import RunData
from harness.compare.stats import CONFIDENCE, RESAMPLES, SEED
from harness.errors import ConfigError

__all__ = ["EXIT_CODES", "compare_runs", "run_ref", "verdict_of"]

EXIT_CODES: dict[VerdictName, int] = {
    "no significant change": 0,
    "improvement": 0,
    "regression": 1,
    "inconclusive": 3,
}


def run_ref(run: RunData) -> RunRef:
    kind: Literal["run", "capacity"] = "capacity" if run.capacity is not None else "run"
    return RunRef(
        run_dir=str(run.run_dir),
        run_id=run.plan.run_id,
        label=run.plan.label,
        created_at=run.plan.created_at,
        target=run.plan.target,
        kind=kind,
        emulator=run.plan.emulator,
    )


def _chosen_cases(base: RunData, candidate: RunData, wanted: Sequence[str] | None) -> list[str]:
    match = match_cases(
        [plan.case for plan in base.plan.cases], [plan.case for plan in candidate.plan.cases]
    )
    if wanted is None:
        if not match.identical:
            raise ConfigError(
                f"the runs ran different scenarios ({match.describe()}); compare the matching "
                "cases with --cases NAME,..."
            )
        return list(match.matching)
    unknown = [name for name in wanted if name not in match.matching]
    if unknown:
        raise ConfigError(f"--cases: {', '.join(unknown)} cannot be compared ({match.describe()})")
    return list(dict.fromkeys(wanted))


def _case_frames(run: RunData) -> dict[str, pd.DataFrame]:
    return {str(name): frame for name, frame in run.chats.groupby("case", sort=False)}


def _capacity(
    base: RunData, candidate: RunData, max_drop: float
) -> tuple[CapacityComparison | None, Gate | None]:
    if base.capacity is None and candidate.capacity is None:
        return None, None
    if base.capacity is None or candidate.capacity is None:
        which = "BASE" if base.capacity is not None else "CANDIDATE"
        return None, Gate(
            subject="capacity", outcome="not compared", summary=f"only {which} is a capacity search"
        )
    if base.capacity.result.slo != candidate.capacity.result.slo:
        raise ConfigError(
            f"the capacity searches used different SLOs ({base.capacity.result.slo} vs "
            f"{candidate.capacity.result.slo}): their capacities cannot be compared"
        )
    capacity = compare_capacity(base.capacity, candidate.capacity)
    return capacity, capacity_gate(capacity, max_drop)


def verdict_of(gates: list[Gate]) -> VerdictName:
    outcomes = {gate.outcome for gate in gates}
    if "regression" in outcomes:
        return "regression"
    decisive = [gate for gate in gates if gate.decisive and gate.outcome != "not compared"]
    if decisive and all(gate.outcome == "inconclusive" for gate in decisive):
        return "inconclusive"
    return "improvement" if "improvement" in outcomes else "no significant change"


def compare_runs(
    base: RunData,
    candidate: RunData,
    thresholds: Thresholds,
    cases: Sequence[str] | None = None,
) -> Comparison:
    names = _chosen_cases(base, candidate, cases)
    gates: list[Gate] = []
    family, changes, states = None, [], None
    if base.verdict is not None and candidate.verdict is not None:
        family = family_change(base.verdict, candidate.verdict)
        changes = check_changes(base.verdict, candidate.verdict)
        gates += check_gates(changes, base.verdict, candidate.verdict)
        states = (base.verdict.state, candidate.verdict.state)
    elif base.verdict is not None or candidate.verdict is not None:
        missing = "CANDIDATE" if base.verdict is not None else "BASE"
        gates.append(
            Gate(
                subject="checks",
                outcome="not compared",
                summary=f"{missing} has no verdict.json (aisk-harness check RUN_DIR makes it)",
            )
        )
    left, right = _case_frames(base), _case_frames(candidate)
    empty = base.chats.iloc[0:0]
    compared: list[CaseComparison] = []
    for name in names:
        case = compare_case(name, left.get(name, empty), right.get(name, empty), thresholds)
        compared.append(case)
        gates += case_gates(case, thresholds)
    capacity, capacity_gate_ = _capacity(base, candidate, thresholds.max_capacity_drop)
    if capacity_gate_ is not None:
        gates.append(capacity_gate_)
    if all(gate.outcome == "not compared" for gate in gates):
        reasons = "; ".join(f"{gate.subject}: {gate.summary}" for gate in gates) or "no case"
        raise ConfigError(f"nothing could be compared ({reasons})")
    verdict = verdict_of(gates)
    return Comparison(
        base=run_ref(base),
        candidate=run_ref(candidate),
        verdict=verdict,
        exit_code=EXIT_CODES[verdict],
        thresholds=thresholds,
        method=Method(resamples=RESAMPLES, seed=SEED, confidence=CONFIDENCE),
        gates=gates,
        family=family,
        checks=changes,
        states=states,
        cases=compared,
        capacity=capacity,
    )
