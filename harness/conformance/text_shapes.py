"""Whether metadata texts are Go's own formatting of their values: a wait's or reset's
``Duration.String()`` and its ``%f`` seconds, judged for millions of texts by one regular
expression each (RE2, through Arrow) instead of formatting every value again."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from harness.api.duration import CANONICAL_DURATION
from harness.run.records import per_category

__all__ = ["SECONDS_TEXT", "duration_text_ok", "seconds_text_ok"]

SECONDS_TEXT = r"^[0-9]+\.[0-9]{6}$"


def _fullmatch(texts: pd.Series, pattern: str) -> pd.Series:
    """Whether each text matches ``pattern`` (anchored, RE2's syntax); missing texts do not.

    Arrow's RE2 over the column as it is, not pandas' ``str.fullmatch``, which first scans every
    text for non-ASCII letters and newlines to decide whether Python's ``re`` must do it instead
    (10 M waits: 0.6 s of scanning before the match; with one "µs" among them, Python's ``re``
    per row). A categorical is matched once per category."""
    whole = f"^(?:{pattern})$"
    if isinstance(texts.dtype, pd.CategoricalDtype):
        hits = per_category(texts, lambda names: _matched(names.astype("string"), whole), False)
    else:
        hits = _matched(texts.astype("string") if texts.dtype == object else texts, whole)
    return pd.Series(hits, index=texts.index, dtype=bool)


def _matched(texts: pd.Series | pd.Index, pattern: str) -> npt.NDArray[np.bool_]:
    """RE2's search of ``pattern`` in each text, as Arrow holds the column (no copy of
    Arrow-backed text); an all-missing column is Arrow's null type, cast to text first."""
    values = pa.array(texts, from_pandas=True)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    return np.asarray(pc.match_substring_regex(values, pattern).fill_null(False), dtype=bool)


def duration_text_ok(texts: pd.Series, values: pd.Series) -> pd.Series:
    """Whether each text is Go's canonical ``Duration.String()`` of its parsed value.

    ``values`` were parsed from ``texts``, so a text of canonical shape that parsed is the
    canonical text of its value (``CANONICAL_DURATION`` is tested against the formatter).
    """
    shaped = _fullmatch(texts, CANONICAL_DURATION)
    return shaped & values.notna().to_numpy()


def seconds_text_ok(texts: pd.Series, values: pd.Series, duration_ns: pd.Series) -> pd.Series:
    """``*_sec`` is Go's ``%f`` (six decimals) of the same duration."""
    shaped = _fullmatch(texts, SECONDS_TEXT)
    close = (values.astype(float) - duration_ns.astype(float) / 1e9).abs() <= 5.01e-7
    return shaped & close.fillna(False)
