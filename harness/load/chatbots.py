"""The chatbot a case creates: the scenario's limits in the API's own shape."""

from __future__ import annotations

from harness.api.chatbot import (
    Appearance,
    Chatbot,
    Model,
    QuotaLimit,
    QuotaLimitReset,
    QuotaLimitSetting,
    RateLimit,
    RateLimitSetting,
    Reference,
    ResponseLength,
    Setting,
)
from harness.load.scenario import VARY_BY_ENUM, Case

__all__ = ["chatbot_for_case"]


def chatbot_for_case(case: Case, run_id: str) -> Chatbot:
    """A minimal valid chatbot carrying the case's rate limit and quota exactly as configured."""
    rate_limit = RateLimit(enabled=False)
    if case.rate_limit is not None:
        spec = case.rate_limit
        setting = RateLimitSetting(
            limit=spec.limit, duration=spec.duration, throttle_message=spec.throttle_message
        )
        if spec.vary_by != "none":
            # Unset (not UNSPECIFIED) when the case does not vary: that is how a client omits it.
            setting.vary_by = VARY_BY_ENUM[spec.vary_by]
        rate_limit = RateLimit(enabled=True, setting=setting)
    quota_limit = QuotaLimit(enabled=False)
    if case.quota is not None:
        quota_limit = QuotaLimit(
            enabled=True,
            setting=QuotaLimitSetting(limit=case.quota.limit, reset=QuotaLimitReset.DAILY),
        )
    return Chatbot(
        name=f"aisk-harness {run_id} {case.name}",
        setting=Setting(model=Model.LITE, response_length=ResponseLength(enabled=False)),
        appearance=Appearance(enabled=False),
        reference=Reference(kb_selection=False, display_citation=True),
        rate_limit=rate_limit,
        quota_limit=quota_limit,
    )
