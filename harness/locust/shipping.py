"""A worker's records on their way to the master: each batch one ``Records`` message, then,
once it stops, ``Flushed`` with its total.

The worker's recorder hands its batches here; the master's ``Writer`` takes them
(``take_shipped``) and writes each as one part. ``Flushed`` follows the last batch on the same
connection, so when the master reads it, every batch the worker made has arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pyarrow as pa

from harness.locust.protocol import Flushed, Message, Records
from harness.locust.recorder import Recorder
from harness.run.batches import table_to_bytes

__all__ = ["Shipper"]


class Shipper:
    """``send``: a message to the master (``protocol.send`` on the worker's runner)."""

    def __init__(self, send: Callable[[Message], None]) -> None:
        self._send = send

    def ship(self, table: pa.Table) -> None:
        """One batch of the worker's recorder: its ``hand_over``."""
        self._send(Records(table=table_to_bytes(table)))

    def report(
        self, recorder: Recorder, dropped: Mapping[str, int], behind: Mapping[str, int]
    ) -> None:
        """The flush on stop: the recorder's last rows, then its total."""
        recorder.close()
        self._send(Flushed(recorded=recorder.recorded, dropped=dict(dropped), behind=dict(behind)))
