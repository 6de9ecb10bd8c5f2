"""A run's progress in one line, counted from the record batches as they reach the writer.

``aisk-harness run`` prints this line every few seconds in place of Locust's request tables
(``--locust-stats`` brings them back): how far the run is, and what the limiter has done so
far, in the harness's own terms (admitted, throttled, out of quota), which Locust cannot tell
apart (to it every answer is a request, and a 429 a failure). The counts are those of the load's
chats, the set-up's probes left out, as ``is_load_chat`` reads a run's records; a send is late as
``late_sends`` counts it (more than ``LATE_NS`` after its intended instant).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from harness.api.answer import Outcome
from harness.run.records import LATE_NS, PROBE_PHASE_PREFIX

__all__ = ["Progress"]


@dataclass
class Progress:
    """The load's chats so far: every request, what the target decided, the late sends."""

    requests: int = 0
    admitted: int = 0
    throttled: int = 0
    out_of_quota: int = 0
    late: int = 0

    def add(self, batch: pa.Table) -> None:
        """Count a batch of records (``RECORD_SCHEMA``)."""
        if not batch.num_rows:
            return
        phase = pc.cast(batch.column("phase"), pa.string())
        kind = pc.cast(batch.column("kind"), pa.string())
        probe = pc.fill_null(pc.starts_with(phase, PROBE_PHASE_PREFIX), False)
        chats = batch.filter(pc.and_(pc.equal(kind, "chat"), pc.invert(probe)))
        if not chats.num_rows:
            return
        self.requests += chats.num_rows
        outcome = pc.cast(chats.column("outcome"), pa.string())
        self.admitted += _count(outcome, Outcome.OK)
        self.throttled += _count(outcome, Outcome.THROTTLED)
        self.out_of_quota += _count(outcome, Outcome.OUT_OF_QUOTA)
        behind = pc.subtract(chats.column("send_mono_ns"), chats.column("intended_send_mono_ns"))
        self.late += (
            pc.sum(pc.fill_null(pc.greater(behind, LATE_NS), False).cast(pa.int64())).as_py() or 0
        )

    def line(self, elapsed_s: float, total_s: float) -> str:
        """ "12 s of 30 s: 840 requests, 600 admitted, 220 throttled, 20 out of quota, 0 late
        sends"."""
        return (
            f"{elapsed_s:.0f} s of {total_s:.0f} s: {self.requests} requests, {self.admitted} "
            f"admitted, {self.throttled} throttled, {self.out_of_quota} out of quota, "
            f"{self.late} late sends"
        )


def _count(values: pa.ChunkedArray, outcome: Outcome) -> int:
    return int(pc.sum(pc.equal(values, outcome.value).cast(pa.int64())).as_py() or 0)
