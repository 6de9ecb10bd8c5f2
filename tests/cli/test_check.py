"""``aisk-harness check`` on a damaged or incomplete run: it says what it judged, never passes
what it did not read.

One short real run is made once (module fixture); each test damages a copy of it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import SecretStr
from run_target import API_KEY, RUN_TIMEOUT_S, Target, run, scenario_file
from testkit import clean_env, harness_command

from harness.emulator import BackgroundEmulator, EmulatorConfig
from harness.run.parts import part_paths, records_dir

pytestmark = pytest.mark.locust


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A conformant two-worker run (so its records come in several parts)."""
    folder = tmp_path_factory.mktemp("finished")
    with BackgroundEmulator(EmulatorConfig(api_keys=(SecretStr(API_KEY),))) as emulator:
        target = Target(emulator)
        done = run(
            ["--target", target.url, "--api-key", API_KEY, "--scenario",
             str(scenario_file(folder, "3s")), "--out", str(folder / "run"), "--processes", "2"],
            folder,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "run"


def copy_of(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "verdict.json").unlink()
    return copy


def check(run_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        harness_command("check", str(run_dir)), capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, check=False, env=clean_env(),
    )  # fmt: skip


def parts(run_dir: Path) -> list[Path]:
    return part_paths(records_dir(run_dir))


def verdict(run_dir: Path) -> dict[str, object]:
    return dict(json.loads((run_dir / "verdict.json").read_text()))


def test_the_untouched_run_is_conformant(finished_run: Path, tmp_path: Path) -> None:
    run_dir = copy_of(finished_run, tmp_path)
    done = check(run_dir)
    assert done.returncode == 0, done.stdout[-3000:]
    seen = verdict(run_dir)
    assert seen["status"] == "conformant"
    assert seen["run_id"] == json.loads((run_dir / "run.json").read_text())["run_id"]
    assert seen["harness_version"]
    plan = json.loads((run_dir / "run.json").read_text())
    assert set(plan["versions"]) == {"harness", "locust", "python"}
    assert all(plan["versions"].values())
    assert len(parts(run_dir)) >= 2


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_a_damaged_part_is_one_line_naming_it_and_the_rest_is_judged(
    finished_run: Path, tmp_path: Path, damage: str
) -> None:
    run_dir = copy_of(finished_run, tmp_path)
    part = parts(run_dir)[0]
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"")
    done = check(run_dir)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1
    assert str(part) in errors[0]
    seen = verdict(run_dir)
    assert seen["status"] == "inconclusive"
    assert [str(part) in text for text in seen["damaged_parts"]] == [True]  # type: ignore[union-attr]
    assert len(seen["checks"]) == 11  # type: ignore[arg-type]  # the rest was judged


def test_no_records_at_all_is_inconclusive_never_conformant(
    finished_run: Path, tmp_path: Path
) -> None:
    run_dir = copy_of(finished_run, tmp_path)
    for part in parts(run_dir):
        part.unlink()
    done = check(run_dir)
    assert done.returncode == 3, done.stdout[-3000:]
    assert "no records at all" in done.stdout
    assert "CONFORMANT" not in done.stdout.replace("NOT CONFORMANT", "")
    assert verdict(run_dir)["status"] == "inconclusive"


def test_a_missing_part_is_fewer_rows_than_written(finished_run: Path, tmp_path: Path) -> None:
    run_dir = copy_of(finished_run, tmp_path)
    parts(run_dir)[-1].unlink()
    done = check(run_dir)
    assert done.returncode == 3, done.stdout[-3000:]
    assert "records" in done.stdout
    missing = verdict(run_dir)["missing"]
    assert isinstance(missing, list)
    assert any("the parts hold" in reason for reason in missing)


def test_a_run_without_recording_json_is_inconclusive(finished_run: Path, tmp_path: Path) -> None:
    run_dir = copy_of(finished_run, tmp_path)
    (run_dir / "recording.json").unlink()
    done = check(run_dir)
    assert done.returncode == 3
    assert "recording.json is missing" in done.stdout


def test_chats_refused_with_another_4xx_are_named_in_the_verdict(
    finished_run: Path, tmp_path: Path
) -> None:
    # Three of the load's admitted chats turned into a training refusal (400, code 9).
    run_dir = copy_of(finished_run, tmp_path)
    for part in parts(run_dir):
        table = pq.read_table(part)
        frame = table.to_pandas()
        rows = frame.index[(frame["outcome"] == "ok") & (frame["kind"] == "chat")
                           & ~frame["phase"].astype(str).str.startswith("access:")][:3]  # fmt: skip
        if len(rows):
            break
    case = str(frame.loc[rows[0], "case"])
    rows = rows[frame.loc[rows, "case"] == case]
    frame.loc[rows, ["outcome", "http_status", "grpc_code", "message"]] = [
        "client_error", 400, 9, "chatbot is training",
    ]  # fmt: skip
    pq.write_table(pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False), part)
    done = check(run_dir)
    assert "Traceback" not in done.stderr
    line = f"case {case!r}: {len(rows)} × 400 code 9 ('chatbot is training')"
    assert line in done.stdout
    assert verdict(run_dir)["refused_chats"] == [
        {"case": case, "http_status": 400, "grpc_code": 9, "message": "chatbot is training",
         "count": len(rows)},
    ]  # fmt: skip


def refused_in_one_line(run_dir: Path) -> str:
    done = check(run_dir)
    assert done.returncode == 2, done.stdout[-3000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, done.stderr
    assert not (run_dir / "verdict.json").exists()  # no verdict at all
    return errors[0]


def test_a_part_the_run_did_not_write_is_refused_in_one_line(
    finished_run: Path, tmp_path: Path
) -> None:
    # Another run's part in the directory (Locust's web UI started twice into it).
    run_dir = copy_of(finished_run, tmp_path)
    first = parts(run_dir)[0]
    shutil.copy(first, first.with_name("part-w0-0ther000-000000.parquet"))
    error = refused_in_one_line(run_dir)
    assert "is not one run" in error
    assert "part-w0-0ther000-000000" in error


def test_more_records_than_written_are_refused_without_the_part_names(
    finished_run: Path, tmp_path: Path
) -> None:
    # A recording.json of before the part names were kept: held to its counts alone.
    run_dir = copy_of(finished_run, tmp_path)
    recording = json.loads((run_dir / "recording.json").read_text())
    del recording["parts"], recording["run_id"]
    (run_dir / "recording.json").write_text(json.dumps(recording))
    first = parts(run_dir)[0]
    shutil.copy(first, first.with_name(f"{first.stem}-again{first.suffix}"))
    error = refused_in_one_line(run_dir)
    assert "another run's records are in its directory" in error
    assert "the parts hold" in error


def test_a_recording_of_another_run_is_refused(finished_run: Path, tmp_path: Path) -> None:
    run_dir = copy_of(finished_run, tmp_path)
    recording = json.loads((run_dir / "recording.json").read_text())
    recording["run_id"] = "20260101T000000000000Z"
    (run_dir / "recording.json").write_text(json.dumps(recording))
    assert "recording.json is of run 20260101T000000000000Z" in refused_in_one_line(run_dir)
