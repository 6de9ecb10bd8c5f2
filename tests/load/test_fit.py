"""A scenario fitted to the source addresses there are: what one host can exercise, it does;
what needs more addresses is planned away with its reason."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import ConfigError
from harness.load.fit import fit_keys
from harness.load.keys import THIS_HOST
from harness.load.scenario import Scenario, default_scenario_path, load_scenario, parse_scenario

REMOTE = "203.0.113.9"


def host(*addresses: str) -> dict[str, list[str]]:
    return {THIS_HOST: list(addresses)}


def test_the_built_in_scenario_runs_from_one_address_without_what_needs_two() -> None:
    scenario = load_scenario(default_scenario_path())
    fitted = fit_keys(scenario, "run-1", target_host=REMOTE, senders=host("10.0.0.2"))
    cases = {case.name: case for case in fitted.scenario.cases}
    # Every case that one address can run still runs, IP-keyed ones with one key.
    assert set(cases) == {case.name for case in scenario.cases} - {"device-seen-from-many-ips"}
    for name in ("ip-open", "ip-with-many-devices", "ip-spoofed-forwarded-for"):
        assert cases[name].population.keys == 1
        assert [key.source_ips for key in fitted.keys[name]] == [("10.0.0.2",)]
    assert cases["device-open"] == next(c for c in scenario.cases if c.name == "device-open")
    assert [away.describe() for away in fitted.planned_away] == [
        "vary-isolation (distinct IP keys keep their own budgets, case 'ip-open'): skipped: "
        "needs 2 source addresses, this host has 1",
        "vary-isolation (one device seen from several IPs keeps one budget, case "
        "'device-seen-from-many-ips'): skipped: needs 2 source addresses, this host has 1",
    ]
    assert fitted.cut[0] == ("case 'ip-open': 1 key of 4 keys (source addresses: this host has 1)")
    assert "case 'device-seen-from-many-ips': not run (source addresses: this host has 1)" in (
        fitted.cut
    )


def test_two_addresses_keep_every_check_with_fewer_keys_and_rotations() -> None:
    scenario = load_scenario(default_scenario_path())
    two = host("10.0.0.2", "10.0.0.3")
    fitted = fit_keys(scenario, "run-1", target_host=REMOTE, senders=two)
    cases = {case.name: case for case in fitted.scenario.cases}
    assert len(cases) == len(scenario.cases)
    assert fitted.planned_away == ()
    assert cases["ip-open"].population.keys == 2
    rotating = cases["device-seen-from-many-ips"].population
    assert (rotating.keys, rotating.rotate_values) == (1, 2)
    assert fitted.keys["device-seen-from-many-ips"][0].source_ips == ("10.0.0.2", "10.0.0.3")


def test_enough_addresses_or_a_loopback_target_change_nothing() -> None:
    scenario = load_scenario(default_scenario_path())
    many = host(*(f"10.0.0.{n}" for n in range(2, 12)))
    for fitted in (
        fit_keys(scenario, "r", target_host=REMOTE, senders=many),
        fit_keys(scenario, "r", target_host="127.0.0.1"),
    ):
        assert fitted.scenario == scenario
        assert (fitted.planned_away, fitted.cut) == ((), ())


def ip_case(name: str, behaviour: dict[str, Any], **population: Any) -> dict[str, Any]:
    return {
        "name": name,
        "behaviour": behaviour,
        "population": population,
        "rate_limit": {"limit": 5, "duration": "1s", "vary_by": "ip"},
    }


def test_without_an_address_ip_cases_are_planned_away_and_the_others_run() -> None:
    scenario: Scenario = parse_scenario(
        {
            "cases": [
                ip_case("ip", {"kind": "hammer"}, keys=2),
                ip_case("shot", {"kind": "burst", "size": 8, "repeat": 3}),
                {"name": "device", "behaviour": {"kind": "hammer"}},
            ]
        }
    )
    fitted = fit_keys(scenario, "r", target_host=REMOTE, senders=host())
    assert [case.name for case in fitted.scenario.cases] == ["device"]
    assert [(a.check, a.case, a.reason) for a in fitted.planned_away] == [
        ("over-admission", "ip", "needs 1 source address, this host has 0"),
        ("concurrency", "shot", "needs 1 source address, this host has 0"),
    ]
    only_ip = parse_scenario({"cases": [ip_case("ip", {"kind": "hammer"})]})
    with pytest.raises(ConfigError, match="no case of the scenario can run"):
        fit_keys(only_ip, "r", target_host=REMOTE, senders=host())


def test_a_burst_on_ip_keys_repeats_as_often_as_there_are_addresses() -> None:
    scenario = parse_scenario(
        {"cases": [ip_case("shot", {"kind": "burst", "size": 8, "repeat": 5})]}
    )
    fitted = fit_keys(scenario, "r", target_host=REMOTE, senders=host("10.0.0.2", "10.0.0.3"))
    (case,) = fitted.scenario.cases
    assert case.behaviour.kind == "burst"
    assert case.behaviour.repeat == 2
    assert fitted.planned_away == ()


def test_a_case_gets_as_many_ip_keys_as_there_are_addresses() -> None:
    scenario = parse_scenario({"cases": [ip_case("ip", {"kind": "hammer"}, keys=200)]})
    three = host("10.0.0.2", "10.0.0.3", "10.0.0.4")
    fitted = fit_keys(scenario, "r", target_host=REMOTE, senders=three)
    assert [len(keys) for keys in fitted.keys.values()] == [3]
    assert fitted.cut == ("case 'ip': 3 keys of 200 keys (source addresses: this host has 3)",)
    assert fitted.planned_away == ()
