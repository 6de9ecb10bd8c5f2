"""``aisk-harness run`` against a target that misbehaves, and a run directory that stops working.

Each test injects one kind of fault on loopback (``faulty_target.FaultyTarget`` in front of a real
emulator, or the run directory going read-only) and asserts what the issue promises: every request
recorded with an error class, the run finished, no traceback, the exit code saying what happened,
and the chatbots deleted whenever the target lets us.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest
from faulty_target import HUGE_BYTES, FaultyTarget
from pydantic import SecretStr
from testkit import clean_env

from harness.api.answer import MAX_BODY_BYTES
from harness.api.client import AiskClient
from harness.cli.calibrate import CALIBRATION_FILE
from harness.emulator import BackgroundEmulator, EmulatorConfig
from harness.load.chatbots import chatbot_for_case
from harness.load.scenario import parse_scenario
from harness.locust.probes import run_setup_probes
from harness.run.parts import part_paths
from harness.run.reader import read_records

pytestmark = pytest.mark.locust

API_KEY = "org-key-fault-tests-7c2a"
RUN_TIMEOUT_S = 120
REQUEST_TIMEOUT_S = 1.0

PACED = """
name = "faults"
duration = "{duration}"

[[cases]]
name = "paced"
behaviour = {{ kind = "paced", rate = {rate} }}
population = {{ keys = {keys}, users_per_key = {clients} }}
rate_limit = {{ limit = 5, duration = "1s", vary_by = "device" }}
"""


@pytest.fixture
def emulator() -> Iterator[BackgroundEmulator]:
    with BackgroundEmulator(EmulatorConfig(api_keys=(SecretStr(API_KEY),))) as running:
        yield running


def scenario(tmp_path: Path, duration: str = "3s", keys: int = 1) -> Path:
    """One paced case: one key of three clients, or several keys of two clients each."""
    path = tmp_path / "faults.toml"
    rate, clients = (30, 3) if keys == 1 else (40, 2)
    path.write_text(PACED.format(duration=duration, rate=rate, keys=keys, clients=clients))
    return path


def harness(command: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", command, *args]


def run_against(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        harness("run", "--target", url, "--api-key", API_KEY,
                "--scenario", str(scenario(tmp_path)), "--out", str(tmp_path / "run"),
                "--request-timeout", str(REQUEST_TIMEOUT_S), *extra),
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip


def chats(run_dir: Path) -> pd.DataFrame:
    records = read_records(run_dir)
    probe = records["phase"].astype(str).str.startswith("access:")
    chats = records[(records["kind"] == "chat") & ~probe].copy()
    chats["error_class"] = chats["error_class"].astype(str)  # categorical when read
    return chats


def chatbot_ids(run_dir: Path) -> list[str]:
    return [case["chatbot_id"] for case in json.loads((run_dir / "run.json").read_text())["cases"]]


def exists(emulator: BackgroundEmulator, chatbot_id: str) -> bool:
    answer = httpx.get(
        f"{emulator.base_url}/bv/aisk/v1/chatbots/{chatbot_id}",
        headers={"authorization": API_KEY},
    )
    return answer.status_code == 200


def passed_through(target: FaultyTarget, run_dir: Path) -> int:
    """The load's chats the target answered faithfully: its first ``after`` chats, less the
    calibration's (``calibration.json``) and the set-up's access probes (chats too)."""
    records = read_records(run_dir)
    probes = records["phase"].astype(str).str.startswith("access:") & (records["kind"] == "chat")
    calibration = json.loads((run_dir / CALIBRATION_FILE).read_text())["chats"]
    return target.after - len(calibration) - int(probes.sum())


def assert_clean(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "Traceback" not in done.stdout


def test_resets_hangs_and_trickling_answers_are_recorded_and_leave_the_verdict_inconclusive(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    # slow: one byte every 0.2 s never trips a socket timeout of 1 s; only the request's own
    # deadline ends it.
    with FaultyTarget(emulator.base_url, ["reset", "hang", "slow"], after=20) as target:
        done = run_against(target.url, tmp_path)
    assert_clean(done)
    assert done.returncode == 3, done.stdout[-3000:]
    run_dir = tmp_path / "run"
    records = chats(run_dir)
    faulted = records[records["error_class"] != ""]
    assert len(records) - len(faulted) == passed_through(target, run_dir)
    assert (faulted["outcome"] == "transport_error").all()
    classes = faulted["error_class"].value_counts().to_dict()
    assert classes == {"reset": target.faulted["reset"],
                       "timeout": target.faulted["hang"] + target.faulted["slow"]}  # fmt: skip
    timeouts = faulted[faulted["error_class"] == "timeout"]
    # Ended by the deadline, not by the slow answer's end (some 40 s away).
    assert timeouts["latency_ms"].max() < 5_000
    assert timeouts["latency_ms"].min() >= REQUEST_TIMEOUT_S * 1000
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["conformant"] is False
    assert verdict["unanswered"] == classes
    assert "INCONCLUSIVE: 0 of 11 checks failed" in done.stdout
    assert "requests got no whole answer" in done.stdout
    assert not any(exists(emulator, chatbot) for chatbot in chatbot_ids(run_dir))


def test_odd_bodies_are_classified_read_bounded_and_fail_well_formed(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    faults = ["html-429", "empty-429", "truncated-500", "huge-500", "html-500"]
    with FaultyTarget(emulator.base_url, faults, after=20) as target:
        done = run_against(target.url, tmp_path)
    assert_clean(done)
    assert done.returncode == 1, done.stdout[-3000:]
    records = chats(tmp_path / "run")
    assert (records["error_class"] == "").sum() == passed_through(target, tmp_path / "run")
    records = records[records["error_class"] != ""]
    by_class = records.groupby("error_class")
    assert by_class.size().to_dict() == {
        "not_json": target.faulted["html-429"] + target.faulted["html-500"],
        "empty": target.faulted["empty-429"],
        "truncated": target.faulted["truncated-500"],
        "too_large": target.faulted["huge-500"],
    }
    assert set(by_class["http_status"].unique().explode()) == {429, 500}
    huge = records[records["error_class"] == "too_large"]
    assert (huge["response_bytes"] == MAX_BODY_BYTES).all()
    # The harness stopped reading: no huge answer got near its 64 MiB out.
    assert target.huge_bytes_sent < HUGE_BYTES // 4
    verdict = json.loads((tmp_path / "run" / "verdict.json").read_text())
    well_formed = next(check for check in verdict["checks"] if check["id"] == "well-formed")
    assert well_formed["outcome"] == "fail"
    assert "bodies not read whole" in well_formed["summary"]
    assert "NOT CONFORMANT" in done.stdout


def test_a_target_that_dies_and_recovers_still_gets_its_chatbots_deleted(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    with FaultyTarget(emulator.base_url, ["die"], after=20, revive_after_s=1.0) as target:
        done = run_against(target.url, tmp_path)
        assert not target.dead  # it came back before the end of the run
    assert_clean(done)
    assert done.returncode == 3, done.stdout[-3000:]
    records = chats(tmp_path / "run")
    lost = records[records["outcome"] == "transport_error"]
    assert len(lost) > 0
    assert set(lost["error_class"]) <= {"connect", "reset"}
    assert "connect" in set(lost["error_class"])  # refused while it was down
    assert (records.iloc[-5:]["outcome"] != "transport_error").all()  # answered again
    assert not any(exists(emulator, chatbot) for chatbot in chatbot_ids(tmp_path / "run"))


def test_a_target_dead_at_deletion_time_is_a_warning_that_names_the_chatbots(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    with FaultyTarget(emulator.base_url, ["die"], after=20) as target:
        done = run_against(target.url, tmp_path)
        assert target.dead
    assert_clean(done)
    assert done.returncode == 3, done.stdout[-3000:]
    left = chatbot_ids(tmp_path / "run")
    assert all(exists(emulator, chatbot) for chatbot in left)
    assert f"warning: 1 chatbots were not deleted (delete them by hand): {left[0]}" in done.stdout
    assert "was not deleted" in done.stderr
    recording = json.loads((tmp_path / "run" / "recording.json").read_text())
    assert recording["chatbots_not_deleted"] == left
    assert set(chats(tmp_path / "run")["error_class"]) == {"", "connect", "reset"}


def assert_judgeable(run_dir: Path) -> None:
    """``aisk-harness check`` judges what a cut-short run saved, without a traceback."""
    check = subprocess.run(
        harness("check", str(run_dir)), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip
    assert check.returncode in (0, 3), check.stderr
    assert "Traceback" not in check.stderr


@pytest.fixture
def read_only() -> Iterator[list[Path]]:
    """Directories made read-only by ``make_read_only``; restored at the end."""
    made: list[Path] = []
    yield made
    for path in made:
        subprocess.run(["umount", str(path)], check=False, capture_output=True)
        path.chmod(0o755)


def refuses_writes(path: Path) -> bool:
    try:
        (path / ".probe").write_text("")
    except OSError:
        return True
    (path / ".probe").unlink()
    return False


def make_read_only(path: Path, made: list[Path]) -> None:
    """What a failing disk does (ext4 remounts read-only on errors): writes fail.

    Permission bits first; root ignores them, so then the directory is bind-mounted read-only
    onto itself (EROFS).
    """
    made.append(path)
    path.chmod(0o555)
    if refuses_writes(path):
        return
    bound = subprocess.run(["mount", "--bind", str(path), str(path)], check=False)
    if bound.returncode != 0:
        pytest.skip("root without the right to mount: cannot make a directory unwritable")
    subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)
    assert refuses_writes(path)


def test_a_records_directory_that_stops_taking_writes_stops_the_run_and_keeps_what_was_written(
    emulator: BackgroundEmulator, tmp_path: Path, read_only: list[Path]
) -> None:
    run_dir = tmp_path / "run"
    records_dir = run_dir / "records"
    child = subprocess.Popen(
        harness("run", "--target", emulator.base_url, "--api-key", API_KEY,
                "--scenario", str(scenario(tmp_path, "30s")), "--out", str(run_dir)),
        cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not part_paths(records_dir):
            time.sleep(0.1)
        written = [path.stem for path in part_paths(records_dir)]
        assert written, "no part was ever written"
        make_read_only(records_dir, read_only)
        started = time.monotonic()
        _, stderr = child.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
    assert time.monotonic() - started < 25  # stopped, not run to its 30 s end
    assert "Traceback" not in stderr, stderr[-3000:]
    assert child.returncode == 2
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("aisk-harness run: error: the run stopped early")
    assert "cannot write" in stderr
    assert "stopping the run" in stderr
    # Every part written before is intact and readable (in either form: a compaction may have
    # rewritten it before the directory refused writes), and the run can still be judged.
    assert [path.stem for path in part_paths(records_dir)][: len(written)] == written
    recording = json.loads((run_dir / "recording.json").read_text())
    assert len(read_records(run_dir)) == recording["records_written"] > 0
    # Every record is written or counted lost: what the full disk refused is kept and retried at
    # the close, where compaction may have freed the room it needed (then nothing is lost).
    for process, seen in recording["processes"].items():
        assert seen["written"] + seen["lost"] == seen["recorded"], process
    assert not any(exists(emulator, chatbot) for chatbot in chatbot_ids(run_dir))
    assert_judgeable(run_dir)


# Paced, not a hammer: a hammer's rate is whatever the in-process emulator answers, and past
# ~5 000 requests a second its first part (2 s of records) no longer fits the disk, so nothing at
# all was written. 2 × 1 500 a second fills it in a few seconds, a part or two in.
HAMMER = """
name = "fill-the-disk"
duration = "30s"

