"""Sound interval tests on one key's requests (research §4.3-4.4).

Every test returns witnesses: index arrays into the bucket's (``lo``-sorted) requests. A witness is
reported only when *every* placement of the server's instants inside the ``[lo, hi]`` intervals
violates the rule. Windows of consecutive admissions (in ``lo`` order) are searched: sound, and
complete when latency is small next to the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "Phase",
    "anchored_windows",
    "early_admissions",
    "estimate_phase",
    "first_retry_throttled",
    "moving_retry_instants",
    "surely_in_aligned_window",
    "tight_windows",
    "too_few_before",
    "window_max",
]

Ints = npt.NDArray[np.int64]
Index = npt.NDArray[np.intp]


def window_max(values: Ints, size: int) -> Ints:
    """``max(values[i : i + size])`` for every ``i`` of ``0 .. n - size``; ``size`` is 1 .. n.

    van Herk / Gil-Werman: cut into blocks of ``size``; a window spans the end of one block and
    the start of the next, so its maximum is the one block's suffix maximum and the next's prefix
    maximum. O(n) whatever ``size``, in exact int64 (a float filter would round nanoseconds).
    """
    n, padding = len(values), -len(values) % size
    padded = np.concatenate([values, np.full(padding, np.iinfo(np.int64).min, np.int64)])
    blocks = padded.reshape(-1, size)
    prefix = np.maximum.accumulate(blocks, axis=1).ravel()
    suffix = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    count = n - size + 1
    highest: Ints = np.maximum(suffix[:count], prefix[size - 1 : size - 1 + count])
    return highest


def tight_windows(lo: Ints, hi: Ints, size: int, bound: float, inclusive: bool = False) -> Index:
    """Starts ``i`` of runs ``i..i+size-1`` whose hull ``max(hi) - lo[i]`` is below ``bound``."""
    n = len(lo)
    if size < 1 or n < size:
        return np.empty(0, dtype=np.intp)
    hull = window_max(hi, size) - lo[: n - size + 1]
    return np.flatnonzero(hull <= bound if inclusive else hull < bound)


def anchored_windows(
    lo: Ints, hi: Ints, limit: int, short: int, long: int, starters_lo: Ints, starters_hi: Ints
) -> Index:
    """Runs of ``limit + 1`` admissions that must share one anchored window.

    They span less than D⁻, and no possible window starter lies a window earlier: a window that
    started at ``s`` ends at ``s + D``, so a boundary inside the run needs a starter in
    ``(min τ - D, max τ - D]``.
    """
    starts = tight_windows(lo, hi, limit + 1, short)
    if not len(starts):
        return starts
    highest = window_max(hi, limit + 1)[starts]
    upper = highest - short  # latest possible boundary-making starter
    lower = lo[starts] - long  # anything ending before this was a window earlier
    sorted_lo, sorted_hi = np.sort(starters_lo), np.sort(starters_hi)
    meeting = np.searchsorted(sorted_lo, upper, "right") - np.searchsorted(
        sorted_hi, lower, "right"
    )
    alone: Index = starts[meeting == 0]
    return alone


@dataclass(frozen=True, slots=True)
class Phase:
    """Window boundaries at ``offset + m * period`` (in the bucket's frame), ± ``error``."""

    offset: float
    error: float
    period: int
    periods_seen: int


def estimate_phase(
    retry_lo: npt.NDArray[np.float64], retry_hi: npt.NDArray[np.float64], period: int
) -> Phase | None:
    """The lattice every retry instant lies on, if there is one (aligned fixed windows).

    Returns None when the retry instants admit no common phase (the lattice is falsified); a phase
    with ``periods_seen`` < 2 is weak evidence (one blocked period fits every family).
    """
    if not len(retry_lo):
        return Phase(0.0, period / 2, period, 0)
    centre = (retry_lo + retry_hi) / 2
    half = (retry_hi - retry_lo) / 2
    if half.max() >= period / 4:
        return Phase(0.0, period / 2, period, 0)
    turns = np.round((centre - centre[0]) / period)
    unwrapped = centre - turns * period
    low, high = (unwrapped - half).max(), (unwrapped + half).min()
    if low > high:
        return None
    return Phase((low + high) / 2, (high - low) / 2, period, len(np.unique(turns)))


def surely_in_aligned_window(lo: Ints, hi: Ints, phase: Phase, slack: int) -> npt.NDArray[np.int64]:
    """The aligned window each request surely fell in, or -1 where a boundary may split it."""
    margin = phase.error + slack
    first = np.floor((lo - phase.offset - margin) / phase.period)
    last = np.floor((hi - phase.offset + margin) / phase.period)
    return np.where(first == last, first, -1).astype(np.int64)


def too_few_before(
    lo: Ints, hi: Ints, throttled: Index, consumers: Index, limit: int, horizon: int | None
) -> Index:
    """Throttles that fewer than ``limit`` other requests could have preceded.

    With ``horizon`` (D⁺) only requests that may lie within one window before count (S2: holds for
    sliding log, fixed windows and token bucket); without, every earlier request of a fresh key
    counts (U2: any family).
    """
    if not len(throttled) or not len(consumers):
        return throttled
    c_lo, c_hi = np.sort(lo[consumers]), np.sort(hi[consumers])
    j_lo, j_hi = lo[throttled], hi[throttled]
    before = np.searchsorted(c_lo, j_hi, "right")
    if horizon is not None:
        before = before - np.searchsorted(c_hi, j_lo - horizon, "right")
    return throttled[before <= limit - 1]


def early_admissions(
    lo: Ints,
    hi: Ints,
    admitted: Index,
    throttled: Index,
    wait: npt.NDArray[np.float64],
    slack: Ints,
) -> tuple[Index, Index]:
    """W2: (throttle, admission) pairs where an admission surely came after the throttle and
    surely before the earliest instant the throttle promised a retry would be admitted."""
    if not len(admitted) or not len(throttled):
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    order = admitted[np.argsort(lo[admitted], kind="stable")]
    a_lo, a_hi = lo[order], hi[order]
    suffix_arg = _suffix_argmin(a_hi)
    suffix_min = a_hi[suffix_arg]
    first = np.searchsorted(a_lo, hi[throttled], "right")
    has = first < len(order)
    promised = lo[throttled] + wait[throttled] - slack[throttled]
    hit = np.zeros(len(throttled), dtype=bool)
    hit[has] = suffix_min[first[has]] < promised[has]
    witness = np.full(len(throttled), -1, dtype=np.intp)
    witness[hit] = order[suffix_arg[first[hit]]]
    return throttled[hit], witness[hit]


def _suffix_argmin(values: Ints) -> Index:
    result = np.empty(len(values), dtype=np.intp)
    best = len(values) - 1
    for i in range(len(values) - 1, -1, -1):
        if values[i] <= values[best]:
            best = i
        result[i] = best
    return result


def first_retry_throttled(
    lo: Ints,
    hi: Ints,
    code: npt.NDArray[np.int8],
    throttled: Index,
    wait: npt.NDArray[np.float64],
    slack: Ints,
    throttled_code: int,
) -> tuple[Index, Index]:
    """W3: (throttle j, request p) where p is the first request surely after j's promised retry
    instant, p was throttled, and no request that could use budget met ``[lo_j, hi_p]``."""
    if not len(throttled):
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    due = hi[throttled] + wait[throttled] + slack[throttled]
    nxt = np.searchsorted(lo, due, "right")
    inside = nxt < len(lo)
    j, p = throttled[inside], nxt[inside]
    broken = code[p] == throttled_code
    j, p = j[broken], p[broken]
    keep = _nothing_between(lo, hi, code, throttled_code, lo[j], hi[p])
    return j[keep], p[keep]


def moving_retry_instants(
    lo: Ints,
    hi: Ints,
    code: npt.NDArray[np.int8],
    throttled: Index,
    wait: npt.NDArray[np.float64],
    slack: Ints,
    throttled_code: int,
) -> tuple[Index, Index]:
    """W4: consecutive throttles with nothing that could use budget between them, whose promised
    retry instants cannot be the same (a non-penalising limiter keeps its promise still)."""
    if len(throttled) < 2:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    first, second = throttled[:-1], throttled[1:]
    low1 = lo[first] + wait[first] - slack[first]
    high1 = hi[first] + wait[first] + slack[first]
    low2 = lo[second] + wait[second] - slack[second]
    high2 = hi[second] + wait[second] + slack[second]
    disjoint = (high1 < low2) | (high2 < low1)
    # Either throttle may have been decided first: anything meeting the hull of both intervals
    # may have been admitted between them (``second`` can end before ``first``).
    last = np.maximum(hi[first], hi[second])
    disjoint &= _nothing_between(lo, hi, code, throttled_code, lo[first], last)
    return first[disjoint], second[disjoint]


def _nothing_between(
    lo: Ints,
    hi: Ints,
    code: npt.NDArray[np.int8],
    throttled_code: int,
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """For each ``start <= end``: no request that could use budget has an interval meeting
    ``[start, end]``. Touching counts: decisions at the same instant may come in either order."""
    consumers = np.flatnonzero(code != throttled_code)
    if not len(consumers):
        return np.ones(len(start), dtype=bool)
    c_lo, c_hi = np.sort(lo[consumers]), np.sort(hi[consumers])
    # Those with lo <= end, less those ending before start (each of which has lo <= end too).
    meeting = np.searchsorted(c_lo, end, "right") - np.searchsorted(c_hi, start, "left")
    result: npt.NDArray[np.bool_] = meeting == 0
    return result
