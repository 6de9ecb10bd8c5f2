"""``recording.json``: how each process's records reached the disk, written once the run ends.

The recording process (local, or the master) writes it after its last record is written or
counted lost. For every process: what it recorded (its own count, sent with its last batch),
what reached the writer, what the parts hold, what was lost. The run's invariant, stated here and
checked by ``check`` against the parts it reads: rows on disk = recorded − lost, per process.
A worker that never reported (killed, cut off) has no ``recorded``: what it sent after its last
batch is unknown, and the run is inconclusive.

``run_id`` and ``parts`` (the stems of the part files the run wrote) tie the file to its run: a
directory whose parts are not these (another run's written into it) is refused by ``check``
(``harness.run.completeness.parts_of_another_run``). Files written before they existed have
neither, and are held to their counts alone.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harness.model_files import read_model, write_model

__all__ = ["RECORDING_FILE", "ProcessRecording", "Recording", "read_recording", "write_recording"]

RECORDING_FILE = "recording.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProcessRecording(_Strict):
    """One sending process: ``local``, or a worker ``w<index>`` (the master sends set-up only)."""

    recorded: int | None = Field(ge=0)  # None: it never reported its total (lost)
    received: int = Field(ge=0)  # rows that reached the writer from it
    written: int = Field(ge=0)  # rows of it in the parts
    lost: int = Field(ge=0)  # received but not written (a failed disk, after the close)

    @property
    def complete(self) -> bool:
        """Every record it made is accounted for: written, or counted lost."""
        return self.recorded is not None and self.written == self.recorded - self.lost


class Recording(_Strict):
    run_id: str | None = None  # the run that wrote it (run.json's run_id)
    parts: list[str] | None = None  # the stems of the parts it wrote, in order
    processes: dict[str, ProcessRecording]
    records_written: int = Field(ge=0)
    records_lost: int = Field(ge=0)
    lost_workers: list[str] = Field(default_factory=list)
    slots_not_run: list[str] = Field(default_factory=list)  # "case/key" of slots no user took
    chatbots_not_deleted: list[str] = Field(default_factory=list)
    # Open-model arrivals never sent (every request in flight, and max_delay waited), by case.
    dropped_sends: dict[str, int] = Field(default_factory=dict)
    # Open-model arrivals the sending process's scheduler handed over late (more than 5 ms and
    # half the gap to the arrival before after their instant), by case: the process itself was
    # behind (busy), not the target (a generator limit).
    behind_schedule: dict[str, int] = Field(default_factory=dict)

    @property
    def invariant_holds(self) -> bool:
        """rows on disk = recorded − lost, for every process."""
        return all(process.complete for process in self.processes.values())


def write_recording(run_dir: Path, recording: Recording) -> Path:
    return write_model(run_dir / RECORDING_FILE, recording)


def read_recording(run_dir: Path) -> Recording:
    return read_model(
        run_dir / RECORDING_FILE,
        Recording,
        missing=f"{str(run_dir)!r} has no {RECORDING_FILE}: the run did not end normally",
        kind="a recording of this harness version",
    )
