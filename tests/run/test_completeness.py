"""``parts_of_another_run``: a directory whose parts are not the run's own gets no verdict."""

from __future__ import annotations

from harness.run.completeness import parts_of_another_run
from harness.run.recording import ProcessRecording, Recording

RUN = "20261207T200000000000Z"


def recording(parts: list[str] | None, written: int = 5, run_id: str | None = RUN) -> Recording:
    seen = ProcessRecording(recorded=written, received=written, written=written, lost=0)
    return Recording(
        run_id=run_id,
        parts=parts,
        processes={"local": seen},
        records_written=written,
        records_lost=0,
    )


def test_the_runs_own_parts_and_counts_pass() -> None:
    own = ["part-local-ab-000000", "part-local-ab-000001"]
    assert parts_of_another_run(RUN, own, {"local": 5}, recording(own)) is None
    # fewer rows are a missing part (inconclusive), never a refusal
    assert parts_of_another_run(RUN, own[:1], {"local": 3}, recording(own)) is None


def test_a_part_not_listed_is_named() -> None:
    own = ["part-local-ab-000000"]
    stems = [*own, "part-local-cd-000000"]
    reason = parts_of_another_run(RUN, stems, {"local": 5}, recording(own))
    assert reason is not None
    assert "1 parts run" in reason
    assert "part-local-cd-000000" in reason


def test_more_rows_than_written_are_refused_even_without_part_names() -> None:
    reason = parts_of_another_run(RUN, ["part-local-000000"], {"local": 6}, recording(None))
    assert reason is not None
    assert "the parts hold 6 records of local, run" in reason
    unknown = parts_of_another_run(RUN, [], {"local": 5, "w9": 1}, recording(None))
    assert unknown is not None
    assert "of w9" in unknown


def test_a_recording_of_another_run_id_is_refused() -> None:
    reason = parts_of_another_run(RUN, [], {}, recording([], run_id="other"))
    assert reason is not None
    assert reason.startswith("recording.json is of run other")
    assert parts_of_another_run(RUN, [], {}, recording([], run_id=None)) is None
