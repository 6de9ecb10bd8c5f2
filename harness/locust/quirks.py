"""Locust's own shutdown races, worked around where the harness meets them.

- Its CSV writer (``--csv``) is a greenlet that rewrites the files every second; at shutdown Locust
  closes the files but leaves the greenlet alive, and with ``--processes`` the master then waits
  for its workers (a gevent sleep in an ``atexit`` hook), so the writer wakes and writes into
  closed files: a traceback at the end of a clean run. The writer is made to end quietly when it
  finds its files closed; any other error still surfaces.
"""

from __future__ import annotations

from locust.stats import StatsCSVFileWriter

__all__ = ["quiet_csv_writer_at_shutdown"]


def quiet_csv_writer_at_shutdown() -> None:
    original = StatsCSVFileWriter.stats_writer
    if getattr(original, "aisk_quiet", False):
        return

    def stats_writer(self: StatsCSVFileWriter) -> None:
        try:
            original(self)
        except ValueError:
            if not self.requests_csv_filehandle.closed:
                raise

    stats_writer.aisk_quiet = True  # type: ignore[attr-defined]
    StatsCSVFileWriter.stats_writer = stats_writer  # type: ignore[method-assign]
