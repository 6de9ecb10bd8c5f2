"""The versions a run records (``run.json``, ``verdict.json``): the harness, Locust, Python."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

__all__ = ["harness_version", "versions"]


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def harness_version() -> str:
    return _version("aisk-harness")


def versions() -> dict[str, str]:
    return {
        "harness": harness_version(),
        "locust": _version("locust"),
        "python": platform.python_version(),
    }
