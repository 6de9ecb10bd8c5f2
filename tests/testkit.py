"""Helpers the tests share, imported as a module (``from testkit import ...``).

``tests/conftest.py`` puts this folder on ``sys.path`` (pytest's prepend import mode does it for a
conftest's folder), so every test file can import it; fixtures that need pytest live in the
conftest files, plain functions here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import pandas as pd

from harness.api.answer import Answer
from harness.run.records import RECORD_COLUMNS, Record, is_load_chat

__all__ = ["clean_env", "harness_command", "load_chats", "record_of"]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any AISK_ variable (a test's keys are its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISK_")}
    return {**env, **extra}


def harness_command(command: str, *args: str) -> list[str]:
    """``aisk-harness COMMAND ARGS`` with this interpreter (the worktree's own harness)."""
    return [sys.executable, "-m", "harness.cli.main", command, *args]


def load_chats(records: pd.DataFrame) -> pd.DataFrame:
    """The load's chat requests, without the set-up's access probes."""
    return records[is_load_chat(records)]


def record_of(defaults: Mapping[str, object], answer: Answer, **changes: object) -> Record:
    """A record from flat column values: ``defaults`` for the request side, ``answer`` for the
    answer columns, ``changes`` (by column name, ``answer=`` for a whole answer) on top."""
    base = {**defaults, **answer._asdict()}
    unknown = set(changes) - set(RECORD_COLUMNS)
    if unknown:
        raise TypeError(f"not record columns: {sorted(unknown)}")
    return Record.from_columns({**base, **changes})
