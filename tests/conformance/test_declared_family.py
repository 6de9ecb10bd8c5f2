"""A declared family (an http profile's ``policy.family``): held where the trace does not refute
it, set aside where it does; a chatbot run (nothing declared) identifies as before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.conformance.buckets import buckets
from harness.conformance.identify import Family, identify
from harness.conformance.spec import CaseSpec, CheckInput

D = 1_000_000_000
MS = 1_000_000
BASE = 1_000_000 * D
# Windows open at 0 and at 1.05 D: an anchored window's trace, whose waits (up to 0.98 D) are
# longer than D/L: no token bucket's (test_identify's anchored-window trace).
ANCHORED = [0.0, 0.9, 0.95, 1.05, 1.06, 1.07]


def _buckets(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> tuple[list[Any], CheckInput]:
    start = BASE + 123 * MS
    sent = [(start + round(x * D), MS, MS) for x in ANCHORED]
    records = simulator("anchored-window", 2, D).records(sent)
    data = make_input(records, [make_case("case", 2, D)])
    return list(buckets(data)), data


def test_a_declared_family_the_trace_does_not_refute_is_held(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    keyed, data = _buckets(simulator, make_case, make_input)
    assert identify(keyed, data.tolerance).family is Family.ANCHORED_WINDOW
    held = identify(keyed, data.tolerance, Family.ANCHORED_WINDOW)
    assert held.family is Family.ANCHORED_WINDOW
    assert held.reason.startswith("declared by the scenario")


def test_a_declared_family_the_trace_refutes_is_set_aside(
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    keyed, data = _buckets(simulator, make_case, make_input)
    # a wait longer than D/L refutes a token bucket; L + 1 within D refutes a sliding log
    for declared in (Family.TOKEN_BUCKET, Family.SLIDING_LOG):
        found = identify(keyed, data.tolerance, declared)
        assert found.family is Family.ANCHORED_WINDOW, declared
        assert not found.reason.startswith("declared")
