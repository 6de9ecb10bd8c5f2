"""The JSON files a run directory holds (``run.json``, ``capacity.json``, ...) as pydantic models.

Written through a temporary name and a rename, so a reader never sees half a file; read back
with one-line errors that say which file and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from harness.errors import ConfigError

__all__ = ["format_validation_error", "read_model", "write_model"]

M = TypeVar("M", bound=BaseModel)


def write_model(path: Path, model: BaseModel) -> Path:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(model.model_dump_json(indent=2), encoding="utf-8")
    temporary.replace(path)
    return path


def read_model(path: Path, model: type[M], *, missing: str, kind: str) -> M:
    """``missing``: the message when there is no such file; ``kind``: "not {kind}" otherwise."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(missing) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {str(path)!r}: {exc}") from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = format_validation_error(exc, path.name).splitlines()
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{path} is not {kind}: {problems[0]}{more}") from None


def format_validation_error(
    exc: ValidationError, source: str, union_tags: Collection[str] = ()
) -> str:
    """One line per problem: ``source: field.path: what is expected (got ...)``.

    ``union_tags``: the tags of discriminated unions, which pydantic puts in the location although
    they are no field of the file.
    """
    lines = []
    for error in exc.errors():
        got = error.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message, shown = "unknown field", ""
        lines.append(f"{source}: {_field_path(error['loc'], union_tags)}: {message}{shown}")
    return "\n".join(lines)


def _field_path(location: tuple[int | str, ...], union_tags: Collection[str]) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in union_tags:
            text += f".{part}" if text else str(part)
    return text or "(top level)"
