"""A scenario's durations: Go's duration text (``"1m30s"``), checked to be above zero."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from harness.api.duration import DurationError, parse_duration

__all__ = ["GoDuration"]


def _go_duration(text: str) -> str:
    try:
        value = parse_duration(text)
    except DurationError as exc:
        raise ValueError(str(exc)) from None
    if value <= 0:
        raise ValueError(f"duration {text!r} must be greater than zero")
    return text


GoDuration = Annotated[str, AfterValidator(_go_duration)]
