"""Scenario files: the built-in one loads, and every error names the field and what it expects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.load.scenario import (
    Burst,
    Open,
    Polite,
    Scenario,
    default_scenario_path,
    load_scenario,
    parse_scenario,
)
from harness.load.settings import with_overrides


def case(name: str = "c", **fields: Any) -> dict[str, Any]:
    return {"name": name, "behaviour": {"kind": "hammer"}, **fields}


def limit(value: int = 5, duration: str = "2s", **fields: Any) -> dict[str, Any]:
    return {"limit": value, "duration": duration, **fields}


def error_of(document: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_scenario(document, "s.toml")
    return str(caught.value)


def test_the_built_in_scenario_loads() -> None:
    scenario = load_scenario(default_scenario_path())
    # The conformance checks need each of these probes; the scenario must keep offering them.
    kinds = {c.behaviour.kind for c in scenario.cases}
    # Open schedules, not closed loops: a closed loop on a slow target never reaches its limit.
    assert kinds == {"open", "polite", "burst"}
    assert {c.population.rotate for c in scenario.cases} == {
        "none",
        "ip",
        "device",
        "forwarded_for",
    }
    bursts = [c.behaviour for c in scenario.cases if isinstance(c.behaviour, Burst)]
    assert {b.concurrent for b in bursts} == {True, False}
    assert any(c.quota is not None for c in scenario.cases)
    assert any(c.rate_limit and c.rate_limit.duration_ns >= 60 * 10**9 for c in scenario.cases)
    assert scenario.duration_ns == 40 * 10**9
    assert {c.vary_mode for c in scenario.cases} == {"ip", "device", "none"}
    by_name = {c.name: c for c in scenario.cases}
    assert isinstance(by_name["concurrent-burst"].behaviour, Burst)
    assert isinstance(by_name["device-polite"].behaviour, Polite)
    chatbot_open = by_name["chatbot-open"].behaviour
    assert isinstance(chatbot_open, Open)
    assert chatbot_open.rate == 1.5  # a fixed rate over the whole chatbot, not a multiple
    ip_open = by_name["ip-open"].behaviour
    assert isinstance(ip_open, Open)
    assert ip_open.arrivals == "poisson"
    quota = by_name["quota-open"].quota
    assert quota is not None
    assert quota.limit == 60
    rate_limit = by_name["device-open"].rate_limit
    assert rate_limit is not None
    # Windows long enough that an answer of several seconds still leaves power (README).
    assert rate_limit.duration_ns == 10 * 10**9


def test_a_minimal_scenario_gets_the_documented_defaults() -> None:
    scenario = parse_scenario({"cases": [case()]})
    only = scenario.cases[0]
    assert scenario.duration == "60s"
    assert only.population.keys == 1
    assert only.population.users_per_key == 1
    assert only.population.rotate == "none"
    assert only.vary_mode == "none"
    assert only.rate_limit is None


def test_case_durations_override_the_scenario_duration() -> None:
    scenario = parse_scenario({"duration": "10s", "cases": [case("a"), case("b", duration="1m")]})
    assert [scenario.case_duration_ns(c) for c in scenario.cases] == [10 * 10**9, 60 * 10**9]
    assert scenario.duration_ns == 60 * 10**9


def test_a_case_wait_granularity_overrides_the_scenario_wide_one() -> None:
    scenario = parse_scenario(
        {
            "wait_granularity": "1s",
            "cases": [case("a"), case("b", wait_granularity="10ms")],
        }
    )
    assert [scenario.wait_granularity_ns(c) for c in scenario.cases] == [10**9, 10**7]
    plain = parse_scenario({"cases": [case("a")]})
    assert plain.wait_granularity_ns(plain.cases[0]) == 0
    message = error_of({"cases": [case(wait_granularity="0s")]})
    assert message.startswith("s.toml: cases[0].wait_granularity: ")


def test_a_bad_limit_names_the_field_path() -> None:
    message = error_of({"cases": [case("a"), case("b", rate_limit=limit(0))]})
    assert message.startswith("s.toml: cases[1].rate_limit.limit: ")
    assert "greater than or equal to 1" in message
    assert "(got 0)" in message


def test_an_unknown_field_is_reported_as_unknown() -> None:
    message = error_of({"cases": [case(bogus=1)]})
    assert message == "s.toml: cases[0].bogus: unknown field"


def test_a_bad_go_duration_is_named() -> None:
    message = error_of({"cases": [case(rate_limit=limit(duration="1x"))]})
    assert message.startswith("s.toml: cases[0].rate_limit.duration: ")
    assert "unknown unit 'x'" in message
    assert "(got '1x')" in message


def test_a_zero_duration_is_refused() -> None:
    message = error_of({"duration": "0s", "cases": [case()]})
    assert message.startswith("s.toml: duration: ")
    assert "greater than zero" in message


def test_a_bad_duration_inside_a_behaviour_skips_the_union_tag() -> None:
    document = {"cases": [case(behaviour={"kind": "burst", "size": 2, "interval": "2q"})]}
    message = error_of(document)
    assert message.startswith("s.toml: cases[0].behaviour.interval: ")


def test_duplicate_case_names_are_refused() -> None:
    message = error_of({"cases": [case("same"), case("same")]})
    assert "'same' is used twice" in message


@pytest.mark.parametrize("name", ["Bad_Name", "", "-leading", "a" * 64, "has space"])
def test_a_bad_case_name_says_what_is_allowed(name: str) -> None:
    message = error_of({"cases": [case(name)]})
    assert message.startswith("s.toml: cases[0].name: ")
    assert "lowercase letters, digits and '-'" in message


@pytest.mark.parametrize("attribute", ["device", "ip"])
def test_rotating_the_key_itself_is_refused(attribute: str) -> None:
    document = {
        "cases": [
            case(population={"rotate": attribute}, rate_limit=limit(vary_by=attribute)),
        ]
    }
    message = error_of(document)
    assert message.startswith("s.toml: cases[0]: ")
    assert f"population.rotate = '{attribute}' cannot vary the key itself" in message


def test_rotating_the_other_attribute_is_allowed() -> None:
    document = {"cases": [case(population={"rotate": "device"}, rate_limit=limit(vary_by="ip"))]}
    assert parse_scenario(document).cases[0].population.rotate == "device"


def test_an_unknown_behaviour_kind_lists_the_known_ones() -> None:
    message = error_of({"cases": [case(behaviour={"kind": "stampede"})]})
    assert message.startswith("s.toml: cases[0].behaviour: ")
    assert "'stampede'" in message
    for kind in ("hammer", "paced", "polite", "burst"):
        assert f"'{kind}'" in message


def test_every_problem_gets_its_own_line() -> None:
    message = error_of({"cases": [case(rate_limit=limit(0, "1x"))]})
    lines = message.splitlines()
    assert len(lines) == 2
    assert {line.split(": ")[1] for line in lines} == {
        "cases[0].rate_limit.limit",
        "cases[0].rate_limit.duration",
    }


def test_a_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="cannot read scenario file") as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)


def test_invalid_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("name = \n[[cases]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_file_error_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[cases]]\nname = "a"\nbehaviour = { kind = "paced", rate = 0 }\n')
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: cases[0].behaviour.rate: ")


def default() -> Scenario:
    return load_scenario(default_scenario_path())


def test_with_overrides_replaces_every_duration() -> None:
    original = parse_scenario({"duration": "40s", "cases": [case("a"), case("b", duration="5s")]})
    changed = with_overrides(original, duration="3s")
    assert [changed.case_duration_ns(c) for c in changed.cases] == [3 * 10**9, 3 * 10**9]
    assert original.case_duration_ns(original.cases[1]) == 5 * 10**9  # the original is untouched


def test_with_overrides_replaces_users_per_key_and_keeps_the_rest() -> None:
    original = default()
    changed = with_overrides(original, clients_per_key=7)
    assert [c.population.users_per_key for c in changed.cases] == [7] * len(original.cases)
    assert [c.population.keys for c in changed.cases] == [c.population.keys for c in original.cases]
    assert [c.rate_limit for c in changed.cases] == [c.rate_limit for c in original.cases]
    assert changed.duration == original.duration


def test_with_no_overrides_the_scenario_is_unchanged() -> None:
    original = default()
    assert with_overrides(original) == original


def test_a_bad_override_duration_names_the_command_line() -> None:
    with pytest.raises(ConfigError) as caught:
        with_overrides(default(), duration="1x")
    assert str(caught.value).startswith("command line (--duration/--users): duration: ")


def test_a_bad_override_users_is_revalidated() -> None:
    with pytest.raises(ConfigError, match=r"cases\[0\]\.population\.users_per_key"):
        with_overrides(default(), clients_per_key=0)
