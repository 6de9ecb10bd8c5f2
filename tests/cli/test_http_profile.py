"""``run --profile http``: what it refuses, each in one line, before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main

GOOD = """
[[cases]]
name = "c"
key = { by = "header", header = "X-Key" }
policy = { limit = 5, window = "1s" }
"""


def _refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ([], "needs --scenario FILE"),
        (["--scenario", "SCENARIO"], "needs --target URL"),
        (["--scenario", "SCENARIO", "--target", "http://192.0.2.1"], "not on loopback"),
        (["--scenario", "SCENARIO", "--target", "http://127.0.0.1:1", "--dry-run"], "--dry-run"),
        (["--scenario", "BAD", "--target", "http://127.0.0.1:1"], "cases[0].policy.limit"),
        (
            ["--scenario", "SCENARIO", "--target", "http://127.0.0.1:1", "--fail-fast"],
            "--fail-fast",
        ),
    ],
)
def test_a_refusal_is_one_line(
    extra: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(GOOD)
    bad.write_text(GOOD.replace("limit = 5", "limit = -1"))
    files = {"SCENARIO": str(good), "BAD": str(bad)}
    argv = ["run", "--profile", "http", "--out", str(tmp_path / "run")]
    argv += [files.get(value, value) for value in extra]
    assert words in _refusal(argv, capsys)
    assert not (tmp_path / "run").exists()  # refused before the run directory was made
