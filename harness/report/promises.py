"""The waits throttles promised against the waits that were true, for the report's chart.

The true wait is known only within bounds (``conformance/wait_accuracy.py``): the budget freed
after the last refusal that proves it was not yet free, and by the end of the first admission
surely after the throttle. The checks' own bounds, so the chart and wait-honesty agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.conformance.buckets import buckets
from harness.conformance.spec import CheckInput
from harness.conformance.wait_accuracy import promise_bounds

__all__ = ["PROMISE_COLUMNS", "promised_vs_true"]

PROMISE_COLUMNS = ["case", "key", "promised_s", "true_lo_s", "true_hi_s", "off"]


def promised_vs_true(data: CheckInput) -> pd.DataFrame:
    """One row per throttle with a wait: its case and key, the wait promised, the bounds of the
    true one (s; ``true_hi_s`` is NaN when no admission came after), and ``off``: "late" or
    "early" where the promise was surely off that way, else "kept"."""
    parts = []
    for bucket in buckets(data):
        bounds = promise_bounds(bucket, data.tolerance)
        if not len(bounds.throttles):
            continue
        late, early = bounds.errors()
        off = np.where(late > 0, "late", np.where(early > 0, "early", "kept"))
        true_hi = np.where(np.isinf(bounds.true_hi_ns), np.nan, bounds.true_hi_ns)
        parts.append(
            pd.DataFrame(
                {
                    "case": bucket.case.name,
                    "key": bucket.key,
                    "promised_s": bounds.wait_ns / 1e9,
                    "true_lo_s": bounds.true_lo_ns / 1e9,
                    "true_hi_s": true_hi / 1e9,
                    "off": off,
                }
            )
        )
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in PROMISE_COLUMNS})
    return pd.concat(parts, ignore_index=True)[PROMISE_COLUMNS]
