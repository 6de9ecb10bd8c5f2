"""Slots: one per key (one per population key for a burst), so one process sends each key."""

from __future__ import annotations

from typing import Any

from harness.load.keys import plan_keys
from harness.load.scenario import Scenario, parse_scenario
from harness.load.schedule import Slot, SlotDispenser, build_slots


def scenario() -> Scenario:
    rate_limit = {"limit": 5, "duration": "1s", "vary_by": "device"}
    cases: list[dict[str, Any]] = [
        {
            "name": "hammer",
            "behaviour": {"kind": "hammer"},
            "population": {"keys": 3, "users_per_key": 4},
            "rate_limit": rate_limit,
        },
        {
            "name": "burst",
            "behaviour": {"kind": "burst", "size": 10, "repeat": 3},
            "population": {"keys": 2, "users_per_key": 5},
            "rate_limit": rate_limit,
            "duration": "7s",
        },
        {"name": "paced", "behaviour": {"kind": "paced", "rate": 2.0}},
    ]
    return parse_scenario({"duration": "20s", "cases": cases})


def slots() -> tuple[Scenario, list[Slot]]:
    run = scenario()
    return run, build_slots(run, plan_keys(run, "run-1", target_host="127.0.0.1"))


def test_one_slot_per_key_and_one_per_burst_population_key() -> None:
    _, built = slots()
    assert [slot.case.name for slot in built] == ["hammer"] * 3 + ["burst"] * 2 + ["paced"]


def test_slot_indices_are_0_to_n_minus_1() -> None:
    _, built = slots()
    assert [slot.index for slot in built] == list(range(6))


def test_a_plain_slot_holds_its_one_key_in_index_order() -> None:
    _, built = slots()
    hammer = [slot for slot in built if slot.case.name == "hammer"]
    assert [len(slot.keys) for slot in hammer] == [1, 1, 1]
    assert [slot.keys[0].index for slot in hammer] == [0, 1, 2]


def test_a_burst_slot_holds_repeat_fresh_keys() -> None:
    run, built = slots()
    plans = plan_keys(run, "run-1", target_host="127.0.0.1")["burst"]
    burst = [slot for slot in built if slot.case.name == "burst"]
    assert [slot.keys for slot in burst] == [tuple(plans[0:3]), tuple(plans[3:6])]
    every_key = [key.key for slot in burst for key in slot.keys]
    assert len(set(every_key)) == 6


def test_clients_are_users_per_key_but_one_for_a_burst() -> None:
    _, built = slots()
    assert {slot.case.name: slot.clients for slot in built} == {
        "hammer": 4,
        "burst": 1,
        "paced": 1,
    }


def test_each_slot_carries_its_case_duration() -> None:
    _, built = slots()
    assert {slot.case.name: slot.duration_ns for slot in built} == {
        "hammer": 20 * 10**9,
        "burst": 7 * 10**9,
        "paced": 20 * 10**9,
    }


def test_a_worker_takes_its_own_slots_first_then_anyones_never_anothers() -> None:
    dispenser = SlotDispenser(["w0", None, "w1", "w0", None])
    claim = dispenser.next

    assert [claim("w0"), claim("w0"), claim("w0")] == [0, 3, 1]
    assert claim("w2") == 4  # no slot of its own: the next any-worker slot
    assert claim("w2") == -1  # w1's slot is w1's alone
    assert claim("w1") == 2
    assert claim(None) == -1
    assert dispenser.taken == {0, 1, 2, 3, 4}


def test_a_local_run_takes_the_slots_in_order_once_each() -> None:
    dispenser = SlotDispenser([None, None, None])
    assert [dispenser.next(None) for _ in range(4)] == [0, 1, 2, -1]
