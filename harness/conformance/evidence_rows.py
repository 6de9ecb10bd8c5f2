"""Evidence from rows of records: where the first violation is, and how a value is shown."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.conformance.findings import MAX_EVIDENCE, Evidence, cite

__all__ = ["first_rows", "rows_evidence", "shown"]


def shown(value: Any) -> str:
    """A recorded value as evidence shows it: 'absent' for a null, whole numbers without '.0'."""
    if value is None or pd.isna(value):
        return "absent"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def first_rows(frame: pd.DataFrame, broken: npt.NDArray[np.bool_]) -> pd.DataFrame:
    """The first rows (at most ``MAX_EVIDENCE``) where ``broken`` is true: what evidence cites,
    copied without copying the millions of rows that a boolean filter would."""
    return frame.iloc[np.flatnonzero(broken)[:MAX_EVIDENCE]]


def rows_evidence(
    kind: str,
    rows: pd.DataFrame,
    expected: str,
    observed: str,
    *,
    keyed: bool = True,
) -> Evidence:
    """The evidence of a violation the rows show: where the first one is, and who they are.

    ``keyed``: whether the rule is kept per rate-limit key (a quota is kept per chatbot);
    ``rows`` hold the case, key and request id (``first_rows`` takes them without a copy of
    millions of rows).
    """
    cited = rows.head(MAX_EVIDENCE)
    where = cited.iloc[0]
    key = str(where["key"]) if keyed else ""
    return Evidence(kind, str(where["case"]), key, cite(cited["request_id"]), expected, observed)
