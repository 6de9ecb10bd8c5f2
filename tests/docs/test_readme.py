"""The README stays a front door (issue 30): short, the two commands, a deployment run early,
and no diary of measurements (those go to bench/RESULTS.md)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()


def test_the_readme_is_short() -> None:
    assert len(README) <= 200


def test_the_two_commands_are_the_set_up() -> None:
    text = "\n".join(README)
    assert re.search(r"^make run\b", text, re.MULTILINE)
    assert re.search(r"^make test\b", text, re.MULTILINE)


def test_a_run_against_a_deployment_comes_within_the_first_80_lines() -> None:
    first = next(n for n, line in enumerate(README, 1) if "--target https://" in line)
    assert first <= 80


def test_no_commit_hash_or_round_by_round_timing_is_kept_in_it() -> None:
    text = "\n".join(README)
    assert not re.search(r"`[0-9a-f]{7,40}`", text)
    assert "rounds" not in text
