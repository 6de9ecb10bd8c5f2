"""Whether a reader holds every record a run wrote: what ``check`` says before any verdict.

A verdict over missing records could pass a violation it never saw, so the records read are held
to ``recording.json`` (what each process recorded, what the parts were written with): a missing or
damaged part, fewer rows than written, a process whose records were not all written, a worker lost
mid-run, slots no user ran. Pure: the counts in, the problems out.

Fewer records than written make a verdict inconclusive; records the run did not write make no
verdict at all (``parts_of_another_run``): another run's parts in the directory (a second start
of Locust's web UI that wrote where the first did) would be judged under this run's id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.run.reader import DamagedPart
from harness.run.recording import RECORDING_FILE, Recording

__all__ = ["Completeness", "completeness", "parts_of_another_run"]


@dataclass(frozen=True, slots=True)
class Completeness:
    """``missing``: why records are not all here (each one line); ``damaged``: unreadable parts."""

    missing: tuple[str, ...]
    damaged: tuple[DamagedPart, ...]
    slots_not_run: tuple[str, ...]
    lost_workers: tuple[str, ...]

    @property
    def whole(self) -> bool:
        return not (self.missing or self.damaged or self.slots_not_run or self.lost_workers)


def completeness(
    rows_by_process: Mapping[str, int],
    damaged: tuple[DamagedPart, ...],
    recording: Recording | None,
) -> Completeness:
    """The records read (``rows_by_process``) against what the run says it wrote."""
    if recording is None:
        return Completeness(
            (
                "recording.json is missing: the run did not end normally, so whether every record "
                "is here cannot be known",
            ),
            damaged,
            (),
            (),
        )
    missing: list[str] = []
    read = sum(rows_by_process.values())
    if read == 0 and recording.records_written > 0:
        missing.append(f"no records at all: the run wrote {recording.records_written}")
    for process, seen in sorted(recording.processes.items()):
        here = rows_by_process.get(process, 0)
        if read and here < seen.written:
            missing.append(f"{process}: the parts hold {here} of its {seen.written} records")
        if seen.recorded is not None and not seen.complete:
            missing.append(
                f"{process} recorded {seen.recorded} requests; {seen.written} were written, "
                f"{seen.lost} counted lost"
            )
    if recording.records_lost:
        missing.append(f"{recording.records_lost} records could not be written")
    return Completeness(
        tuple(missing),
        damaged,
        tuple(recording.slots_not_run),
        tuple(recording.lost_workers),
    )


def parts_of_another_run(
    run_id: str,
    stems: Sequence[str],
    rows_by_process: Mapping[str, int],
    recording: Recording,
) -> str | None:
    """Why the directory's parts are not (only) the run's that ``recording`` describes, in one
    line; None when they can be. Held to: the run id, the part names the run wrote (where
    ``recording.json`` lists them), and no process with more rows than it wrote."""
    if recording.run_id is not None and recording.run_id != run_id:
        return (
            f"{RECORDING_FILE} is of run {recording.run_id}, run.json of run {run_id}: "
            "the directory holds parts of two runs"
        )
    if recording.parts is not None:
        foreign = sorted(set(stems) - set(recording.parts))
        if foreign:
            return (
                f"records/ holds {len(foreign)} parts run {run_id} did not write "
                f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}): "
                "another run's records are in its directory"
            )
    for process, rows in sorted(rows_by_process.items()):
        seen = recording.processes.get(process)
        written = seen.written if seen is not None else 0
        if rows > written:
            return (
                f"the parts hold {rows} records of {process}, run {run_id} wrote {written}: "
                "another run's records are in its directory"
            )
    return None
