"""``aisk-harness report``: bad input ends in one line and exit 2, before any notebook runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness.report
from harness.cli.main import main
from harness.cli.report import report_after_run
from harness.load.scenario import Case, Scenario
from harness.run.plan import CasePlan, RunPlan, write_plan


def write_small_plan(run_dir: Path) -> None:
    case = Case.model_validate({"name": "c", "behaviour": {"kind": "hammer"}})
    plan = RunPlan(
        run_id="r", created_at="2026-11-25T00:00:00+00:00", target="http://127.0.0.1:9",
        embedded_emulator=False, org_timezone="Asia/Taipei", scenario=Scenario(cases=[case]),
        cases=[CasePlan(case=case, chatbot_id="b", duration_ns=1, keys=[])],
    )  # fmt: skip
    write_plan(run_dir, plan)


def report(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["report", str(run_dir)])
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


def test_a_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = report(tmp_path / "nowhere", capsys)
    assert code == 2
    assert (
        err
        == f"aisk-harness report: error: RUN_DIR {str(tmp_path / 'nowhere')!r} is not a directory\n"
    )


def test_a_directory_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = report(tmp_path, capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "is not a run directory: run.json is missing" in err


def test_a_run_without_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_small_plan(tmp_path)
    code, err = report(tmp_path, capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "holds no records (records/part-*.parquet)" in err
    assert not (tmp_path / "report.html").exists()


def test_an_unreadable_records_part(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_small_plan(tmp_path)
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "part-000000.parquet").write_bytes(b"not parquet")
    code, err = report(tmp_path, capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert f"cannot read the records of {str(tmp_path)!r}" in err
    assert not (tmp_path / "notebooks").exists()


def test_a_broken_run_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run.json").write_text(json.dumps({"run_id": "x"}))
    code, err = report(tmp_path, capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "not a run plan of this harness version" in err


def test_a_report_failure_after_a_run_is_one_line_and_returns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_small_plan(tmp_path)
    report_after_run(tmp_path)  # no records: a HarnessError, printed, not raised
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"report: not complete: {str(tmp_path)!r} holds no records (records/part-*.parquet)\n"
    )

    def broken(run_dir: Path) -> None:
        raise RuntimeError("a bug in the report")

    monkeypatch.setattr(harness.report, "build_report", broken)
    report_after_run(tmp_path)  # even a bug of the report leaves the run its verdict
    assert capsys.readouterr().err == "report: failed: RuntimeError: a bug in the report\n"