[[cases]]
name = "hammer"
behaviour = { kind = "paced", rate = 1500 }
population = { keys = 2, users_per_key = 4 }
rate_limit = { limit = 1000000, duration = "1s", vary_by = "device" }
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 600 KiB file system (tmpfs) that a run fills up within seconds."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount_point)],
        check=False, capture_output=True,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root with CAP_SYS_ADMIN)")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=False, capture_output=True)


def test_a_disk_that_fills_up_stops_the_run_cleanly_and_keeps_what_was_written(
    emulator: BackgroundEmulator, tmp_path: Path, small_disk: Path
) -> None:
    run_dir = small_disk / "run"
    hammer = tmp_path / "hammer.toml"  # some 60 bytes of Parquet a request: full in seconds
    hammer.write_text(HAMMER)
    done = subprocess.run(
        harness("run", "--target", emulator.base_url, "--api-key", API_KEY, "--no-report",
                "--scenario", str(hammer), "--out", str(run_dir)),
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip
    ended_ns = time.time_ns()
    # Stopped, not run to its 30 s end: the whole run, teardown included, was over less than 30 s
    # after its first chat left (measured from the load, not from the set-up a busy host slows).
    first_send_ns = int(read_records(run_dir, ["send_wall_ns"])["send_wall_ns"].min())
    assert ended_ns - first_send_ns < 30_000_000_000
    assert "stopping the run (every record written so far is kept)" in done.stderr
    assert_clean(done)  # Locust's own reports, which it writes unguarded, are skipped
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("aisk-harness run: error: the run stopped early")
    )
    assert "No space left on device" in done.stderr
    recording = json.loads((run_dir / "recording.json").read_text())
    assert len(read_records(run_dir)) == recording["records_written"] > 0
    # Every record is written or counted lost: what the full disk refused is kept and retried at
    # the close, where compaction may have freed the room it needed (then nothing is lost).
    for process, seen in recording["processes"].items():
        assert seen["written"] + seen["lost"] == seen["recorded"], process
    assert not any(exists(emulator, chatbot) for chatbot in chatbot_ids(run_dir))
    # What was saved can be judged (elsewhere: the full disk takes no verdict.json).
    saved = shutil.copytree(run_dir, tmp_path / "saved")
    assert_judgeable(saved)


