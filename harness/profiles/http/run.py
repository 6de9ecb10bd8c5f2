"""One http-profile run: the plan, the load, the records and ``recording.json`` on disk.

The run directory is laid out as a chatbot run's (``run.json``, ``records/``, ``recording.json``)
so that ``aisk-harness check`` and the report read it unchanged.
"""

from __future__ import annotations

import threading
from pathlib import Path

from harness.profiles.http.plan import http_keys, http_plan
from harness.profiles.http.scenario import HttpScenario
from harness.profiles.http.sender import PROCESS, Recorder, send_case
from harness.run.compaction import compact
from harness.run.parts import ARROW, records_dir, write_arrow_part
from harness.run.plan import write_plan
from harness.run.recording import ProcessRecording, Recording, write_recording
from harness.run.records import records_to_table

__all__ = ["run_http"]


def _join(threads: list[threading.Thread], stop: threading.Event) -> bool:
    """Wait for every client; on Ctrl-C, stop them (each ends after its request in flight).
    Whether the run was interrupted."""
    interrupted = False
    for thread in threads:
        while thread.is_alive():
            try:
                thread.join(0.5)
            except KeyboardInterrupt:
                interrupted = True
                stop.set()
    return interrupted


def run_http(
    scenario: HttpScenario,
    target: str,
    run_dir: Path,
    *,
    run_id: str,
    versions: dict[str, str],
    timeout_s: float,
) -> int:
    """Send the scenario's load to ``target`` and write the run directory; the records sent."""
    keys = http_keys(scenario)
    write_plan(run_dir, http_plan(scenario, keys, run_id=run_id, target=target, versions=versions))
    recorder, stop = Recorder(), threading.Event()
    threads = [
        thread
        for case in scenario.cases
        for thread in send_case(
            target,
            case,
            keys[case.name],
            scenario.case_duration_ns(case),
            recorder,
            stop,
            timeout_s,
        )
    ]
    _join(threads, stop)
    records = recorder.records()
    folder = records_dir(run_dir)
    folder.mkdir(exist_ok=True)
    if records:
        prefix = f"part-{PROCESS}-{run_id}-"  # as the sink names a run's parts
        write_arrow_part(records_to_table(records), folder / f"{prefix}000000{ARROW}")
        compact(folder, prefix)
    count = len(records)
    write_recording(
        run_dir,
        Recording(
            processes={
                PROCESS: ProcessRecording(recorded=count, received=count, written=count, lost=0)
            },
            records_written=count,
            records_lost=0,
        ),
    )
    return count
