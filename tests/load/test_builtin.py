"""Built-in scenarios by name: a name that is one, a path otherwise, one line when neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.load.builtin import builtin_scenario, builtin_scenarios, scenario_path
from harness.load.scenario import default_scenario_path, load_scenario
from harness.load.settings import scenario_of

SHIPPED = Path(__file__).resolve().parents[2] / "harness" / "load" / "scenarios"


def test_every_shipped_scenario_is_built_in_and_says_what_it_is_for() -> None:
    found = builtin_scenarios()
    assert list(found) == sorted(path.stem for path in SHIPPED.glob("*.toml"))
    assert {"default", "compare"} <= found.keys()
    for scenario in found.values():
        # the headline of the file's own comment, and the scenario read as a run reads it
        assert scenario.summary not in ("", "(no description)")
        assert "\n" not in scenario.describe()
    assert found["default"].summary == "The built-in conformance scenario"
    assert found["compare"].describe().startswith("30s, 3 cases: A scenario for comparing")


def test_a_name_is_a_built_in_scenario_and_anything_else_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert scenario_path(None) == default_scenario_path()
    assert scenario_path("compare") == SHIPPED / "compare.toml"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").write_text("")
    assert scenario_path("mine") == Path("mine")  # not a built-in: a file of that name
    (tmp_path / "compare.toml").write_text("")
    assert scenario_path("compare.toml") == Path("compare.toml")  # .toml: a path
    (tmp_path / "compare").write_text("")
    assert scenario_path("compare") == SHIPPED / "compare.toml"  # the built-in comes first
    assert scenario_path("./compare") == Path("compare")


@pytest.mark.parametrize("value", ["compre", "nothere.toml", "dir/compare"])
def test_neither_a_built_in_nor_a_file_is_one_line_listing_the_names(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        scenario_path(value, "--aisk-scenario")
    message = str(caught.value)
    assert message.startswith(f"--aisk-scenario {value!r}: neither a built-in scenario")
    assert "built-in: compare, default, perf" in message
    assert "\n" not in message


def test_the_scenario_option_takes_a_name() -> None:
    scenario = scenario_of({"scenario": "compare", "duration": "3s"}, lambda name: f"--{name}")
    assert scenario.name == "compare"
    assert scenario.duration == "3s"
    with pytest.raises(ConfigError, match=r"^--scenario 'nope': neither"):
        scenario_of({"scenario": "nope"}, lambda name: f"--{name}")


def test_an_unknown_name_to_print_lists_the_names() -> None:
    assert builtin_scenario("default").path == default_scenario_path()
    with pytest.raises(
        ConfigError, match=r"^NAME 'x': no built-in scenario .*compare, default, perf"
    ):
        builtin_scenario("x", "NAME")


def test_a_byte_order_mark_is_accepted_and_text_that_is_not_utf8_is_named(
    tmp_path: Path,
) -> None:
    text = default_scenario_path().read_text(encoding="utf-8")
    marked = tmp_path / "bom.toml"
    marked.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_scenario(marked) == load_scenario(default_scenario_path())
    latin = tmp_path / "latin.toml"
    french = text.replace("Slow down, please", "Ralentissez s'il vous plaît")
    latin.write_bytes(french.encode("latin-1"))  # one byte a character: offsets are indices
    with pytest.raises(ConfigError) as caught:
        load_scenario(latin)
    offset = french.index("Ralentissez") + len("Ralentissez s'il vous pla")
    assert str(caught.value) == (
        f"{latin}: not UTF-8 text (byte 0xee at offset {offset}); save the scenario as UTF-8"
    )
