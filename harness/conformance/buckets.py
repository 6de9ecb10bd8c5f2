"""A bucket: the requests of one rate-limit key, as intervals on one clock.

Each request reached the server somewhere in ``[lo, hi]``. A key is sent by one process, whose
monotonic clock is then the frame (no cross-clock error); a key spread over processes (a
chatbot-wide limit with several keys) falls back to wall clocks corrected by each worker's offset,
widened by that offset's error bound. ``lo`` is widened by the server's granularity.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.conformance.findings import MAX_EVIDENCE, Evidence
from harness.conformance.spec import CaseSpec, CheckInput, RateSpec
from harness.run.records import per_category

__all__ = ["ADMITTED", "OTHER", "OUT_OF_QUOTA", "THROTTLED", "Bucket", "buckets"]

ADMITTED, THROTTLED, OUT_OF_QUOTA, OTHER = 0, 1, 2, 3
_CODES = {"ok": ADMITTED, "throttled": THROTTLED, "out_of_quota": OUT_OF_QUOTA}

Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.integer[Any]]


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
    rows: npt.NDArray[np.intp]  # positions of the requests in ``source``
    source: pd.Series  # the run's request ids, read only for evidence
    retries: int  # requests sent right after a reported wait (polite clients)
    one_clock: bool
    wall_of_zero_ns: int  # the Unix time (our wall clock) of this bucket's instant 0

    def ids(self, indices: Iterable[int]) -> list[str]:
        """The request ids of some of this bucket's requests: the evidence a finding cites."""
        positions = self.rows[np.fromiter(indices, dtype=np.intp)]
        return [str(value) for value in self.source.iloc[positions]]

    def evidence(self, kind: str, indices: Iterable[int], expected: str, observed: str) -> Evidence:
        """A violation this key's requests at ``indices`` prove (the first ``MAX_EVIDENCE``)."""
        cited = tuple(self.ids(islice(indices, MAX_EVIDENCE)))
        return Evidence(kind, self.case.name, self.key, cited, expected, observed)

    def __len__(self) -> int:
        return len(self.lo)

    def where(self, code: int) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.code == code)

    def decided(self) -> bool:
        """Whether the target said anything about this key's budget (a 2xx or a 429 with a
        reason); a key whose requests all went unanswered is no evidence either way."""
        return bool(np.any(self.code != OTHER))

    def consumers(self) -> npt.NDArray[np.intp]:
        """Requests that may have used budget: everything but a throttle (which must not)."""
        return np.flatnonzero(self.code != THROTTLED)


def _frame(
    columns: dict[str, np.ndarray], rows: npt.NDArray[np.intp], granularity_ns: int
) -> tuple[Ints, Ints, bool]:
    process = columns["process"][rows]
    if len(process) == 0 or (process == process[0]).all():
        lo = columns["send_mono_ns"][rows] - granularity_ns
        return lo, columns["recv_mono_ns"][rows], True
    offset, error = columns["clock_offset_ns"][rows], columns["clock_offset_err_ns"][rows]
    lo = columns["send_wall_ns"][rows] + offset - error - granularity_ns
    hi = columns["recv_wall_ns"][rows] + offset + error
    return lo, hi, False


