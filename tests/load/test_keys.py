"""Key plans: deterministic per run, distinct addresses, rotations, and source-IP shortages."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.load import keys as keys_module
from harness.load.keys import DEVICE_PROFILES, KeyPlan, is_loopback_host, plan_keys
from harness.load.scenario import Scenario, default_scenario_path, load_scenario, parse_scenario
from harness.load.schedule import slot_sender


def scenario_of(*cases: dict[str, Any]) -> Scenario:
    return parse_scenario({"cases": list(cases)})


def case(
    name: str, vary_by: str = "none", behaviour: dict[str, Any] | None = None, **population: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "behaviour": behaviour or {"kind": "hammer"},
        "population": population,
        "rate_limit": {"limit": 5, "duration": "1s", "vary_by": vary_by},
    }


def loopback(scenario: Scenario, run_id: str = "run-1", **options: Any) -> dict[str, list[KeyPlan]]:
    return plan_keys(scenario, run_id, target_host="127.0.0.1", **options)


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Host names resolve from a table, never from the network."""
    table = {"lb.test": ["127.0.0.1", "::1"], "remote.test": ["203.0.113.7"]}

    def resolve(host: str, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 0)) for ip in table[host]]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


@pytest.mark.usefixtures("names")
@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("::1", True),
        ("localhost", True),
        ("lb.test", True),
        ("10.0.0.1", False),
        ("remote.test", False),
    ],
)
def test_loopback_hosts_are_recognised(host: str, expected: bool) -> None:
    assert is_loopback_host(host) is expected


@pytest.mark.usefixtures("names")
def test_an_unresolvable_host_is_an_error_to_the_guard_and_remote_to_the_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keys_module, "local_source_addresses", lambda: ["192.0.2.10"])
    with pytest.raises(OSError, match="not known"):
        is_loopback_host("nowhere.test")
    case = {
        "name": "ip",
        "behaviour": {"kind": "hammer"},
        "population": {"keys": 1},  # a remote target: one address of this host per key
        "rate_limit": {"limit": 1, "duration": "1s", "vary_by": "ip"},
    }
    scenario = parse_scenario({"name": "s", "duration": "1s", "cases": [case]})

    def sources(host: str) -> set[str]:
        plans = plan_keys(scenario, "run-1", target_host=host)
        return {ip for key in plans["ip"] for ip in key.source_ips}

    assert all(ip.startswith("127.10.") for ip in sources("lb.test"))
    assert sources("nowhere.test") == sources("remote.test") == {"192.0.2.10"}


def test_plan_keys_is_deterministic_for_a_run_id() -> None:
    scenario = load_scenario(default_scenario_path())
    assert loopback(scenario, "run-1") == loopback(scenario, "run-1")


def test_another_run_id_gives_fresh_device_ids() -> None:
    scenario = load_scenario(default_scenario_path())
    first, second = loopback(scenario, "run-1"), loopback(scenario, "run-2")
    devices_1 = {d for plans in first.values() for plan in plans for d in plan.device_ids}
    devices_2 = {d for plans in second.values() for plan in plans for d in plan.device_ids}
    assert devices_1.isdisjoint(devices_2)


def test_every_device_id_of_a_run_is_distinct() -> None:
    scenario = load_scenario(default_scenario_path())
    devices = [d for plans in loopback(scenario).values() for p in plans for d in p.device_ids]
    assert len(devices) == len(set(devices))


def test_loopback_ip_keys_are_distinct_and_leave_127_0_0_free() -> None:
    scenario = scenario_of(case("a", "ip", keys=300), case("b", "ip", keys=5))
    plans = loopback(scenario)
    ips = [ip for case_plans in plans.values() for p in case_plans for ip in p.source_ips]
    assert len(ips) == 305
    assert len(set(ips)) == 305
    reserved = ipaddress.ip_network("127.0.0.0/24")
    for text in ips:
        address = ipaddress.ip_address(text)
        assert address.is_loopback
        assert address not in reserved
        assert text.rsplit(".", 1)[1] not in ("0", "255")
    assert all(p.key == p.source_ips[0] for case_plans in plans.values() for p in case_plans)


