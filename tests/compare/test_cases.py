"""Which cases can be compared: same name, same traffic; the length may differ."""

from __future__ import annotations

from harness.compare.cases import match_cases
from harness.load.scenario import Case


def case(name: str, **changes: object) -> Case:
    document: dict[str, object] = {"name": name, "behaviour": {"kind": "hammer"}, **changes}
    return Case.model_validate(document)


def test_identical_scenarios_match_entirely() -> None:
    match = match_cases([case("a"), case("b")], [case("b"), case("a")])
    assert match.identical
    assert match.matching == ("a", "b")


def test_a_longer_case_is_the_same_case() -> None:
    assert match_cases([case("a", duration="3s")], [case("a", duration="10s")]).identical


def test_one_sided_and_differing_cases_are_named() -> None:
    base = [case("a"), case("b", population={"keys": 2}), case("gone")]
    candidate = [case("a"), case("b", population={"keys": 3}), case("new")]
    match = match_cases(base, candidate)
    assert not match.identical
    assert match.matching == ("a",)
    assert match.only_base == ("gone",)
    assert match.only_candidate == ("new",)
    assert match.differing == (("b", "population.keys 2 vs 3"),)
    assert match.describe() == (
        "matching: a; only in BASE: gone; only in CANDIDATE: new; "
        "configured differently: b (population.keys 2 vs 3)"
    )
