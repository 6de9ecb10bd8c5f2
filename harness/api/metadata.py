"""The text values of a 429's ErrorInfo metadata, read into numbers and instants.

ErrorInfo metadata is ``map<string, string>``: every value is text, and the conformance checks
judge the text (Go's canonical duration, six-digit seconds) as well as the value. These readers
are lenient (None for what does not parse); the typed views (``views.py``) and the record columns
of an answer (``answer.py``) both read through them, so a value means the same to both.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from harness.api.duration import DurationError, parse_duration
from harness.api.timestamps import TimestampError, parse_rfc3339

__all__ = ["cached_duration", "read_duration", "read_instant", "read_int", "read_seconds"]


def read_int(text: str | None) -> int | None:
    """A decimal integer string such as '5' (ASCII digits only: no sign, no spaces)."""
    if text is None or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def read_duration(text: str | None) -> int | None:
    """A Go duration such as '1m0s' or '36.581786s', in nanoseconds."""
    if text is None:
        return None
    try:
        return parse_duration(text)
    except DurationError:
        return None


@lru_cache(maxsize=256)
def cached_duration(text: str) -> int | None:
    """``read_duration`` for texts that repeat on every answer (a configured duration)."""
    return read_duration(text)


def read_seconds(text: str | None) -> float | None:
    """Decimal seconds such as '36.581786'; never NaN or infinite."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def read_instant(text: str | None) -> datetime | None:
    """An RFC 3339 timestamp such as '2024-01-06T00:00:00+08:00', with its offset."""
    if text is None:
        return None
    try:
        return parse_rfc3339(text)
    except TimestampError:
        return None
