"""The http scenario file: what it accepts, and one line naming the field for what it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.profiles.http.plan import NOT_APPLICABLE, http_keys, http_plan
from harness.profiles.http.scenario import load_http_scenario, parse_http_scenario

CASE = {"name": "c", "policy": {"limit": 5, "window": "1s"}, "key": {"header": "X-Key"}}


def _error(document: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_http_scenario(document, "s.toml")
    return str(raised.value)


def test_the_committed_nginx_scenario_reads() -> None:
    path = Path(__file__).parent / "configs" / "nginx.toml"
    scenario = load_http_scenario(path)
    assert [case.name for case in scenario.cases] == ["by-header", "by-address"]
    assert scenario.cases[0].throttle.status == 429


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"policy": {"limit": 0, "window": "1s"}}, "cases[0].policy.limit"),
        ({"policy": {"limit": 5, "window": "soon"}}, "cases[0].policy.window"),
        ({"key": {"by": "header"}}, "cases[0].key"),
        ({"request": {"path": "no-slash"}}, "cases[0].request.path"),
        ({"throttle": {"wait": "sometimes"}}, "cases[0].throttle.wait"),
        ({"behaviour": "paced"}, "cases[0]"),
        ({"colour": "blue"}, "cases[0].colour"),
    ],
)
def test_a_bad_field_is_one_line_naming_it(change: dict[str, object], field: str) -> None:
    message = _error({"cases": [{**CASE, **change}]})
    assert "\n" not in message
    assert field in message


def test_two_cases_of_one_name_are_refused() -> None:
    assert "used twice" in _error({"cases": [CASE, CASE]})


def test_source_address_keys_are_distinct_loopback_addresses_across_cases() -> None:
    by_address = {**CASE, "key": {"by": "source-address"}, "keys": 3}
    scenario = parse_http_scenario(
        {"cases": [{**by_address, "name": "a"}, {**by_address, "name": "b"}]}
    )
    keys = http_keys(scenario)
    addresses = [key.source_ip for case in ("a", "b") for key in keys[case]]
    assert addresses == [f"127.0.0.{n}" for n in range(2, 8)]
    assert all(key.judged == key.value == key.source_ip for key in keys["a"])


def test_a_policy_without_vary_judges_every_key_as_one_budget() -> None:
    scenario = parse_http_scenario(
        {"cases": [{**CASE, "keys": 2, "policy": {"limit": 5, "window": "1s", "vary": "none"}}]}
    )
    keys = http_keys(scenario)["c"]
    assert [key.value for key in keys] == ["c-k0", "c-k1"]  # still sent
    assert [key.judged for key in keys] == ["", ""]
    plan = http_plan(scenario, {"c": keys}, run_id="r", target="http://x", versions={})
    assert plan.cases[0].case.rate_limit is not None
    assert plan.cases[0].case.rate_limit.vary_by == "none"


def test_the_plan_marks_the_chatbot_checks_and_a_missing_wait_not_applicable() -> None:
    scenario = parse_http_scenario({"cases": [{**CASE, "throttle": {"wait": "none"}}]})
    plan = http_plan(scenario, http_keys(scenario), run_id="r", target="http://x", versions={})
    assert set(plan.not_applicable) == {*NOT_APPLICABLE, "wait-honesty"}
    assert plan.wait_resolution_ns is None
    with_wait = parse_http_scenario({"cases": [CASE]})
    plan = http_plan(with_wait, http_keys(with_wait), run_id="r", target="http://x", versions={})
    assert "wait-honesty" not in plan.not_applicable
    assert plan.wait_resolution_ns == 1_000_000_000  # Retry-After counts whole seconds


def test_one_declared_family_for_every_case() -> None:
    bucket = {**CASE, "policy": {"limit": 5, "window": "1s", "family": "token-bucket"}}
    counter = {**CASE, "name": "d", "policy": {"limit": 5, "window": "1s", "family": "sliding-log"}}
    assert "one family for every case" in _error({"cases": [bucket, counter]})
    scenario = parse_http_scenario({"cases": [bucket]})
    plan = http_plan(scenario, http_keys(scenario), run_id="r", target="http://x", versions={})
    assert plan.declared_family == "token-bucket"
