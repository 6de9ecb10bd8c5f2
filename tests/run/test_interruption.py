"""``interrupted.json``: the signal and its instant, placed in the load when judged."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from harness.run.interruption import (
    INTERRUPTION_FILE,
    interruption_now,
    read_interruption,
    write_interruption,
)

NS = 1_000_000_000


def test_the_signal_and_its_instant_are_written_and_read_back(tmp_path: Path) -> None:
    assert read_interruption(tmp_path) is None  # a run that was not interrupted
    taipei = timezone(timedelta(hours=8))
    stopped = interruption_now(signal.SIGINT, datetime(2026, 12, 8, 4, 0, 8, 123456, taipei))
    assert (stopped.signal, stopped.at) == ("SIGINT", "2026-12-07T20:00:08.123Z")  # UTC
    write_interruption(tmp_path, stopped)
    assert (tmp_path / INTERRUPTION_FILE).is_file()
    assert read_interruption(tmp_path) == stopped


def test_it_is_placed_in_the_load_from_its_first_send() -> None:
    stopped = interruption_now(signal.SIGTERM, datetime(2026, 12, 7, 20, 0, 10, tzinfo=UTC))
    start_ns = int(datetime(2026, 12, 7, 20, 0, 1, 900000, tzinfo=UTC).timestamp() * NS)
    placed = stopped.placed(start_ns, 20.0)
    assert (placed.after_s, placed.of_s) == (8.1, 20.0)
    assert placed.describe() == "interrupted by SIGTERM at 8.1 s of 20 s"
    # Before the first send (during set-up), or with none sent: not a negative instant.
    later_ns = start_ns + 60 * NS
    assert stopped.placed(later_ns, 20.0).describe() == (
        "interrupted by SIGTERM before the load began"
    )
    assert stopped.placed(None, 20.0).after_s is None
