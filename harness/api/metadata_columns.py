"""The 429 metadata columns of a record: every ErrorInfo metadata value as its raw text and, where
it has one, its parsed value.

The columns are ``Answer``'s (``answer.py``) from ``m_duration`` to ``m_other``: each documented key
as text (``m_<key>``) beside its value read leniently by ``metadata.py`` (None when it does not
parse), and every undocumented key kept in ``m_other`` as sorted JSON.
"""

from __future__ import annotations

import json
from typing import Any

from harness.api.metadata import (
    cached_duration,
    read_duration,
    read_instant,
    read_int,
    read_seconds,
)

__all__ = ["NO_METADATA", "metadata_columns"]

_KNOWN_KEYS = frozenset(
    {
        "duration",
        "limit",
        "throttle_message",
        "vary_by",
        "wait",
        "wait_sec",
        "reset_at",
        "reset_in",
        "reset_in_sec",
    }
)

# The columns of an answer without metadata: every value None, ``m_other`` empty.
NO_METADATA = (None,) * 17 + ("",)


def _instant(text: str | None) -> tuple[int | None, int | None]:
    """(UTC epoch ns, the UTC offset written in the text, in seconds)."""
    moment = read_instant(text)
    if moment is None:
        return None, None
    offset = moment.utcoffset()
    epoch_us = round(moment.timestamp() * 1_000_000)
    return epoch_us * 1000, int(offset.total_seconds()) if offset is not None else None


def metadata_columns(raw: dict[str, Any]) -> tuple[tuple[object, ...], str]:
    """The 18 metadata columns (``Answer``'s ``m_duration`` to ``m_other``, in that order), and a
    complaint if some value was not a JSON string."""
    text: dict[str, str | None] = {}
    complaint = ""
    for key, value in raw.items():
        if isinstance(value, str):
            text[key] = value
        else:
            text[key] = json.dumps(value)
            complaint = complaint or f"metadata {key!r} is not a JSON string"
    duration = text.get("duration")
    reset_at_ns, reset_at_offset = _instant(text.get("reset_at"))
    other = {key: value for key, value in text.items() if key not in _KNOWN_KEYS}
    columns = (
        duration,
        cached_duration(duration) if duration is not None else None,
        text.get("limit"),
        read_int(text.get("limit")),
        text.get("throttle_message"),
        text.get("vary_by"),
        text.get("wait"),
        read_duration(text.get("wait")),
        text.get("wait_sec"),
        read_seconds(text.get("wait_sec")),
        text.get("reset_at"),
        reset_at_ns,
        reset_at_offset,
        text.get("reset_in"),
        read_duration(text.get("reset_in")),
        text.get("reset_in_sec"),
        read_seconds(text.get("reset_in_sec")),
        json.dumps(other, sort_keys=True) if other else "",
    )
    return columns, complaint
