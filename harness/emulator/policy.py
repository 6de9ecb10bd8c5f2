"""The emulator's one correct behaviour, as data, and the faults that modify it.

Each fault is a named set of changes to ``Policy``: a realistic single bug a real server could ship.
They exist so the harness can prove, in its own tests, that its checks catch each one; the correct
policy (``CORRECT``) is what every knob's default describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

__all__ = ["CORRECT", "FAULTS", "Fault", "KeyMode", "Policy", "policy_for"]


class KeyMode(StrEnum):
    CONFIGURED = "configured"  # what vary_by says
    CHATBOT = "chatbot"  # vary_by ignored: one bucket per chatbot
    SWAPPED = "swapped"  # IP for DEVICE_ID and device id for IP


@dataclass(frozen=True, slots=True)
class Policy:
    """How the emulator decides and answers; the defaults are the correct service."""

    limit_offset: int = 0  # admitted per window = limit + limit_offset
    duration_factor: int = 1  # the window really used = duration * duration_factor
    key_mode: KeyMode = KeyMode.CONFIGURED
    forwarded_for_always_trusted: bool = False  # X-Forwarded-For used even without the option
    count_throttled: bool = False  # a throttled request is recorded as if admitted
    wait_factor: float = 1.0  # reported wait = true wait * factor
    wait_whole_seconds: bool = False  # reported wait floored to whole seconds
    race_check_record: bool = False  # yield between the check and the record of an admission
    throttle_http_status: int = 429
    throttle_grpc_code: int = 8
    duration_as_seconds: bool = False  # metadata duration "60s" (protojson) instead of "1m0s"
    wait_sec_millis: bool = False  # wait_sec in milliseconds
    throttle_message_default: bool = False  # the configured throttle_message is not echoed
    quota_offset: int = 0  # admitted per day = quota + quota_offset
    quota_day_in_utc: bool = False  # the quota day is the UTC day, not the organisation's
    reset_at_in_utc: bool = False  # reset_at written in UTC ("Z") instead of the org offset
    quota_counts_throttled: bool = False  # throttled requests consume quota
    # An admitted chat answers {"answer": "", "citations": []} (a model that said nothing).
    empty_answer: bool = False

    def changed(self) -> set[str]:
        """The knobs that differ from the correct service's."""
        return {f.name for f in fields(self) if getattr(self, f.name) != f.default}


CORRECT = Policy()


@dataclass(frozen=True, slots=True)
class Fault:
    """A named modification of the correct policy, and the check expected to catch it."""

    name: str
    description: str
    caught_by: str
    changes: dict[str, Any] = field(default_factory=dict)

    def apply(self, policy: Policy) -> Policy:
        return replace(policy, **self.changes)


def _fault(name: str, description: str, caught_by: str, **changes: Any) -> Fault:
    return Fault(name, description, caught_by, changes)


FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        _fault("admit-one-extra", "admits limit+1 per window", "over-admission", limit_offset=1),
        _fault("admit-one-fewer", "admits limit-1 per window", "burst", limit_offset=-1),
        _fault(
            "ignore-vary-by",
            "one bucket per chatbot whatever vary_by says",
            "vary-isolation",
            key_mode=KeyMode.CHATBOT,
        ),
        _fault(
            "swap-vary-by",
            "keys by IP for DEVICE_ID and by device id for IP",
            "vary-isolation",
            key_mode=KeyMode.SWAPPED,
        ),
        _fault(
            "trust-forwarded-for",
            "keys by X-Forwarded-For without being told to",
            "vary-isolation",
            forwarded_for_always_trusted=True,
        ),
        _fault(
            "long-window",
            "the window is twice the configured duration",
            "under-admission",
            duration_factor=2,
        ),
        _fault("short-wait", "reports half the true wait", "wait-honesty", wait_factor=0.5),
        _fault(
            "floored-wait",
            "reports the wait floored to whole seconds",
            "wait-honesty",
            wait_whole_seconds=True,
        ),
        _fault(
            "count-throttled",
            "throttled requests are recorded as admissions",
            "wait-honesty",
            count_throttled=True,
        ),
        _fault(
            "race-check-record",
            "yields between the check and the record of an admission",
            "concurrency",
            race_check_record=True,
        ),
        _fault(
            "throttle-503",
            "throttles with HTTP 503 and code 14",
            "well-formed",
            throttle_http_status=503,
            throttle_grpc_code=14,
        ),
        _fault(
            "duration-seconds",
            "metadata duration as '60s' instead of Go's '1m0s'",
            "throttle-metadata",
            duration_as_seconds=True,
        ),
        _fault(
            "wait-sec-millis", "wait_sec in milliseconds", "throttle-metadata", wait_sec_millis=True
        ),
        _fault(
            "default-throttle-message",
            "ignores the configured throttle_message",
            "throttle-metadata",
            throttle_message_default=True,
        ),
        _fault(
            "empty-answer",
            "admitted chats answer an empty answer",
            "well-formed",
            empty_answer=True,
        ),
        _fault("quota-one-extra", "admits quota+1 per day", "quota", quota_offset=1),
        _fault("quota-day-utc", "counts the quota day in UTC", "quota", quota_day_in_utc=True),
        _fault(
            "reset-at-utc",
            "writes reset_at in UTC instead of the organisation's offset",
            "quota",
            reset_at_in_utc=True,
        ),
        _fault(
            "throttled-consume-quota",
            "throttled requests consume quota",
            "quota",
            quota_counts_throttled=True,
        ),
    )
}


def policy_for(fault_name: str | None) -> Policy:
    """The policy of the emulator started with ``--fault fault_name`` (None: correct)."""
    if fault_name is None:
        return CORRECT
    fault = FAULTS.get(fault_name)
    if fault is None:
        known = ", ".join(sorted(FAULTS))
        raise KeyError(f"unknown fault {fault_name!r}: expected one of {known}")
    return fault.apply(CORRECT)