def test_key_values_follow_the_vary_mode() -> None:
    scenario = scenario_of(case("ip", "ip"), case("device", "device"), case("none"))
    plans = loopback(scenario)
    assert plans["ip"][0].key == plans["ip"][0].source_ips[0]
    assert plans["device"][0].key == plans["device"][0].device_ids[0]
    assert plans["device"][0].source_ips == ()  # not IP-keyed: the default source is shared
    assert plans["none"][0].key == ""


def test_profiles_cycle_through_the_device_profiles() -> None:
    plans = loopback(scenario_of(case("a", "device", keys=len(DEVICE_PROFILES) + 1)))["a"]
    assert [p.profile for p in plans] == [*DEVICE_PROFILES, DEVICE_PROFILES[0]]
    assert [p.index for p in plans] == list(range(len(DEVICE_PROFILES) + 1))


def test_a_burst_case_gets_keys_times_repeat_keys() -> None:
    burst = {"kind": "burst", "size": 3, "repeat": 4}
    plans = loopback(scenario_of(case("b", "device", behaviour=burst, keys=2)))["b"]
    assert len(plans) == 8
    assert len({p.key for p in plans}) == 8


def test_rotate_device_gives_rotate_values_device_ids() -> None:
    plans = loopback(scenario_of(case("r", "ip", keys=2, rotate="device", rotate_values=3)))["r"]
    for plan in plans:
        assert len(plan.device_ids) == 3
        assert len(set(plan.device_ids)) == 3
        assert len(plan.source_ips) == 1
        assert plan.key == plan.source_ips[0]


def test_rotate_ip_gives_rotate_values_source_ips() -> None:
    plans = loopback(scenario_of(case("r", "device", keys=2, rotate="ip", rotate_values=5)))["r"]
    ips = [ip for plan in plans for ip in plan.source_ips]
    assert [len(plan.source_ips) for plan in plans] == [5, 5]
    assert len(set(ips)) == 10
    assert all(plan.key == plan.device_ids[0] for plan in plans)
    assert all(len(plan.device_ids) == 1 for plan in plans)


def test_rotate_forwarded_for_spoofs_headers_but_keys_by_the_source_ip() -> None:
    scenario = scenario_of(case("r", "ip", keys=2, rotate="forwarded_for", rotate_values=4))
    plans = loopback(scenario)["r"]
    spoofs = [value for plan in plans for value in plan.forwarded_fors]
    assert [len(plan.forwarded_fors) for plan in plans] == [4, 4]
    assert len(set(spoofs)) == 8
    assert all(ipaddress.ip_address(s) in ipaddress.ip_network("198.18.0.0/15") for s in spoofs)
    for plan in plans:
        # Without --forwarded-for the target must count by the TCP source, not the spoofs.
        assert len(plan.source_ips) == 1
        assert plan.key == plan.source_ips[0]
        assert plan.key not in plan.forwarded_fors


def test_forwarded_for_moves_ip_keys_into_the_header() -> None:
    scenario = scenario_of(case("ip", "ip", keys=3), case("rot", "device", rotate="ip"))
    plans = loopback(scenario, forwarded_for=True)
    benchmark = ipaddress.ip_network("198.18.0.0/15")
    for plan in plans["ip"]:
        assert plan.source_ips == ()
        assert len(plan.forwarded_fors) == 1
        assert plan.key == plan.forwarded_fors[0]
        assert ipaddress.ip_address(plan.key) in benchmark
    rotated = plans["rot"][0]
    assert rotated.source_ips == ()
    assert len(rotated.forwarded_fors) == 4
    all_headers = [h for case_plans in plans.values() for p in case_plans for h in p.forwarded_fors]
    assert len(set(all_headers)) == len(all_headers)


def test_forwarded_for_needs_no_local_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_module, "local_source_addresses", list)
    scenario = scenario_of(case("ip", "ip", keys=3))
    plans = plan_keys(scenario, "r", target_host="aisk.example.com", forwarded_for=True)
    assert len({p.key for p in plans["ip"]}) == 3


def test_a_remote_target_uses_the_hosts_own_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_module, "local_source_addresses", lambda: ["10.0.0.2", "10.0.0.3"])
    plans = plan_keys(scenario_of(case("ip", "ip", keys=2)), "r", target_host="203.0.113.9")
    assert [p.source_ips for p in plans["ip"]] == [("10.0.0.2",), ("10.0.0.3",)]


