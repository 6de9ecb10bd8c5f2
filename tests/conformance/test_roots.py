"""The root-cause decision (``roots.py``): a pure function of each failed check's proofs and the
other causes that could explain each."""

from __future__ import annotations

from harness.conformance.roots import (
    CAUSE_WORDS,
    SPLIT_KEY_WORDS,
    Attribution,
    attribute,
    cause_words,
)

ORDER = ("burst", "over-admission", "under-admission", "wait-honesty", "vary-isolation")


def test_a_proof_standing_on_its_own_makes_a_root_that_explains_the_echoes() -> None:
    places = attribute(
        {
            "vary-isolation": [frozenset(), frozenset({"burst"})],
            "burst": [frozenset({"vary-isolation"})],
            "under-admission": [frozenset({"vary-isolation", "burst"})],
        },
        ORDER,
    )
    assert places == {
        "vary-isolation": Attribution(root=True),
        "burst": Attribution(root=False, explained_by=("vary-isolation",)),
        "under-admission": Attribution(root=False, explained_by=("vary-isolation",)),
    }


def test_a_cause_whose_check_did_not_fail_explains_nothing() -> None:
    # wait-honesty passed: a refusal it could have explained is under-admission's own.
    places = attribute(
        {
            "under-admission": [frozenset({"wait-honesty"})],
            "throttle-metadata": [frozenset({"wait-honesty", "under-admission"})],
        },
        ORDER,
    )
    assert places["under-admission"] == Attribution(root=True)
    assert places["throttle-metadata"] == Attribution(False, ("under-admission",))


def test_two_causes_both_proven_are_both_roots_and_both_named() -> None:
    places = attribute(
        {
            "over-admission": [frozenset()],
            "vary-isolation": [frozenset()],
            "burst": [frozenset({"over-admission"}), frozenset({"vary-isolation"})],
        },
        ORDER,
    )
    assert places["over-admission"].root
    assert places["vary-isolation"].root
    assert places["burst"] == Attribution(False, ("over-admission", "vary-isolation"))


def test_causes_that_only_explain_each_other_are_both_roots_never_hidden() -> None:
    places = attribute(
        {"burst": [frozenset({"vary-isolation"})], "vary-isolation": [frozenset({"burst"})]},
        ORDER,
    )
    assert places == {"burst": Attribution(True), "vary-isolation": Attribution(True)}


def test_one_proof_no_proven_root_explains_keeps_a_check_a_root() -> None:
    """Only proven roots explain: burst, explained by wait-honesty alone (itself a root only for
    want of an explanation), stays a root too."""
    places = attribute(
        {
            "vary-isolation": [frozenset()],
            "wait-honesty": [frozenset({"vary-isolation"}), frozenset({"burst"})],
            "burst": [frozenset({"wait-honesty"})],
        },
        ORDER,
    )
    assert places["vary-isolation"] == Attribution(True)
    assert places["wait-honesty"] == Attribution(True)
    assert places["burst"] == Attribution(True)


def test_a_failed_check_without_proofs_as_data_is_a_root() -> None:
    assert attribute({"quota": []}) == {"quota": Attribution(True)}


def test_no_failure_no_attribution() -> None:
    assert attribute({}) == {}


def test_a_root_is_named_in_words() -> None:
    assert cause_words("vary-isolation") == "the keys shared one budget"
    assert cause_words("vary-isolation", split_key=True) == SPLIT_KEY_WORDS
    assert cause_words("over-admission") == CAUSE_WORDS["over-admission"]
    assert cause_words("access") == "access failed"
