"""Nested settings as flat ``a.b.c`` paths, so two of them can be told apart field by field."""

from __future__ import annotations

from typing import Any

__all__ = ["leaves"]


def leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Every non-dict value of nested dicts under its dotted path (a non-dict: ``{path: it}``)."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(leaves(inner, f"{path}.{key}" if path else str(key)))
        return flat
    return {path: value}