def test_a_remote_target_short_of_source_ips_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keys_module, "local_source_addresses", lambda: ["10.0.0.2"])
    scenario = scenario_of(case("ip-keys", "ip", keys=2))
    with pytest.raises(ConfigError) as caught:
        plan_keys(scenario, "r", target_host="aisk.example.com")
    message = str(caught.value)
    assert "case 'ip-keys' needs 2 distinct source IPs" in message
    assert "has 1 non-loopback IPv4 addresses" in message
    assert "--forwarded-for" in message


def test_a_remote_target_needs_no_source_ips_for_device_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keys_module, "local_source_addresses", list)
    plans = plan_keys(scenario_of(case("d", "device", keys=3)), "r", target_host="example.com")
    assert [p.source_ips for p in plans["d"]] == [(), (), ()]


def test_local_source_addresses_are_sorted_non_loopback_ipv4() -> None:
    addresses = keys_module.local_source_addresses()
    assert addresses == sorted(set(addresses))
    for text in addresses:
        address = ipaddress.ip_address(text)
        assert address.version == 4
        assert not address.is_loopback


# -- the keys of a distributed run: planned over the workers' addresses ---------------------------

WORKERS = {"w0": ["10.0.1.1"], "w1": ["10.0.2.1"], "w2": ["10.0.3.1", "10.0.3.2", "10.0.3.3"]}


def over_workers(scenario: Scenario, senders: dict[str, list[str]]) -> dict[str, list[KeyPlan]]:
    return plan_keys(scenario, "r", target_host="203.0.113.9", senders=senders)


def test_ip_keys_go_round_the_workers_and_restart_with_every_case() -> None:
    scenario = scenario_of(case("a", "ip", keys=3), case("b", "ip", keys=2))
    plans = over_workers(scenario, WORKERS)
    assert [p.source_ips for p in plans["a"]] == [("10.0.1.1",), ("10.0.2.1",), ("10.0.3.1",)]
    # A case of its own (its own chatbot) may use an address again; the round goes on.
    assert [p.source_ips for p in plans["b"]] == [("10.0.1.1",), ("10.0.2.1",)]
    owners = [slot_sender([p], WORKERS) for p in plans["a"]]
    assert owners == ["w0", "w1", "w2"]


def test_a_rotation_takes_all_its_addresses_from_one_worker() -> None:
    rotating = case("rot", "device", keys=1, rotate="ip", rotate_values=3)
    plans = over_workers(scenario_of(rotating), WORKERS)
    assert plans["rot"][0].source_ips == ("10.0.3.1", "10.0.3.2", "10.0.3.3")
    assert slot_sender(plans["rot"], WORKERS) == "w2"


def test_a_rotation_no_worker_can_send_alone_is_a_config_error_naming_the_workers() -> None:
    rotating = case("rot", "device", keys=1, rotate="ip", rotate_values=4)
    with pytest.raises(ConfigError) as caught:
        over_workers(scenario_of(rotating), WORKERS)
    message = str(caught.value)
    assert "case 'rot' needs 4 source IPs on one worker" in message
    assert "w0 1, w1 1, w2 3" in message
    assert "--source-ip" in message


def test_more_ip_keys_than_worker_addresses_is_a_config_error_with_the_count() -> None:
    with pytest.raises(ConfigError, match=r"case 'a' needs 6 distinct source IPs but the workers "
                       r"have 5 \(w0 1, w1 1, w2 3\)"):  # fmt: skip
        over_workers(scenario_of(case("a", "ip", keys=6)), WORKERS)


def test_before_the_workers_join_ip_keys_have_no_address_and_device_keys_any_worker() -> None:
    scenario = scenario_of(case("a", "ip", keys=2), case("d", "device", keys=2))
    plans = over_workers(scenario, {})
    assert [p.source_ips for p in plans["a"]] == [("",), ("",)]
    assert [slot_sender([p], WORKERS) for p in plans["d"]] == [None, None]
    assert keys_module.needs_host_addresses("203.0.113.9", forwarded_for=False)
    assert not keys_module.needs_host_addresses("127.0.0.1", forwarded_for=False)
    assert not keys_module.needs_host_addresses("203.0.113.9", forwarded_for=True)
