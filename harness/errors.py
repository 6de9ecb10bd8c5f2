"""Errors of the harness itself (never findings about the target).

- ``HarnessError``: base; the CLI prints its message on one line and exits with ``exit_code``.
  - ``ConfigError``: bad arguments, a bad scenario file, an unusable run directory (exit 2).
  - ``TargetError``: the target cannot be used: unreachable, bad API key, odd answers during set-up
    (exit 2).
"""

from __future__ import annotations

__all__ = ["ConfigError", "HarnessError", "TargetError"]


class HarnessError(Exception):
    """A problem of the harness or its inputs; the message says what happened and what to do."""

    exit_code = 2


class ConfigError(HarnessError):
    """An argument, scenario field or environment value that cannot be used; names the field."""


class TargetError(HarnessError):
    """The target could not be used for the run: unreachable, refused our key, answered nonsense."""
