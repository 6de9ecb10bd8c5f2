"""Go's own texts of durations and seconds: every one it prints is canonical, no other is."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.api.duration import format_duration, format_seconds
from harness.conformance.text_shapes import duration_text_ok, seconds_text_ok


@given(st.integers(1, 10**14))
def test_every_text_go_prints_is_canonical(ns: int) -> None:
    """A false 'not canonical' would fail a correct target: the shape check must accept all of
    Go's own texts (and, through them, the emulator's)."""
    texts = pd.Series([format_duration(ns)])
    assert bool(duration_text_ok(texts, pd.Series([ns], dtype="float64")).iloc[0])
    assert format_seconds(ns).count(".") == 1


NEVER_GO = ["60s", "1m", "1.50s", "0.5s", "1000ms", "36.58", "05s", "1µs0", "1us", "1m60s", "1١s"]


@pytest.mark.parametrize("dtype", [object, "str", "category"])
def test_texts_go_never_prints_are_not_canonical(dtype: Any) -> None:
    # "1١s" ends in an Arabic-Indic one: a digit to Python's \d (so judged canonical once),
    # never one Go prints.
    values: list[Any] = [1.0] * len(NEVER_GO)
    result = duration_text_ok(pd.Series(NEVER_GO, dtype=dtype), pd.Series(values))
    assert not result.any(), [t for t, ok in zip(NEVER_GO, result, strict=True) if ok]


@pytest.mark.parametrize("dtype", [object, "str", "category"])
def test_the_shape_of_a_text_does_not_depend_on_how_the_column_holds_it(dtype: Any) -> None:
    texts = ["1.5µs", "2s", None, "1m0s", "1m", "2s"]
    values = pd.Series([1.0, 2.0, None, 60.0, 60.0, 2.0])
    result = duration_text_ok(pd.Series(texts, dtype=dtype), values)
    assert result.tolist() == [True, True, False, True, False, True]


def test_seconds_are_six_decimals_of_the_same_duration() -> None:
    texts = pd.Series(["1.500000", "1.5", "1.500001", None, "١.500000"])
    values = pd.Series([1.5, 1.5, 1.500001, None, 1.5])
    durations = pd.Series([1.5e9, 1.5e9, 1.5e9, None, 1.5e9])
    assert seconds_text_ok(texts, values, durations).tolist() == [True, False, False, False, False]