def test_an_unwritable_out_is_a_clear_error_before_any_load(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = subprocess.run(
        harness("run", "--target", emulator.base_url, "--api-key", API_KEY,
                "--scenario", str(scenario(tmp_path)), "--out", str(blocker / "run")),
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"aisk-harness run: error: --out: cannot write to {str(blocker / 'run')!r}: Not a directory"
    ]
    assert emulator.service.stats.admitted == 0


def locust_workers(run_pid: int) -> list[psutil.Process]:
    """The Locust workers under ``aisk-harness run``: the master's forked children (not its
    background compactor, ``harness.run.compaction``, nor its live judge, ``harness.cli.live``)."""
    masters = psutil.Process(run_pid).children()
    background = {"harness.run.compaction", "harness.cli.live"}
    return [
        child
        for master in masters
        for child in master.children()
        if not background & set(child.cmdline())
    ]


def test_a_worker_killed_mid_run_is_reported_and_what_it_shipped_is_kept(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    path = scenario(tmp_path, "6s", keys=2)
    child = subprocess.Popen(
        harness("run", "--target", emulator.base_url, "--api-key", API_KEY, "--scenario",
                str(path), "--out", str(run_dir), "--processes", "2"),
        cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        stats = emulator.service.stats
        # Both keys under way for a while (records are shipped every second).
        while stats.admitted + stats.throttled < 120 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = locust_workers(child.pid)
        assert len(workers) == 2, "expected two Locust workers"
        workers[0].kill()  # SIGKILL: no last batch, no goodbye
        stdout, stderr = child.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
    assert "Traceback" not in stderr, stderr[-3000:]
    assert child.returncode == 3, stdout[-3000:]
    recording = json.loads((run_dir / "recording.json").read_text())
    assert len(recording["lost_workers"]) == 1
    lost = recording["lost_workers"][0]
    assert recording["processes"][lost]["recorded"] is None  # it never reported its total
    records = chats(run_dir)
    kept = int((records["process"] == lost).sum())
    assert kept == recording["processes"][lost]["received"] > 0  # every batch received is kept
    survivor = next(p for p in recording["processes"] if p not in (lost, "master"))
    assert (
        recording["processes"][survivor]["recorded"] == recording["processes"][survivor]["received"]
    )
    assert f"warning: worker {lost} was lost mid-run; its {kept} records" in stdout
    assert f"worker {lost} was lost" in stderr
    assert not any(exists(emulator, chatbot) for chatbot in chatbot_ids(run_dir))
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["lost_processes"] == [lost]
    again = subprocess.run(
        harness("check", str(run_dir)), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip
    assert again.returncode == 3
    assert f"worker {lost} lost mid-run" in again.stdout
    assert json.loads((run_dir / "verdict.json").read_text()) == verdict


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        (["huge-500", "reset"], [(500, "too_large"), (0, "reset")]),
        # An HTML 429 was read whole: its body is judged (not JSON), not left unread.
        (["truncated-500", "html-429"], [(500, "truncated"), (429, "not_json")]),
    ],
)
def test_set_up_probes_meeting_a_fault_are_recorded_with_its_class(
    emulator: BackgroundEmulator, tmp_path: Path, faults: list[str], expected: list[tuple[int, str]]
) -> None:
    with AiskClient(emulator.base_url, API_KEY) as client:
        case = parse_scenario(tomllib.loads(scenario(tmp_path).read_text())).cases[0]
        chatbot = client.create_chatbot(chatbot_for_case(case, "probes"))
    with FaultyTarget(emulator.base_url, faults) as target:
        probes = list(run_setup_probes(target.url, API_KEY, "", {"paced": chatbot.id}))
    chat_probes = [probe for probe in probes if probe.kind == "chat"]
    assert [(p.answer.http_status, p.answer.error_class) for p in chat_probes] == expected
    # A body past the bound was not kept (too_large): every other was read whole, within it.
    assert all(
        probe.answer.response_bytes <= MAX_BODY_BYTES
        for probe in probes
        if probe.answer.error_class != "too_large"
    )
    assert target.huge_bytes_sent < HUGE_BYTES // 4
    roundtrip = next(probe for probe in probes if probe.phase == "roundtrip")
    assert (roundtrip.answer.http_status, roundtrip.answer.error_class) == (200, "")
