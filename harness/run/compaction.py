"""Arrow parts rewritten as Parquet parts, in the background during a run and at its end.

The recording process writes Arrow IPC parts because they are cheap to write beside the sending
hub (``harness.run.parts``); Parquet takes a quarter of the disk. ``compact`` turns each Arrow part
into the Parquet part of the same stem: written under a temporary name, checked to hold the same
number of rows, renamed, and only then the Arrow file removed. It can be stopped at any instant
(killed, the disk full, the directory read-only) without losing a record: the Arrow part stays
until its Parquet twin is whole, and a reader takes whichever form is there
(``parts.part_paths``).

It touches only the parts of one sink, named by their ``prefix`` (``part-<writer>-<tag>-``, the tag
made afresh for each run): a directory that holds another run's parts (a second start of Locust's
web UI writing where the first did) keeps them as they are. Before the tag, run 2's Arrow part 0
was taken for the twin of run 1's Parquet part 0 and deleted.

``python -m harness.run.compaction DIR PREFIX PARENT_PID`` is the background compactor the recording
process starts (``harness.locust.writer``): it compacts every ``INTERVAL_S`` at the lowest CPU
priority Linux has (``SCHED_IDLE``: it runs only when the sender's core has nothing else to do)
and ends when its parent does; the recording process compacts what is left when it closes.
"""

from __future__ import annotations

import os
import sys
import time
from glob import escape as glob_escape
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from harness.run.parts import (
    ARROW,
    PARQUET,
    part_paths,
    part_rows,
    read_part,
    remove_quietly,
    temporary_for,
)

__all__ = ["INTERVAL_S", "compact", "lowest_priority"]

INTERVAL_S = 1.0


def compact(folder: Path, prefix: str) -> int:
    """Every Arrow part of ``folder`` whose name starts with ``prefix`` as Parquet; how many were
    compacted. A part that cannot be rewritten now (a full disk, a read-only directory) stays as
    it is, readable; a part of another prefix is never read, rewritten or removed."""
    compacted = 0
    for path in part_paths(folder):
        if path.name.startswith(prefix) and path.suffix == ARROW and _rewrite(path):
            compacted += 1
    _forget_twins(folder, prefix)
    return compacted


def _rewrite(arrow: Path) -> bool:
    final = arrow.with_suffix(PARQUET)
    temporary = temporary_for(final)
    try:
        table = read_part(arrow)
        pq.write_table(table, temporary, compression="zstd")
        if part_rows(temporary) != table.num_rows:
            raise OSError(f"{temporary} does not hold the {table.num_rows} records it was given")
        os.replace(temporary, final)
        arrow.unlink()
    except (OSError, pa.ArrowException):
        remove_quietly(temporary)
        return False
    return True


def _forget_twins(folder: Path, prefix: str) -> None:
    """Arrow files of ``prefix`` whose Parquet twin is whole (a compaction stopped after its
    rename)."""
    if not folder.is_dir():
        return
    for arrow in folder.glob(f"{glob_escape(prefix)}*{ARROW}"):
        if arrow.with_suffix(PARQUET).exists():
            remove_quietly(arrow)


def lowest_priority() -> None:
    """This process runs only on an otherwise idle CPU (``SCHED_IDLE``), where Linux has it."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


def main(argv: list[str]) -> int:
    folder, prefix, parent = Path(argv[0]), argv[1], int(argv[2])
    lowest_priority()
    while os.getppid() == parent:  # a dead parent's child is reparented
        compact(folder, prefix)
        time.sleep(INTERVAL_S)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
