"""``--label`` of ``run`` and ``capacity``: one printable line, refused before any load."""

from __future__ import annotations

import pytest

from harness.cli.load_job import MAX_LABEL_CHARS, label_locust_args
from harness.cli.main import main
from harness.errors import ConfigError


def test_a_label_travels_as_the_locust_option() -> None:
    assert label_locust_args(None) == []
    assert label_locust_args(" v1.4.2 ") == ["--aisk-label", "v1.4.2"]


@pytest.mark.parametrize("label", ["", "   ", "a\nb", "x" * (MAX_LABEL_CHARS + 1)])
def test_a_bad_label_is_refused(label: str) -> None:
    with pytest.raises(ConfigError, match=r"--label .*: expected 1 to 100 printable characters"):
        label_locust_args(label)


@pytest.mark.parametrize("command", ["run", "capacity"])
def test_a_bad_label_stops_the_command_before_any_load(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--label", "two\nlines"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"aisk-harness {command}: error: --label 'two\\nlines'")
