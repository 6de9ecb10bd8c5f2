"""RunSettings: every run option checked at the edge, the keys planned once, written and read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main
from harness.errors import ConfigError
from harness.load.options import RUN_OPTIONS
from harness.load.settings import (
    MAX_LABEL_CHARS,
    RunSettings,
    read_settings,
    run_settings,
    write_settings,
)


def cli(name: str) -> str:
    return f"--{name}"


def locust(name: str) -> str:
    return f"--aisk-{name}"


def settings(tmp_path: Path, spell: Any = cli, **values: object) -> RunSettings:
    options: dict[str, object] = {option.name: None for option in RUN_OPTIONS}
    options.update({name.replace("_", "-"): value for name, value in values.items()})
    return run_settings(
        options, spell=spell, run_id="run-1", run_dir=tmp_path, target="http://127.0.0.1:9"
    )


def test_the_defaults_make_the_built_in_run(tmp_path: Path) -> None:
    made = settings(tmp_path)
    assert made.request_timeout_s == 30.0
    assert made.ready_timeout_s == 300.0
    assert made.org_timezone == "Asia/Taipei"
    assert made.budget.max_requests is None
    assert len(made.slots) == sum(case.population.keys for case in made.scenario.cases)
    assert len(made.shares) == len(made.slots)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"request_timeout": 0}, "request-timeout"),
        ({"request_timeout": -1}, "request-timeout"),
        ({"request_timeout": "soon"}, "request-timeout"),
        ({"max_requests": 0}, "max-requests"),
        ({"max_rps": 0}, "max-rps"),
        ({"max_rps": float("inf")}, "max-rps"),
        ({"users": 0}, "users"),
        ({"duration": "5x"}, "duration"),
        ({"duration": "0s"}, "duration"),
        ({"ready_timeout": "0s"}, "ready-timeout"),
        ({"org_timezone": "Mars/Base"}, "org-timezone"),
        ({"label": "two\nlines"}, "label"),
        ({"label": "   "}, "label"),
        ({"label": "x" * (MAX_LABEL_CHARS + 1)}, "label"),
    ],
)
@pytest.mark.parametrize("spell", [cli, locust], ids=["aisk-harness", "locust"])
def test_a_bad_value_names_the_option_as_it_was_spelled(
    tmp_path: Path, values: dict[str, object], named: str, spell: Any
) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(tmp_path, spell, **values)
    assert str(caught.value).startswith(spell(named))
    assert "\n" not in str(caught.value)


def test_an_empty_form_field_is_no_value(tmp_path: Path) -> None:
    # Locust's web UI sends every field, empty ones as "".
    made = settings(tmp_path, locust, max_requests="", max_rps="", label="", request_timeout="")
    assert (made.budget.max_requests, made.budget.max_rps, made.label) == (None, None, None)
    assert made.request_timeout_s == 30.0


def test_a_label_is_one_stripped_line(tmp_path: Path) -> None:
    assert settings(tmp_path, label=" v1.4.2 ").label == "v1.4.2"


def test_the_keys_are_planned_from_the_run_id(tmp_path: Path) -> None:
    first, again = settings(tmp_path), settings(tmp_path)
    assert first.keys == again.keys
    ip_case = first.keys["ip-open"]
    assert len({key.key for key in ip_case}) == len(ip_case)


def test_settings_read_back_equal(tmp_path: Path) -> None:
    made = settings(tmp_path, duration="3s", users=2, max_rps=50.0, label="v1")
    path = write_settings(tmp_path, made)
    assert read_settings(path) == made
    assert read_settings(path).slots == made.slots


def test_a_bad_settings_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"run_id": ""}')
    with pytest.raises(ConfigError, match=r"settings\.json is not the settings of a run"):
        read_settings(path)


@pytest.mark.parametrize("command", ["run", "capacity"])
def test_a_bad_label_stops_the_command_before_any_load(
    command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([command, "--label", "two\nlines", "--out", str(tmp_path / "run")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"aisk-harness {command}: error: --label 'two\\nlines'")
    assert not (tmp_path / "run").exists()
