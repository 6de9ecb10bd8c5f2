"""``compare.json``: what a comparison of two runs found, for the terminal, CI and the page.

Strict where we produce it. Relative shifts are fractions (``0.1`` is +10 %), latencies seconds,
rates per second; every estimate carries its 95 % interval. ``gates`` is the one list the verdict,
the JUnit file, the table and the page all iterate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from harness.model_files import write_model

__all__ = [
    "COMPARE_FILE",
    "CapacityComparison",
    "CaseComparison",
    "CheckChange",
    "Comparison",
    "Estimate",
    "FamilyChange",
    "Gate",
    "GateOutcome",
    "LatencyComparison",
    "LatencyGroup",
    "Method",
    "PercentileShift",
    "QuantilePower",
    "RateComparison",
    "RunRef",
    "Thresholds",
    "VerdictName",
    "write_comparison",
]

COMPARE_FILE = "compare.json"

GateOutcome = Literal[
    "regression", "improvement", "no significant change", "inconclusive", "not compared"
]
VerdictName = Literal["regression", "inconclusive", "improvement", "no significant change"]
LatencyGroup = Literal["admitted", "throttled", "out_of_quota"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Estimate(_Model):
    """A value and its 95 % interval."""

    value: float
    low: float
    high: float


class RunRef(_Model):
    run_dir: str
    run_id: str
    label: str | None
    created_at: str
    target: str
    kind: Literal["run", "capacity"]
    emulator: dict[str, object] | None


class Thresholds(_Model):
    max_p95_increase: float = 0.10  # a fraction: 0.1 for --max-p95-increase 10%
    max_capacity_drop: float = 0.05
    max_refusal_increase: float = 0.10  # the p50 and p95 of throttles and out-of-quota answers


class Method(_Model):
    """How the figures were computed (the README's "Comparing runs" says why)."""

    percentile: str = "nearest rank"
    interval: str = (
        "percentile bootstrap over blocks of consecutive requests, as long as Politis-White's "
        "automatic block length and at least ⌈n^⅓⌉"
    )
    resamples: int
    seed: int
    confidence: float
    rank_test: str = "Mann-Whitney U, two-sided, over the medians of the same blocks"
    gate: str = (
        "regression or improvement: the shift's interval wholly beyond the threshold; "
        "no significant change: wholly within it; else inconclusive"
    )
    gated_latency: str = (
        "admitted answers (outcome ok) of the load's chat requests: p95; throttles and "
        "out-of-quota answers: p50 and p95, each its own gate"
    )
    power: str = (
        "distribution-free order-statistic interval of each run's percentile (binomial ranks); "
        "a gate whose two intervals cannot resolve its threshold is inconclusive"
    )


class Gate(_Model):
    """One thing the verdict weighs: a check, a case's p95, a refusal percentile, the capacity.

    ``decisive``: the admitted answers' p95 and the capacity; when every decisive gate compared
    is inconclusive the comparison is. The others weigh only when they regress or improve.
    ``detectable``: the smallest relative change the gate could tell from none with the runs
    given (None: not a measurement, or no interval at all); ``needed``: the answers per run it
    would need to resolve its threshold (None: not a latency, or beyond any count planned)."""

    subject: str
    outcome: GateOutcome
    summary: str
    decisive: bool = False
    detectable: float | None = None
    needed: int | None = None


class CheckChange(_Model):
    id: str
    title: str
    base: str
    candidate: str
    summary: str  # the candidate's summary


class FamilyChange(_Model):
    """The identified limiter family, or its parameters, differ between the runs."""

    base: str
    candidate: str
    parameters: list[str]  # "path: base → candidate" for each parameter that moved


class PercentileShift(_Model):
    quantile: float
    base_s: Estimate
    candidate_s: Estimate
    shift: Estimate  # candidate / base − 1
    significant: bool


class QuantilePower(_Model):
    """What the two runs can tell of one percentile (``harness.load.samples``): the smallest
    relative shift their order-statistic intervals resolve (None: a run has too few answers for
    any), the fewest answers a run needs for an interval, and the answers per run that would
    resolve the group's threshold (None: more than ``MOST_SAMPLES``, or no answers to judge by)."""

    quantile: float
    resolution: float | None
    fewest: int
    needed: int | None


class LatencyComparison(_Model):
    """One group of answers: ``admitted`` (the model's latency), ``throttled`` or
    ``out_of_quota`` (the limiter's own latency: its p50 and p95 are gates of their own)."""

    group: LatencyGroup
    base_samples: int
    candidate_samples: int
    percentiles: list[PercentileShift]
    rank_p_value: float | None
    p_slower: float | None  # P(a candidate block's median > a base block's)
    block: int | None
    reason: str = ""  # why there are no percentiles, when there are none
    power: list[QuantilePower] = []


class RateComparison(_Model):
    base: float
    candidate: float


class CaseComparison(_Model):
    case: str
    requests: tuple[int, int]
    requests_per_s: RateComparison
    admitted_per_s: RateComparison
    error_rate: RateComparison  # client and server errors and unanswered requests, of all
    outcome_shares: dict[str, RateComparison]
    latency: list[LatencyComparison]


class CapacityComparison(_Model):
    base_rps: Estimate | None
    candidate_rps: Estimate | None
    shift: Estimate | None
    base_knee: str
    candidate_knee: str
    base_knee_rps: Estimate | None
    candidate_knee_rps: Estimate | None
    # Successful answers of each search's capacity step: what its p95 within the SLO rests on.
    base_step_answers: int | None = None
    candidate_step_answers: int | None = None


class Comparison(_Model):
    base: RunRef
    candidate: RunRef
    verdict: VerdictName
    exit_code: int
    thresholds: Thresholds
    method: Method
    gates: list[Gate]
    family: FamilyChange | None
    checks: list[CheckChange]
    states: tuple[str, str] | None  # the two verdicts' states, when both runs were judged
    cases: list[CaseComparison]
    capacity: CapacityComparison | None

    @property
    def regressions(self) -> list[Gate]:
        return [gate for gate in self.gates if gate.outcome == "regression"]


def write_comparison(folder: Path, comparison: Comparison) -> Path:
    return write_model(folder / COMPARE_FILE, comparison)
