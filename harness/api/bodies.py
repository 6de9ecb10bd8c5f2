"""An answer's body decoded as the model it should be, or a ``BodyProblem`` saying what it is.

The problem describes the body without quoting it (a body may carry anything, secrets included);
``describe_problem`` makes it fit a message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from harness.api.redact import one_line

__all__ = ["BodyProblem", "decode_body", "describe_problem"]

M = TypeVar("M", bound=BaseModel)

_MAX_PROBLEM_TEXT = 400  # characters of a description of a malformed body


class BodyProblem(ValueError):
    """A body that is not the expected JSON object; the message describes it without quoting it."""


def describe_problem(problem: BodyProblem, secrets: Iterable[str] = ()) -> str:
    """A ``BodyProblem`` for a message: it may name keys of the body, so it is scrubbed too."""
    return one_line(str(problem), secrets, _MAX_PROBLEM_TEXT)


def _summarise(error: ValidationError) -> str:
    # include_input=False: the offending value may be anything the server sent, secrets included.
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:3]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


_JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def decode_body(body: bytes, model: type[M]) -> M:
    """Parse ``body`` as a JSON object and validate it as ``model``; raise ``BodyProblem``."""
    if not body.strip():
        raise BodyProblem("body is empty")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BodyProblem(f"body is not JSON ({len(body)} bytes)") from None
    if not isinstance(value, dict):
        raise BodyProblem(f"body is {_JSON_KINDS.get(type(value), 'not')}, not a JSON object")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise BodyProblem(f"body is not a valid {model.__name__}: {_summarise(exc)}") from None
