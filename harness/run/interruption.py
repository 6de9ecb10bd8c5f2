"""``interrupted.json``: a run stopped by a signal says which, when, and how far its load had got.

The command that leads the run writes it the moment SIGINT or SIGTERM arrives (before passing the
stop on to Locust), so a verdict judged then or later (``aisk-harness check``) says the run was
interrupted, and the summary line and the report's banner do not read as an ordinary run's.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from harness.model_files import read_model, write_model

__all__ = [
    "INTERRUPTION_FILE",
    "Interruption",
    "interruption_now",
    "read_interruption",
    "write_interruption",
]

INTERRUPTION_FILE = "interrupted.json"
NS = 1_000_000_000


class Interruption(BaseModel):
    """The signal that stopped a run and its instant (UTC, RFC 3339); once judged, how far into
    the load it came (``after_s``; None: before the load began) and the load's planned length."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signal: str
    at: str
    after_s: float | None = None
    of_s: float | None = None

    def placed(self, load_start_wall_ns: int | None, planned_s: float) -> Interruption:
        """This interruption placed in the load that began at ``load_start_wall_ns`` (the first
        load request's send; None: none was sent)."""
        at_ns = int(datetime.fromisoformat(self.at).timestamp() * NS)
        after_ns = None if load_start_wall_ns is None else at_ns - load_start_wall_ns
        after_s = None if after_ns is None or after_ns < 0 else round(after_ns / NS, 3)
        return self.model_copy(update={"after_s": after_s, "of_s": planned_s})

    def describe(self) -> str:
        """'interrupted by SIGINT at 8.1 s of 20 s' (or 'before the load began')."""
        if self.after_s is None:
            when = "before the load began"
        else:
            of = f" of {self.of_s:g} s" if self.of_s is not None else ""
            when = f"at {self.after_s:.1f} s{of}"
        return f"interrupted by {self.signal} {when}"


def interruption_now(signum: int, now: datetime | None = None) -> Interruption:
    """The interruption by ``signum`` at ``now`` (default: this instant)."""
    instant = (now or datetime.now(UTC)).astimezone(UTC)
    at = instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Interruption(signal=signal.Signals(signum).name, at=at)


def write_interruption(run_dir: Path, interruption: Interruption) -> Path:
    return write_model(run_dir / INTERRUPTION_FILE, interruption)


def read_interruption(run_dir: Path) -> Interruption | None:
    """The run's interruption, or None when it was not interrupted."""
    path = run_dir / INTERRUPTION_FILE
    if not path.exists():
        return None
    return read_model(path, Interruption, missing="", kind="an interruption record")
