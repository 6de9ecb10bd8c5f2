"""``python -m harness.cli.after_stop RUN_DIR``: its last line is what the web UI shows, a
verdict line or ``not judged: <why>`` (the judged path: tests/locust/test_plain_locust.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testkit import clean_env


def after_stop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.after_stop", *args], capture_output=True, text=True,
        timeout=120, check=False, env=clean_env(),
    )  # fmt: skip


def test_a_directory_that_cannot_be_judged_ends_with_one_not_judged_line(tmp_path: Path) -> None:
    done = after_stop(str(tmp_path / "nowhere"))
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("not judged: RUN_DIR ")
    assert "is not a directory" in lines[-1]
    assert "Traceback" not in done.stdout + done.stderr


def test_without_a_directory_it_says_its_usage() -> None:
    done = after_stop()
    assert done.returncode == 2
    assert done.stdout.splitlines()[-1] == (
        "not judged: usage: python -m harness.cli.after_stop RUN_DIR"
    )
