"""The step log of a stepped load: the users of each step, and the file the analysis reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.run.step_log import (
    STEP_LOG_FILE,
    StepLog,
    StepSpan,
    read_step_log,
    step_users,
    write_step_log,
)


def test_steps_grow_by_the_step_and_always_end_at_the_maximum() -> None:
    assert step_users(2, 8) == [2, 4, 6, 8]
    assert step_users(3, 8) == [3, 6, 8]
    assert step_users(5, 5) == [5]
    with pytest.raises(ValueError, match="step"):
        step_users(4, 2)


def test_a_step_log_round_trips_and_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    log = StepLog(
        step_duration_ns=3_000_000_000,
        planned_users=[1, 2],
        steps=[
            StepSpan(index=0, users=1, start_ns=10, end_ns=20),
            StepSpan(index=1, users=2, start_ns=20),
        ],
    )
    write_step_log(tmp_path, log)
    assert read_step_log(tmp_path) == log
    assert [p.name for p in tmp_path.iterdir()] == [STEP_LOG_FILE]  # no temporary left behind
    with pytest.raises(ConfigError, match="holds no stepped load"):
        read_step_log(tmp_path / "elsewhere")
    (tmp_path / STEP_LOG_FILE).write_text("{")
    with pytest.raises(ConfigError, match="cannot read"):
        read_step_log(tmp_path)
    (tmp_path / STEP_LOG_FILE).write_text('{"step_duration_ns": 0, "planned_users": []}')
    with pytest.raises(ConfigError, match="not a step log"):
        read_step_log(tmp_path)
