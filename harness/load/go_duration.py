"""A scenario's durations: Go's duration text (``"1m30s"``), checked to be above zero."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from harness.api.duration import DurationError, parse_duration

__all__ = ["GO_DURATION_PATTERN", "GoDuration"]


def _go_duration(text: str) -> str:
    try:
        value = parse_duration(text)
    except DurationError as exc:
        raise ValueError(str(exc)) from None
    if value <= 0:
        raise ValueError(f"duration {text!r} must be greater than zero")
    return text


# A number and a unit, repeated ("1m30s"); in the JSON Schema, so an editor flags "30 sec".
_NUMBER = r"([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_UNIT = "(ns|us|µs|μs|ms|s|m|h)"
GO_DURATION_PATTERN = f"^({_NUMBER}{_UNIT})+$"

GoDuration = Annotated[
    str,
    AfterValidator(_go_duration),
    WithJsonSchema(
        {
            "type": "string",
            "format": "go-duration",
            "pattern": GO_DURATION_PATTERN,
            "description": "a Go duration above zero: '500ms', '30s', '1m30s'",
        }
    ),
]
