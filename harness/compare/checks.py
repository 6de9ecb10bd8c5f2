"""What the two verdicts say differently: checks whose outcome changed, and the limiter family.

A check that went from pass to fail is a regression whatever the thresholds; fail to pass an
improvement; any other change (pass to inconclusive, say) is shown and weighs nothing. A change
of the identified family, or of its parameters, is news even when every check passes: a fixed
window that became a sliding log changes what clients see at a window's edge.
"""

from __future__ import annotations

from typing import Any

from harness.compare.leaves import leaves
from harness.compare.result import CheckChange, FamilyChange, Gate
from harness.conformance.findings import Outcome
from harness.conformance.verdict import Verdict

__all__ = [
    "PARAMETER_ABSOLUTE",
    "PARAMETER_RELATIVE",
    "check_changes",
    "check_gates",
    "family_change",
]

# Measured parameters (the longest wait, where windows start) move a little between runs of one
# target; a move counts when it exceeds both 10 % and 5 ms (the unit is a word of the name:
# longest_wait_s, window_start_ms_after_epoch_multiple).
PARAMETER_RELATIVE = 0.10
PARAMETER_ABSOLUTE = {"ms": 5.0, "s": 0.005}


def check_changes(base: Verdict, candidate: Verdict) -> list[CheckChange]:
    """Every check judged in both runs whose outcome differs, failures first."""
    before = {check.id: check for check in base.checks}
    changes = [
        CheckChange(
            id=check.id,
            title=check.title,
            base=before[check.id].outcome.value,
            candidate=check.outcome.value,
            summary=check.summary,
        )
        for check in candidate.checks
        if check.id in before and before[check.id].outcome is not check.outcome
    ]
    return sorted(changes, key=lambda change: change.candidate != Outcome.FAIL.value)


def check_gates(changes: list[CheckChange], base: Verdict, candidate: Verdict) -> list[Gate]:
    """One gate per check judged in both runs."""
    changed = {change.id: change for change in changes}
    before = {check.id for check in base.checks}
    gates = []
    for check in candidate.checks:
        if check.id not in before:
            continue
        change = changed.get(check.id)
        subject = f"check {check.id}"
        if change is None:
            gates.append(
                Gate(
                    subject=subject,
                    outcome="no significant change",
                    summary=f"{check.outcome.value} in both runs",
                )
            )
            continue
        moved = f"{change.base} → {change.candidate}: {change.summary}"
        if change.candidate == Outcome.FAIL.value and change.base == Outcome.PASS.value:
            gates.append(Gate(subject=subject, outcome="regression", summary=moved))
        elif change.base == Outcome.FAIL.value and change.candidate == Outcome.PASS.value:
            gates.append(Gate(subject=subject, outcome="improvement", summary=moved))
        else:
            gates.append(Gate(subject=subject, outcome="no significant change", summary=moved))
    return gates


def _moved(path: str, left: Any, right: Any) -> bool:
    numbers = (int, float)
    if not (isinstance(left, numbers) and isinstance(right, numbers)):
        return bool(left != right)
    words = path.split(".")[0].split("_")
    absolute = next((PARAMETER_ABSOLUTE[unit] for unit in PARAMETER_ABSOLUTE if unit in words), 0.0)
    difference = abs(float(left) - float(right))
    return difference > absolute and difference > PARAMETER_RELATIVE * max(abs(left), abs(right))


def family_change(base: Verdict, candidate: Verdict) -> FamilyChange | None:
    left, right = leaves(base.algorithm_parameters), leaves(candidate.algorithm_parameters)
    moved = [
        f"{path}: {left.get(path)} → {right.get(path)}"
        for path in sorted(left.keys() | right.keys())
        if _moved(path, left.get(path), right.get(path))
    ]
    if base.algorithm == candidate.algorithm and not moved:
        return None
    return FamilyChange(base=base.algorithm, candidate=candidate.algorithm, parameters=moved)
