"""The inputs of the checks: what each case configured, the tolerances, and the records.

Built once from ``run.json`` and the records; the checks read nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.api.chatbot import RateLimitVaryBy
from harness.api.duration import format_duration
from harness.run.plan import RunPlan
from harness.run.records import PROBE_PHASE_PREFIX, is_load_chat, starts_with

__all__ = [
    "CHECK_COLUMNS",
    "PROFILE_COLUMNS",
    "QUOTA_RESET_COLUMNS",
    "CaseSpec",
    "CheckInput",
    "RateSpec",
    "Tolerance",
    "check_input",
]

# The record columns the checks read: loading only these keeps millions of records small.
CHECK_COLUMNS = (
    "request_id",
    "process",
    "kind",
    "phase",
    "case",
    "key",
    "send_wall_ns",
    "recv_wall_ns",
    "send_mono_ns",
    "recv_mono_ns",
    "intended_send_mono_ns",
    "clock_offset_ns",
    "clock_offset_err_ns",
    "http_status",
    "outcome",
    "grpc_code",
    "domain",
    "body_valid",
    "body_error",
    "error_class",
    "m_duration",
    "m_limit",
    "m_throttle_message",
    "m_vary_by",
    "m_wait",
    "wait_ns",
    "m_wait_sec",
    "wait_sec",
    "m_reset_at",
    "reset_at_ns",
    "reset_at_offset_s",
    "m_reset_in",
    "reset_in_ns",
    "m_reset_in_sec",
    "reset_in_sec",
    "detail",
    "answer_chars",
)
# What the checks of a profile other than the chatbot API's read besides (the answer's raw
# limit headers, for the IETF RateLimit fields check).
PROFILE_COLUMNS = ("m_other",)
# Among them, what a quota answer's reset says: read on the quota refusals' rows alone
# (``read_run_records(refusal_columns=...)``), since no check reads them on any other row.
QUOTA_RESET_COLUMNS = (
    "m_reset_at",
    "reset_at_ns",
    "reset_at_offset_s",
    "m_reset_in",
    "reset_in_ns",
    "m_reset_in_sec",
    "reset_in_sec",
)


@dataclass(frozen=True, slots=True)
class Tolerance:
    """The slack every inequality carries (research §4.2).

    ``granularity_ns``: the server's clock and ``wait`` resolution (g); ``boundary_ns``: `<` vs `≤`
    and rounding at window edges (β); ``rate_error``: server vs client clock rate (ρ);
    ``server_clock_ns``: how far the target's wall clock may be from ours (quota instants only);
    ``wait_resolution_ns``: how coarse a reported wait is beyond g (an HTTP ``Retry-After`` counts
    whole seconds: 1 s; the chatbot API's waits are exact: 0).
    """

    granularity_ns: int = 1_000
    boundary_ns: int = 1_000_000
    rate_error: float = 2e-4
    server_clock_ns: int = 2_000_000_000
    wait_resolution_ns: int = 0

    def short(self, duration_ns: int) -> int:
        """D⁻: a window surely shorter than the server's."""
        return int(duration_ns * (1 - self.rate_error)) - self.boundary_ns

    def retry_slack(self, wait_ns: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """ω: how far a promised retry instant may be from ``τ + wait`` (g + r + β + ρ·wait, r the
        wait's resolution)."""
        slack = self.granularity_ns + self.wait_resolution_ns + self.boundary_ns
        return slack + self.rate_error * wait_ns

    def long(self, duration_ns: int) -> int:
        """D⁺: a window surely longer than the server's."""
        return int(duration_ns * (1 + self.rate_error)) + self.boundary_ns


@dataclass(frozen=True, slots=True)
class RateSpec:
    limit: int
    duration_ns: int
    throttle_message: str
    vary_by: str  # the enum value the chatbot was created with ("" for no vary)

    @property
    def canonical_duration(self) -> str:
        return format_duration(self.duration_ns)


@dataclass(frozen=True, slots=True)
class CaseSpec:
    name: str
    chatbot_id: str
    rate: RateSpec | None
    quota: int | None
    behaviour: str  # hammer | paced | polite | burst
    concurrent_burst: bool
    rotate: str  # none | device | ip | forwarded_for
    keys: int
    allow_empty_answers: bool = False  # the scenario's chat says an empty answer is an answer
    existing: bool = False  # an existing chatbot (run --chatbot): its use earlier today unknown
    wait_granularity_ns: int = 0  # the waits' declared resolution (scenario wait_granularity)


@dataclass(frozen=True)
class CheckInput:
    """Everything the checks judge: the records (all kinds) and the configuration.

    ``resets``: the ``QUOTA_RESET_COLUMNS`` of the quota refusals, indexed like ``records``,
    where the reader kept them out of the records; None when the records carry them."""

    records: pd.DataFrame
    cases: dict[str, CaseSpec]
    org_timezone: ZoneInfo
    second_org: bool
    tolerance: Tolerance = field(default_factory=Tolerance)
    resets: pd.DataFrame | None = None
    not_applicable: dict[str, str] = field(default_factory=dict)  # check id -> why (a profile's)
    declared_family: str | None = None  # a profile's declared limiter family (identify.Family)
    profile: str = "chatbot"  # the run's target profile (run.json): which profile checks apply

    def with_resets(self, refused: pd.DataFrame) -> pd.DataFrame:
        """Quota refusals among the records, with what their answers said of the reset."""
        if self.resets is None:
            return refused
        return refused.drop(columns=self.resets.columns, errors="ignore").join(self.resets)

    @cached_property
    def chats(self) -> pd.DataFrame:
        """The load's chat requests (not the set-up's access probes)."""
        records = self.records
        mask = is_load_chat(records)
        count = int(mask.sum())
        if mask.iloc[:count].all():
            return records.iloc[:count]  # chats come first (read_records(chats_first=True))
        return records[mask]

    @cached_property
    def probes(self) -> pd.DataFrame:
        """The set-up's requests: settings round trip and access probes."""
        phase = self.records["phase"]
        return self.records[(phase == "roundtrip") | starts_with(phase, PROBE_PHASE_PREFIX)]


def _case_spec(plan: RunPlan, name: str) -> CaseSpec:
    case_plan = plan.case(name)
    case = case_plan.case
    rate = None
    if case.rate_limit is not None:
        vary = case.rate_limit.api_vary_by
        rate = RateSpec(
            limit=case.rate_limit.limit,
            duration_ns=case.rate_limit.duration_ns,
            throttle_message=case.rate_limit.throttle_message,
            vary_by="" if vary is RateLimitVaryBy.UNSPECIFIED else vary.value,
        )
    behaviour = case.behaviour
    return CaseSpec(
        name=name,
        chatbot_id=case_plan.chatbot_id,
        rate=rate,
        quota=case.quota.limit if case.quota is not None else None,
        behaviour=behaviour.kind,
        concurrent_burst=case.concurrent_burst,
        rotate=case.population.rotate,
        keys=case.population.keys,
        allow_empty_answers=plan.scenario.chat_of(case).allow_empty_answers,
        existing=case.chatbot_id is not None,
        wait_granularity_ns=plan.scenario.wait_granularity_ns(case),
    )


def check_input(
    plan: RunPlan,
    records: pd.DataFrame,
    tolerance: Tolerance | None = None,
    resets: pd.DataFrame | None = None,
) -> CheckInput:
    return CheckInput(
        records=records,
        cases={case.case.name: _case_spec(plan, case.case.name) for case in plan.cases},
        org_timezone=ZoneInfo(plan.org_timezone),
        second_org=plan.second_org,
        tolerance=tolerance or _tolerance(plan),
        resets=resets,
        not_applicable=dict(plan.not_applicable),
        declared_family=plan.declared_family,
        profile=plan.profile,
    )


def _tolerance(plan: RunPlan) -> Tolerance:
    """The default slack, with the resolution of the waits a profile's target reports (an HTTP
    ``Retry-After`` counts whole seconds)."""
    if plan.wait_resolution_ns is None:
        return Tolerance()
    return Tolerance(wait_resolution_ns=plan.wait_resolution_ns)
