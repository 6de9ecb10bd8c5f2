"""Judging a run while it is recorded: the checks over a complete prefix of it, and which of
their failures are proofs already.

A check fails only if every placement of the recorded requests violates the spec, but that is
a statement about the records it is handed: over a mere subset of them, a check that counts
what came *before* a request (under-admission, a burst's too-few, a quota refused too early,
the family identification's "one window after no request") could fail only because the
requests that used the budget are not on disk yet. So the live judge does not judge "what is
written": it judges a **complete prefix**, every request sent before a cutoff ``W``:

- every process hands its records over in the order it made them, and a part is written whole
  or not at all (``harness.run.parts``), so once a record received at ``R`` is on disk, every
  record the process made before ``R`` is too;
- a request sent at ``s`` is recorded by ``s`` + the request timeout (+ ``TIMEOUT_SLACK_NS``
  for a timeout that fires late), so with ``W = min over processes of R − timeout − slack``,
  every request sent before ``W`` is on disk (``cutoff_ns``).

Every request outside the prefix reached the server at or after ``W``. A request of the prefix
answered after ``W`` is judged as one whose answer never came (``complete_prefix``): the server
may have handled it after a missing one. Every answer left was given before any missing request
reached the server, so the prefix is a trace the target made on its own, and a sound check's
failure on it is a violation by the target. A failure is taken as proven when its check is in
``PROOF_CHECKS`` and every request its proof cites was answered before ``W``. ``wait-honesty``
is left out: a wait's promise reaches past its answer, up to a window later, where requests
sent after ``W`` lie. The limiter family is identified on the prefix; the final verdict is
always the offline ``check`` of the whole run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.api.answer import ErrorClass
from harness.conformance.checks import CHECKS
from harness.conformance.context import CheckContext
from harness.conformance.findings import Evidence, Finding, Outcome
from harness.conformance.spec import CheckInput
from harness.conformance.verdict import CheckResult
from harness.run.records import is_load_chat
from harness.run.summary import late_sends

__all__ = [
    "PROOF_CHECKS",
    "TIMEOUT_SLACK_NS",
    "LiveCheck",
    "LiveJudgement",
    "complete_prefix",
    "cutoff_ns",
    "judge_live",
]

NS = 1_000_000_000
# How late a request's timeout may fire on a busy sending hub, and a record's hand-over after
# its receive instant may be reordered by other greenlets: generous next to either.
TIMEOUT_SLACK_NS = NS
MAX_CLAUSE = 100  # characters of a check's summary a live line shows

PROOF_CHECKS = frozenset(
    {
        "well-formed",
        "throttle-metadata",
        "burst",
        "over-admission",
        "under-admission",
        "vary-isolation",
        "concurrency",
        "quota",
        "settings-roundtrip",
        "access",
    }
)


def _instants(records: pd.DataFrame, column: str) -> npt.NDArray[np.int64]:
    """A time column on the common clock (each process's offset applied)."""
    at: npt.NDArray[np.int64] = records[column].to_numpy(np.int64)
    offset: npt.NDArray[np.int64] = records["clock_offset_ns"].to_numpy(np.int64)
    return at + offset


def _offset_error_ns(records: pd.DataFrame) -> int:
    errors = records["clock_offset_err_ns"]
    return int(errors.max()) if len(errors) else 0


def cutoff_ns(records: pd.DataFrame, request_timeout_ns: int) -> int | None:
    """``W``: every request sent before it is among ``records`` (module docstring); None
    while no load chat is on disk. Processes that have no load chat yet do not hold it back."""
    load = records[is_load_chat(records)]
    if load.empty:
        return None
    received = pd.Series(_instants(load, "recv_wall_ns"), index=load.index)
    latest = received.groupby(load["process"].astype(str), observed=True).max()
    # Three offset errors: the latest answer's own, and the prefix takes every request that may
    # have been sent before W (``send - error < W``), so all sent before W + error must be here.
    error = 3 * _offset_error_ns(records)
    return int(latest.min()) - request_timeout_ns - TIMEOUT_SLACK_NS - error


def complete_prefix(
    records: pd.DataFrame, cutoff: int, resets: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The records of the requests that may have been sent before ``cutoff``, in their order
    and numbered anew, and ``resets`` (indexed by places in ``records``) numbered the same way.

    A request sent before ``cutoff`` but answered after it is kept as one whose answer never
    came (a transport error on the same [send, receive]): the server may have handled it after
    a request that is not on disk yet, so what it answered is no evidence here, but it may
    have used budget. Every answer the prefix keeps came before any missing request reached
    the server, so the prefix is a trace the target could have made on its own."""
    # Every request that may have been sent before the cutoff is kept (a consumer left out could
    # be what a cited throttle followed), and every answer that may have come after it is hidden.
    sent = _instants(records, "send_wall_ns") - _offset_error_ns(records)
    places = np.flatnonzero(sent < cutoff)
    prefix = records.iloc[places].reset_index(drop=True)
    answered = _instants(prefix, "recv_wall_ns") + _offset_error_ns(prefix)
    _unanswer(prefix, answered >= cutoff)
    if resets is None:
        return prefix, None
    kept = resets[np.isin(resets.index.to_numpy(), places)]
    renumbered = kept.set_axis(pd.Index(np.searchsorted(places, kept.index.to_numpy())))
    return prefix, renumbered


# What a request whose answer is not on disk yet is recorded as (``_unanswer``).
_IN_FLIGHT = {"outcome": "transport_error", "error_class": str(ErrorClass.INTERRUPTED)}


def _unanswer(records: pd.DataFrame, rows: npt.NDArray[np.bool_]) -> None:
    if not rows.any():
        return
    for column, value in _IN_FLIGHT.items():
        values = records[column]
        if isinstance(values.dtype, pd.CategoricalDtype) and value not in values.cat.categories:
            records[column] = values.cat.add_categories([value])
        records.loc[rows, column] = value
    records.loc[rows, "wait_ns"] = np.nan


@dataclass(frozen=True, slots=True)
class LiveCheck:
    """One check over the prefix, and whether its failure (if any) is a proof already."""

    result: CheckResult
    proof: Evidence | None  # the first proof that holds for the whole run
    # The cases where no key has power for it yet; None: it is undecided for no case's reason
    # (an inconclusive finding that names no case), so no case is decided by it yet.
    unpowered: frozenset[str] | None = frozenset()

    @property
    def line(self) -> str:
        """What the live view says of it: never a secret (a summary names no key of the API)."""
        result = self.result
        if self.proof is not None:
            where = f"case {self.proof.case!r}: " if self.proof.case else ""
            return f"{result.id}: VIOLATION proven: {where}{self.proof.contrast()}"
        power = ""
        if result.keys_with_power is not None and result.keys_without_power is not None:
            keys = result.keys_with_power + result.keys_without_power
            power = f"{result.keys_with_power} of {keys} keys with power"
        if result.outcome is Outcome.PASS:
            return f"{result.id}: {power or 'no violation'}".rstrip()
        if result.outcome is Outcome.FAIL:
            return f"{result.id}: {power + '; ' if power else ''}a violation not yet proven"
        waiting = f"waiting: {_first_clause(result.summary)}"
        return f"{result.id}: {power + '; ' if power else ''}{waiting}"


def _first_clause(summary: str) -> str:
    """A summary's first clause, short enough for one terminal line (the verdict has it all)."""
    clause = summary.split("; ")[0]
    return clause if len(clause) <= MAX_CLAUSE else clause[: MAX_CLAUSE - 1] + "…"


@dataclass(frozen=True, slots=True)
class LiveJudgement:
    """The checks over one complete prefix: its cutoff, how many records it held."""

    cutoff: int
    judged: int
    checks: tuple[LiveCheck, ...]
    cases: frozenset[str] = frozenset()  # the cases with load chats in the prefix
    answers: dict[tuple[str, str], int] = field(default_factory=dict)  # (case, outcome) → chats
    late: dict[str, int] = field(default_factory=dict)  # open-model sends late, by case

    @property
    def violation(self) -> LiveCheck | None:
        return next((check for check in self.checks if check.proof is not None), None)

    @property
    def decided(self) -> frozenset[str]:
        """Of the cases seen in the prefix, those every check has power on (some key of
        the case could have shown its violation: what the verdict calls power) or where a
        violation is proven: sending more there cannot change the verdict's status."""
        proven = {check.proof.case for check in self.checks if check.proof is not None}
        unpowered = [check.unpowered for check in self.checks]
        if any(cases is None for cases in unpowered):
            return frozenset(proven)
        waiting = frozenset().union(*(cases for cases in unpowered if cases is not None))
        return frozenset(case for case in self.cases if case not in waiting) | proven


def _proof(result: CheckResult, answered_by: dict[str, int], cutoff: int) -> Evidence | None:
    if result.outcome is not Outcome.FAIL or result.id not in PROOF_CHECKS:
        return None
    for proof in result.proofs:
        instants = [answered_by.get(request_id) for request_id in proof.request_ids]
        if proof.request_ids and all(i is not None and i < cutoff for i in instants):
            return proof
    return None


def _unpowered(finding: Finding) -> frozenset[str] | None:
    cases = frozenset(case.case for case in finding.power.unpowered) if finding.power else None
    if finding.outcome is Outcome.INCONCLUSIVE and not cases:
        return None
    return cases or frozenset()


def judge_live(data: CheckInput, cutoff: int) -> LiveJudgement:
    """Every registered check over ``data`` (a complete prefix up to ``cutoff``), one at a time:
    the live judge must leave the other core to the sender."""
    context = CheckContext.of(data)
    records = data.records
    answered = _instants(records, "recv_wall_ns") + _offset_error_ns(records)
    answered_by = dict(zip(records["request_id"].astype(str), answered.tolist(), strict=True))
    checks = []
    for entry in CHECKS:
        finding = entry.judge(context)
        result = CheckResult.of(entry.id, entry.title, finding)
        checks.append(LiveCheck(result, _proof(result, answered_by, cutoff), _unpowered(finding)))
    chats = data.chats
    cases = frozenset(str(case) for case in chats["case"].unique())
    return LiveJudgement(
        cutoff, len(records), tuple(checks), cases, _answers(chats), late_sends(chats)
    )


def _answers(chats: pd.DataFrame) -> dict[tuple[str, str], int]:
    """The load's chats in the prefix by case and outcome (what the metrics export)."""
    pairs = zip(chats["case"].astype(str), chats["outcome"].astype(str), strict=True)
    return dict(Counter(pairs))
