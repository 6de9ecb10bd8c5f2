"""Typed views of the two 429 answers: the metadata strings parsed into numbers and instants.

The raw strings are kept beside the parsed values, because the conformance checks judge the text
(Go's canonical duration format, six-digit seconds) as well as the value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from harness.api.metadata import read_duration, read_instant, read_int, read_seconds
from harness.api.status import ErrorInfo

__all__ = ["MetadataError", "QuotaInfo", "ThrottleInfo"]

T = TypeVar("T")


class MetadataError(ValueError):
    """A 429 metadata value that is missing or cannot be parsed; names the key."""

    def __init__(self, key: str, value: str | None, expected: str) -> None:
        shown = "missing" if value is None else f"{value!r}"
        super().__init__(f"metadata {key!r} is {shown}: expected {expected}")
        self.key = key
        self.value = value


def _get(metadata: dict[str, str], key: str, expected: str) -> str:
    value = metadata.get(key)
    if value is None:
        raise MetadataError(key, None, expected)
    return value


def _required(
    metadata: dict[str, str], key: str, read: Callable[[str], T | None], expected: str
) -> T:
    """``key``'s value read by one of ``harness.api.metadata``'s readers, or a MetadataError."""
    text = _get(metadata, key, expected)
    value = read(text)
    if value is None:
        raise MetadataError(key, text, expected)
    return value


def _int(metadata: dict[str, str], key: str) -> int:
    return _required(metadata, key, read_int, "a decimal integer string such as '5'")


def _duration(metadata: dict[str, str], key: str) -> int:
    return _required(metadata, key, read_duration, "a Go duration such as '1m0s' or '36.581786s'")


def _seconds(metadata: dict[str, str], key: str) -> float:
    return _required(metadata, key, read_seconds, "decimal seconds such as '36.581786'")


@dataclass(frozen=True, slots=True)
class ThrottleInfo:
    """``ERROR_REASON_PROMPT_THROTTLING`` metadata: the configuration echoed and the wait."""

    limit: int
    duration_ns: int
    throttle_message: str
    vary_by: str
    wait_ns: int
    wait_sec: float
    raw: dict[str, str]

    @classmethod
    def from_error_info(cls, info: ErrorInfo) -> ThrottleInfo:
        metadata = info.metadata
        return cls(
            limit=_int(metadata, "limit"),
            duration_ns=_duration(metadata, "duration"),
            throttle_message=_get(metadata, "throttle_message", "the configured throttle message"),
            vary_by=metadata.get("vary_by", ""),
            wait_ns=_duration(metadata, "wait"),
            wait_sec=_seconds(metadata, "wait_sec"),
            raw=dict(metadata),
        )


@dataclass(frozen=True, slots=True)
class QuotaInfo:
    """``ERROR_REASON_PROMPT_OUT_OF_QUOTA`` metadata: the quota and when it resets."""

    limit: int
    reset_at: datetime
    reset_in_ns: int
    reset_in_sec: float
    raw: dict[str, str]

    @classmethod
    def from_error_info(cls, info: ErrorInfo) -> QuotaInfo:
        metadata = info.metadata
        expected_at = "an RFC 3339 timestamp such as '2024-01-06T00:00:00+08:00'"
        reset_at = _required(metadata, "reset_at", read_instant, expected_at)
        return cls(
            limit=_int(metadata, "limit"),
            reset_at=reset_at,
            reset_in_ns=_duration(metadata, "reset_in"),
            reset_in_sec=_seconds(metadata, "reset_in_sec"),
            raw=dict(metadata),
        )
