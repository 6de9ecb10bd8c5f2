"""The JSON files a run directory holds (``run.json``, ``capacity.json``, ...) as pydantic models.

Written through a temporary name and a rename, so a reader never sees half a file; read back
with one-line errors that say which file and what is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from harness.errors import ConfigError

__all__ = ["read_model", "write_model"]

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
        raise ConfigError(f"{path}: not {kind}: {exc.errors()[0]['msg']}") from None