def _codes(values: pd.Series) -> tuple[Codes, int]:
    """Each value's number (-1: missing) and how many numbers there are: a categorical's own
    codes as they are (no hashing of millions of rows, nor a wider copy), else a factorization."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), len(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes, len(uniques)


def _groups(case: pd.Series, key: pd.Series) -> tuple[npt.NDArray[np.intp], list[tuple[int, int]]]:
    """The records' order grouped by (case, key), and each group's stretch of that order: the
    groups in order of their first record (as a sort=False group-by numbers them), each group's
    records in their own order. A record without a case or a key (the recorder writes neither)
    is in no group.

    One stable sort of one small number per record, no hashing: with fewer than 65 535
    (case, key) pairs the number fits 16 bits, which numpy sorts by radix, linear in the records
    however they interleave (10 M records: 1.6 s to number the groups by factorization before).
    """
    case_codes, _ = _codes(case)
    key_codes, keys = _codes(key)
    pairs = case_codes.astype(np.int64) * keys + key_codes + 1  # 0: no group
    pairs[(case_codes < 0) | (key_codes < 0)] = 0
    top = int(pairs.max(initial=0))
    narrow = np.uint16 if top <= np.iinfo(np.uint16).max else np.int64
    numbers: Codes = pairs.astype(narrow, copy=False)
    del pairs
    order = np.argsort(numbers, kind="stable")
    ordered = numbers[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    grouped = ordered[starts] > 0
    starts, ends = starts[grouped], ends[grouped]
    by_first = np.argsort(order[starts], kind="stable")
    return order, list(zip(starts[by_first].tolist(), ends[by_first].tolist(), strict=True))


def _outcome_codes(outcome: pd.Series) -> npt.NDArray[np.int8]:
    """Each record's ``ADMITTED``/``THROTTLED``/``OUT_OF_QUOTA``/``OTHER``: for a categorical, its
    categories looked up once and the codes mapped through them (10 M records: 0.03 s, where a
    ``map`` of the column took 0.47 s)."""
    if isinstance(outcome.dtype, pd.CategoricalDtype):
        codes = per_category(
            outcome, lambda names: [_CODES.get(str(n), OTHER) for n in names], OTHER
        )
        return codes.astype(np.int8)
    return np.asarray(outcome.map(_CODES).fillna(OTHER), dtype=np.int8)


_INTS = (
    "send_mono_ns",
    "recv_mono_ns",
    "send_wall_ns",
    "recv_wall_ns",
    "clock_offset_ns",
    "clock_offset_err_ns",
)


def buckets(data: CheckInput, case_names: set[str] | None = None) -> Iterator[Bucket]:
    """Every key of every rate-limited case (optionally only some cases).

    One stable sort by (case, key), and each key's rows gathered from the columns as they are
    (not every column reordered first): the checks must stay linear in millions of records, and
    a key on one clock reads only the columns its clock needs.
    """
    chats = data.chats
    granularity = data.tolerance.granularity_ns
    if chats.empty:
        return
    order, groups = _groups(chats["case"], chats["key"])
    columns: dict[str, np.ndarray] = {name: chats[name].to_numpy(np.int64) for name in _INTS}
    columns["process"] = _codes(chats["process"])[0]
    code = _outcome_codes(chats["outcome"])
    wait = chats["wait_ns"].to_numpy(np.float64, na_value=np.nan)
    retry = np.asarray(chats["phase"] == "polite-retry", dtype=bool)
    source = chats["request_id"]
    # Each group's case and key, read from its first record: one lookup for all the groups.
    firsts = order[[start for start, _ in groups]]
    named = zip(
        chats["case"].iloc[firsts].tolist(), chats["key"].iloc[firsts].tolist(), strict=True
    )
    for (start, end), (case_name, key) in zip(groups, named, strict=True):
        case = data.cases.get(str(case_name))
        if case is None or case.rate is None:
            continue
        if case_names is not None and case.name not in case_names:
            continue
        rows = order[start:end]
        lo, hi, one_clock = _frame(columns, rows, granularity)
        # Relative to the bucket's first instant: small numbers stay exact in float64 too.
        base = lo.min()
        wall_of_zero = int(base)
        if one_clock:
            wall_minus_mono = columns["send_wall_ns"][rows] - columns["send_mono_ns"][rows]
            wall_of_zero += int(np.median(wall_minus_mono))
        lo, hi = lo - base, hi - base
        within = np.argsort(lo, kind="stable")
        rows = rows[within]
        yield Bucket(
            case=case,
            rate=case.rate,
            key=str(key),
            lo=lo[within],
            hi=hi[within],
            code=code[rows],
            wait_ns=wait[rows],
            rows=rows,
            source=source,
            retries=int(np.count_nonzero(retry[rows])),
            one_clock=one_clock,
            wall_of_zero_ns=wall_of_zero,
        )
