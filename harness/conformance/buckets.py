"""A bucket: the requests of one rate-limit key, as intervals on one clock.

Each request reached the server somewhere in ``[lo, hi]``. A key is sent by one process, whose
monotonic clock is then the frame (no cross-clock error); a key spread over processes (a
chatbot-wide limit with several keys) falls back to wall clocks corrected by each worker's offset,
widened by that offset's error bound. ``lo`` is widened by the server's granularity.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.conformance.spec import CaseSpec, CheckInput, RateSpec

__all__ = ["ADMITTED", "OTHER", "OUT_OF_QUOTA", "THROTTLED", "Bucket", "buckets"]

ADMITTED, THROTTLED, OUT_OF_QUOTA, OTHER = 0, 1, 2, 3
_CODES = {"ok": ADMITTED, "throttled": THROTTLED, "out_of_quota": OUT_OF_QUOTA}

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Bucket:
    """One key's requests sorted by ``lo``. ``code``: admitted/throttled/out-of-quota/other."""

    case: CaseSpec
    rate: RateSpec
    key: str
    lo: Ints
    hi: Ints
    code: npt.NDArray[np.int8]
    wait_ns: npt.NDArray[np.float64]  # NaN where no wait was parsed
    request_id: npt.NDArray[np.object_]
    phase: npt.NDArray[np.object_]
    one_clock: bool

    def __len__(self) -> int:
        return len(self.lo)

    def where(self, code: int) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.code == code)

    def consumers(self) -> npt.NDArray[np.intp]:
        """Requests that may have used budget: everything but a throttle (which must not)."""
        return np.flatnonzero(self.code != THROTTLED)


def _frame(group: pd.DataFrame, granularity_ns: int) -> tuple[Ints, Ints, bool]:
    if group["process"].nunique() <= 1:
        lo = group["send_mono_ns"].to_numpy(np.int64) - granularity_ns
        return lo, group["recv_mono_ns"].to_numpy(np.int64), True
    offset = group["clock_offset_ns"].to_numpy(np.int64)
    error = group["clock_offset_err_ns"].to_numpy(np.int64)
    lo = group["send_wall_ns"].to_numpy(np.int64) + offset - error - granularity_ns
    hi = group["recv_wall_ns"].to_numpy(np.int64) + offset + error
    return lo, hi, False


def buckets(data: CheckInput, case_names: set[str] | None = None) -> Iterator[Bucket]:
    """Every key of every rate-limited case (optionally only some cases)."""
    chats = data.chats
    granularity = data.tolerance.granularity_ns
    for (case_name, key), group in chats.groupby(["case", "key"], sort=True):
        case = data.cases.get(str(case_name))
        if case is None or case.rate is None:
            continue
        if case_names is not None and case.name not in case_names:
            continue
        lo, hi, one_clock = _frame(group, granularity)
        # Relative to the bucket's first instant: small numbers stay exact in float64 too.
        base = lo.min()
        lo, hi = lo - base, hi - base
        order = np.argsort(lo, kind="stable")
        code: npt.NDArray[np.int8] = np.asarray(
            group["outcome"].map(_CODES).fillna(OTHER), dtype=np.int8
        )
        wait = group["wait_ns"].to_numpy(np.float64, na_value=np.nan)
        yield Bucket(
            case=case,
            rate=case.rate,
            key=str(key),
            lo=lo[order],
            hi=hi[order],
            code=code[order],
            wait_ns=wait[order],
            request_id=group["request_id"].to_numpy(object)[order],
            phase=group["phase"].to_numpy(object)[order],
            one_clock=one_clock,
        )
