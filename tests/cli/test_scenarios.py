"""``aisk-harness scenarios``, and ``run --scenario`` given a name or a file it cannot read."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli.main import main
from harness.load.scenario import default_scenario_path


def test_scenarios_lists_each_built_in_one_on_a_line_and_prints_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "compare"
    assert lines[1].startswith("default  40s, ")
    assert lines[1].endswith("cases: The built-in conformance scenario")
    assert main(["scenarios", "default"]) == 0
    assert capsys.readouterr().out == default_scenario_path().read_text(encoding="utf-8")


def test_scenarios_of_an_unknown_name_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "defualt"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "aisk-harness scenarios: error: NAME 'defualt': no built-in scenario of that name "
        "(built-in: compare, default, perf; `aisk-harness scenarios` lists them)\n"
    )


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("nope", "neither a built-in scenario (built-in: compare, default, perf;"),
        (b'name = "caf\xe9"\n', "not UTF-8 text (byte 0xe9 at offset 11)"),
    ],
)
def test_a_scenario_run_cannot_read_is_one_line_and_exit_2(
    content: str | bytes,
    named: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = content
    if isinstance(content, bytes):
        scenario = str(tmp_path / "latin.toml")
        Path(scenario).write_bytes(content)
    assert main(["run", "--scenario", str(scenario), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aisk-harness run: error: ")
    assert named in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()
