"""The check registry: each check declared once, iterated in its place, duplicates refused."""

from __future__ import annotations

import pytest

from harness.conformance import CHECK_IDS, CHECKS, UnknownCheckError, require_checks
from harness.conformance.context import CheckContext
from harness.conformance.findings import Finding, Outcome
from harness.conformance.registry import Registry
from harness.emulator import FAULTS


def passing(_: CheckContext) -> Finding:
    return Finding(Outcome.PASS, "fine")


def test_the_verdict_order_is_the_one_the_readme_table_lists() -> None:
    assert CHECK_IDS == (
        "well-formed", "throttle-metadata", "burst", "over-admission", "under-admission",
        "wait-honesty", "vary-isolation", "concurrency", "quota", "settings-roundtrip", "access",
    )  # fmt: skip
    assert [entry.id for entry in CHECKS] == list(CHECK_IDS)
    assert [entry.number for entry in CHECKS] == list(range(1, len(CHECK_IDS) + 1))
    assert all(entry.title for entry in CHECKS)


def test_checks_are_iterated_by_their_number_whatever_the_order_they_registered_in() -> None:
    registry = Registry()
    for number, check_id in ((3, "c"), (1, "a"), (2, "b")):
        registry.check(number, check_id, check_id.upper())(passing)
    assert registry.ids == ("a", "b", "c")
    assert [entry.title for entry in registry] == ["A", "B", "C"]


def test_the_decorator_returns_the_check_itself() -> None:
    registry = Registry()
    assert registry.check(1, "a", "A")(passing) is passing
    assert next(iter(registry)).judge is passing


@pytest.mark.parametrize(
    ("number", "check_id", "refusal"),
    [(2, "a", "check id 'a' is registered twice"), (1, "b", "check 'b': number 1 is taken by 'a'")],
)
def test_an_id_or_a_place_registered_twice_is_refused(
    number: int, check_id: str, refusal: str
) -> None:
    registry = Registry()
    registry.check(1, "a", "A")(passing)
    with pytest.raises(ValueError, match=refusal):
        registry.check(number, check_id, "Again")(passing)
    assert registry.ids == ("a",)


def test_every_fault_of_the_emulator_names_a_registered_check() -> None:
    require_checks({fault.name: fault.caught_by for fault in FAULTS.values()})


def test_a_name_no_check_is_registered_under_is_refused_with_both_names() -> None:
    with pytest.raises(UnknownCheckError, match="'admit-two' names check 'overadmission'"):
        require_checks({"admit-one-extra": "over-admission", "admit-two": "overadmission"})
