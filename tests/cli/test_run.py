"""``aisk-harness run`` end to end: Locust in a subprocess against an emulator on loopback.

The emulator runs in the test process, so the tests can compare what the harness recorded with
what the target decided, and see every secret it handed out.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from argparse import Namespace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from run_target import (
    API_KEY,
    RUN_TIMEOUT_S,
    Target,
    assert_interruption_said,
    run,
    run_command,
    scenario_file,
)
from testkit import clean_env, load_chats

from harness.cli.calibrate import CALIBRATION_CHATS
from harness.cli.main import main
from harness.cli.run import FINISHED_RUN_FILES, _name_absent
from harness.emulator import BackgroundEmulator, EmulatorConfig
from harness.run.interruption import Interruption
from harness.run.reader import read_records

pytestmark = pytest.mark.locust


def locust_request_count(run_dir: Path) -> int:
    """The requests Locust itself counted, from its final statistics."""
    entries = json.loads((run_dir / "locust_stats.json").read_text())
    return sum(int(entry["num_requests"]) for entry in entries)


def test_a_run_records_every_request_once_and_cleans_up(target: Target, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path)), "--out", str(run_dir)],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    records = read_records(run_dir)
    assert records["request_id"].is_unique
    chats = load_chats(records)
    assert len(chats) > 0
    assert chats["request_id"].is_unique
    assert len(chats) == locust_request_count(run_dir) == target.decided_by_load(run_dir)
    # The calibration before the load is on disk too: two admitted, two throttled.
    calibration = json.loads((run_dir / "calibration.json").read_text())
    assert [chat["admitted"] for chat in calibration["chats"]] == [True, True, False, False]
    assert [chat["http_status"] for chat in calibration["chats"]][2:] == [429, 429]
    assert set(chats["case"]) == {"device-hammer", "ip-paced", "burst", "device-polite"}
    # The summary table is printed with the run directory.
    assert "device-hammer" in done.stdout
    assert str(run_dir) in done.stdout
    plan = json.loads((run_dir / "run.json").read_text())
    assert all(not target.chatbot_exists(case["chatbot_id"]) for case in plan["cases"])
    assert (run_dir / "locust.html").is_file()


def test_vary_by_ip_uses_distinct_loopback_peers_that_the_target_saw(
    target: Target, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path, "2s")), "--out", str(run_dir)],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    records = load_chats(read_records(run_dir))
    ip_case = records[records["case"] == "ip-paced"]
    sources = set(ip_case["source_ip"])
    assert len(sources) == 3
    assert all(ip.startswith("127.") and not ip.startswith("127.0.0.") for ip in sources)
    assert sources <= target.emulator.service.stats.peers.values
    # Each key was counted on its own: every key got its own budget of 4 in its first second.
    first_second = ip_case[ip_case["send_mono_ns"] < ip_case["send_mono_ns"].min() + 900_000_000]
    assert (first_second[first_second["outcome"] == "ok"].groupby("source_ip").size() == 4).all()


SECOND_KEY = "second-org-key-run-tests-88a7"

# A burst that would take 25 s if --duration did not bound it, next to steady traffic.
RAILS = """
name = "rails"
duration = "2s"

[[cases]]
name = "device-hammer"
behaviour = { kind = "hammer" }
population = { keys = 2, users_per_key = 2 }
rate_limit = { limit = 5, duration = "1s", vary_by = "device" }

[[cases]]
name = "ip-paced"
behaviour = { kind = "paced", rate = 30 }
population = { keys = 2 }
rate_limit = { limit = 4, duration = "1s", vary_by = "ip" }

[[cases]]
name = "long-burst"
behaviour = { kind = "burst", size = 5, repeat = 100, interval = "250ms" }
rate_limit = { limit = 3, duration = "1s", vary_by = "device" }

[[cases]]
name = "device-polite"
behaviour = { kind = "polite" }
population = { keys = 1, users_per_key = 6 }
rate_limit = { limit = 4, duration = "1s", vary_by = "device" }
"""


def rails_file(tmp_path: Path) -> Path:
    path = tmp_path / "rails.toml"
    path.write_text(RAILS)
    return path


def test_no_secret_reaches_any_output_and_duration_bounds_the_whole_run(tmp_path: Path) -> None:
    config = EmulatorConfig(api_keys=(SecretStr(API_KEY), SecretStr(SECOND_KEY)))
    run_dir = tmp_path / "run"
    with BackgroundEmulator(config) as emulator:
        target = Target(emulator)
        # Keys from the environment (as the README advises: options show in `ps`), two workers.
        done = subprocess.run(
            run_command("--target", target.url, "--scenario", str(rails_file(tmp_path)),
                        "--out", str(run_dir), "--processes", "2"),
            cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
            env={**clean_env(), "AISK_API_KEY": API_KEY, "AISK_SECOND_API_KEY": SECOND_KEY},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    secrets = [API_KEY, SECOND_KEY, *target.tokens]
    assert len(target.tokens) == 4 + 1  # one per case and the calibration's, all by the harness
    outputs = {"stdout": done.stdout.encode(), "stderr": done.stderr.encode()}
    files = [path for path in run_dir.rglob("*") if path.is_file()]
    outputs |= {str(path): path.read_bytes() for path in files}
    expected = {"run.json", "recording.json", "verdict.json", "junit.xml", "locust.html",
                "locust_stats.json", "locust_stats.csv", "locust_failures.csv"}  # fmt: skip
    assert expected <= {path.name for path in files}
    assert any(path.suffix == ".parquet" for path in files)
    for name, content in outputs.items():
        for secret in secrets:
            assert secret.encode() not in content, f"a secret leaked into {name}"
    # The second organisation's key reached the access probes (from the environment).
    assert json.loads((run_dir / "run.json").read_text())["second_org"] is True
    # --duration bounds every slot, bursts included: repetitions start 250 ms apart within 2 s.
    chats = load_chats(read_records(run_dir))
    bursts = chats[chats["case"] == "long-burst"]
    assert 0 < bursts["key"].nunique() <= 8
    assert len(bursts) <= 5 * 8


SPARSE = """
name = "sparse"
duration = "2s"

[[cases]]
name = "sparse-burst"
behaviour = { kind = "burst", size = 4, repeat = 2, interval = "40s" }
rate_limit = { limit = 3, duration = "1s", vary_by = "device" }

[[cases]]
name = "slow-paced"
behaviour = { kind = "paced", rate = 0.025 }
population = { keys = 1 }
rate_limit = { limit = 3, duration = "1s", vary_by = "device" }
"""
SPARSE_TURN_S = 40.0  # the second burst and the second paced turn would be due 40 s in
AUTOSTOP_GRACE_S = 30.0  # harness.locust.session's: past duration + grace the users are stopped


def test_a_slot_whose_next_turn_falls_after_its_end_ends_with_the_run(
    target: Target, tmp_path: Path
) -> None:
    path = tmp_path / "sparse.toml"
    path.write_text(SPARSE)
    started = time.monotonic()
    done = run(["--target", target.url, "--api-key", API_KEY, "--scenario", str(path),
                "--out", str(tmp_path / "run"), "--no-calibrate"], tmp_path)  # fmt: skip
    elapsed = time.monotonic() - started
    assert done.returncode in (0, 3), done.stderr[-2000:]  # 3: so little traffic has little power
    # Waiting for a turn that falls after the slot's end only delays the run's end: the slots
    # end on their own, not when the run's grace is over and their users are stopped.
    assert "overran its time" not in done.stderr
    assert elapsed < min(SPARSE_TURN_S, 2 + AUTOSTOP_GRACE_S), f"{elapsed:.0f} s"
    chats = load_chats(read_records(tmp_path / "run"))
    assert chats.groupby("case").size().to_dict() == {"slow-paced": 1, "sparse-burst": 4}


def test_two_worker_processes_record_every_request_exactly_once(
    target: Target, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path)), "--out", str(run_dir), "--processes", "2"],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    records = read_records(run_dir)
    assert records["request_id"].is_unique
    chats = load_chats(records)
    diagnosis = str(chats["outcome"].value_counts().to_dict())
    assert len(chats) == target.decided_by_load(run_dir) == locust_request_count(run_dir), diagnosis
    assert set(chats["process"]) <= {"w0", "w1"}
    recording = json.loads((run_dir / "recording.json").read_text())
    for worker in recording["processes"].values():
        assert worker["recorded"] == worker["received"]
    # Every key is sent by exactly one process.
    assert (chats.groupby(["case", "key", "device_id"])["process"].nunique() == 1).all()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_keeps_every_request_sent_so_far(
    target: Target, tmp_path: Path, stop: signal.Signals
) -> None:
    run_dir = tmp_path / "run"
    child = subprocess.Popen(
        run_command("--target", target.url, "--api-key", API_KEY, "--scenario",
                    str(scenario_file(tmp_path, "60s")), "--out", str(run_dir)),
        cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while target.decided() < 300 + CALIBRATION_CHATS and time.monotonic() < deadline:
            time.sleep(0.1)
        assert target.decided() >= 300 + CALIBRATION_CHATS, "the run never got going"
        # The load has begun; let it run as long as the 3 s run that passes with power on every
        # check (the bursts' second round and the polite clients' retries need their windows to
        # elapse), so the verdict judged over what was recorded can be, and must be, a pass.
        time.sleep(3.5)
        before = datetime.now(UTC)
        child.send_signal(stop)
        stdout, stderr = child.communicate(timeout=RUN_TIMEOUT_S)
        sent = (before, datetime.now(UTC))
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    # cut requests are ours, not the target's
    headline = rf"^CONFORMANT \(interrupted by {stop.name} at [0-9.]+ s of 60 s\): 0 of 11 checks"
    assert re.search(headline, stdout, re.MULTILINE), stdout[-3000:]
    assert_interruption_said(run_dir, stdout, stop, sent, (3.5, 60.0))
    records = load_chats(read_records(run_dir))
    answered = records[records["error_class"] != "interrupted"]
    # Every request the target decided was recorded; the rest were cut in flight, and say so.
    assert len(answered) <= target.decided_by_load(run_dir) <= len(records)
    plan = json.loads((run_dir / "run.json").read_text())
    assert all(not target.chatbot_exists(case["chatbot_id"]) for case in plan["cases"])


def test_the_main_job_runs_against_the_embedded_emulator(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    # 2 s of the built-in scenario, whose windows are 10 s and a minute: the run is made and
    # judged, but cannot pass (the quota is never reached in 2 s, nor a minute's limit).
    done = run(["--duration", "2s", "--out", str(run_dir)], tmp_path)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "INCONCLUSIVE: 0 of 11 checks failed" in done.stdout
    assert "the traffic could not have shown a violation there" in done.stdout
    assert "embedded emulator at http://127.0.0.1:" in done.stdout
    records = read_records(run_dir)
    assert {"ok", "throttled"} <= set(records["outcome"])
    assert json.loads((run_dir / "run.json").read_text())["embedded_emulator"] is True


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--scenario", "missing.toml"], "missing.toml"),
        (["--duration", "5x"], "--duration"),
        (["--processes", "0"], "--processes"),
        (["--target", "ftp://example"], "--target"),
        (["--target", "http://127.0.0.1:9"], "--api-key"),
        # TEST-NET-1: never routed. A connection attempt would hang, not name --allow-remote.
        (["--target", "http://192.0.2.1:8080", "--api-key", "k"], "--allow-remote"),
        (["--target", "http://user:hunter2@127.0.0.1:9", "--api-key", "k"], "credentials"),
        (["--max-requests", "0"], "--max-requests"),
        (["--max-rps", "-1"], "--max-rps"),
        (["--request-timeout", "0"], "--request-timeout"),
        (["--request-timeout=-1"], "--request-timeout"),
        (["--ready-timeout", "soon"], "--ready-timeout"),
        (["--org-timezone", "Mars/Base"], "--org-timezone"),
        (["--target", "http://127.0.0.1:9", "--api-key", "k", "--fault", "short-wait"], "--fault"),
        (["--target", "http://127.0.0.1:9", "--api-key", "k", "--latency", "5ms"], "--latency"),
        (["--model-latency", "1s..1ms"], "--model-latency"),
        (["--training=-5s"], "--training"),
        (["--expect-workers", "2"], "--expect-workers needs --master"),
        (["--master", "--processes", "2"], "--processes"),
        (["--master", "--expect-workers", "0"], "--expect-workers"),
        (["--master", "--master-bind", "10.0.0.1:99999"], "--master-bind"),
        (["--master", "--worker-timeout", "soon"], "--worker-timeout"),
    ],
)
def test_bad_arguments_end_with_one_line_and_exit_code_2(
    args: list[str],
    named: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In this process (as the capacity command's test): refused before any run is made, so
    # no Locust, and an exception would fail the test as a traceback would.
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("AISK_")]:
        monkeypatch.delenv(name)
    code = main(["run", *args, "--out", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 2
    assert named in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "hunter2" not in err + out
    assert not (tmp_path / "run").exists()  # refused before anything was made


def test_an_unreachable_target_or_a_refused_key_is_exit_code_2(
    target: Target, tmp_path: Path
) -> None:
    scenario = str(scenario_file(tmp_path, "1s"))
    unreachable = run(
        ["--target", "http://127.0.0.1:9", "--api-key", API_KEY, "--scenario", scenario,
         "--out", str(tmp_path / "a")],
        tmp_path,
    )  # fmt: skip
    assert unreachable.returncode == 2
    assert "cannot connect" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    assert not (tmp_path / "a").exists()  # nothing was recorded: no empty run directory
    refused = run(
        ["--target", target.url, "--api-key", "not-a-key-of-this-target", "--scenario", scenario,
         "--out", str(tmp_path / "b")],
        tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "401" in refused.stderr
    assert "not-a-key-of-this-target" not in refused.stderr + refused.stdout
    assert not (tmp_path / "b").exists()


def test_a_set_up_that_fails_in_locust_takes_away_only_what_the_run_made(
    target: Target, tmp_path: Path
) -> None:
    # No calibration: the Locust child's set-up meets the 401 and records nothing.
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own")
    scenario = str(scenario_file(tmp_path, "1s"))
    key = "not-a-key-of-this-target"
    options = ["--api-key", key, "--no-calibrate", "--scenario", scenario, "--out", str(out)]
    refused = run(["--target", target.url, *options], tmp_path)
    assert refused.returncode == 2
    assert "the run could not be made" in refused.stderr
    assert sorted(path.name for path in out.iterdir()) == ["notes.txt"]


def test_check_re_judges_a_saved_run_offline(target: Target, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario",
         str(scenario_file(tmp_path, "2s")), "--out", str(run_dir)],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    first = json.loads((run_dir / "verdict.json").read_text())
    (run_dir / "verdict.json").unlink()
    again = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "check", str(run_dir)],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert again.returncode == 0
    assert json.loads((run_dir / "verdict.json").read_text()) == first
    assert (run_dir / "junit.xml").is_file()
    missing = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "check", str(tmp_path / "nowhere")],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


def run_budget(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "run.json").read_text())["budget"])


@pytest.mark.parametrize("processes", [1, 2])
def test_max_requests_caps_the_whole_run_on_every_process_count(
    target: Target, tmp_path: Path, processes: int
) -> None:
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario", str(rails_file(tmp_path)),
         "--out", str(run_dir), "--processes", str(processes), "--max-requests", "120"],
        tmp_path,
    )  # fmt: skip
    # The cap is the subject: the verdict may lack power on a busy host (answers of 1-2 s were
    # seen at load 11, and a paced key then never passes its limit), never fail.
    assert done.returncode in (0, 3), done.stdout[-3000:]
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert [check["id"] for check in verdict["checks"] if check["outcome"] == "fail"] == []
    chats = load_chats(read_records(run_dir))
    # Unbounded, two hammered keys alone send thousands of requests in 2 s.
    assert 0 < len(chats) <= 120
    # The load, and at most the 5 access probes on top.
    assert target.decided_by_load(run_dir) <= 120 + 5
    assert run_budget(run_dir) == {"max_requests": 120, "max_rps": None, "duration": "2s"}
    assert "budget: at most 120 chat requests" in done.stdout
    total = [line for line in done.stdout.splitlines() if line.strip().startswith("total")]
    assert int(total[0].split()[1]) <= 120  # the estimate shown before the load


def test_max_rps_bounds_every_window_of_the_run(target: Target, tmp_path: Path) -> None:
    rate = 40.0
    run_dir = tmp_path / "run"
    done = run(
        ["--target", target.url, "--api-key", API_KEY, "--scenario", str(rails_file(tmp_path)),
         "--out", str(run_dir), "--max-rps", str(rate)],
        tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert run_budget(run_dir)["max_rps"] == rate
    plan = json.loads((run_dir / "run.json").read_text())
    # Each slot may start with one request (a burst: its whole size) before its pacing applies.
    start_allowance = 0
    for case in plan["cases"]:
        behaviour = case["case"]["behaviour"]
        keys = case["case"].get("population", {}).get("keys", 1)
        start_allowance += keys * behaviour["size"] if behaviour["kind"] == "burst" else keys
    sends = load_chats(read_records(run_dir))["send_mono_ns"].sort_values().to_numpy()
    assert len(sends) > 0
    span_s = (sends[-1] - sends[0]) / 1e9
    for window_s in (0.25, 0.5, 1.0, span_s):
        ends = sends.searchsorted(sends + int(window_s * 1e9), side="right")
        busiest = int((ends - range(len(sends))).max())
        assert busiest <= rate * window_s + start_allowance, (window_s, busiest)
    # Over the whole run: under the rate, once the start allowance is set aside.
    assert len(sends) - start_allowance <= rate * span_s


PROGRESS = re.compile(
    r"aisk-harness: (\d+) s of (\d+) s: (\d+) requests, (\d+) admitted, (\d+) throttled, "
    r"(\d+) out of quota, (\d+) late sends"
)


def test_a_progress_line_replaces_locusts_tables_unless_asked(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = run(["--duration", "8s", "--out", str(run_dir)], tmp_path)
    assert done.returncode == 3, done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert "Aggregated" not in output  # no Locust request table
    assert "No run time limit set" not in output  # the harness ends the run itself
    assert (
        "aisk-harness: the run lasts 8 s (its scenario's duration), then ends by itself" in output
    )
    lines = [tuple(int(n) for n in match.groups()) for match in PROGRESS.finditer(output)]
    # one every 5 s while the load ran (the first 3 s before its end), and the last
    assert len(lines) >= 2
    assert all(line[1] == 8 for line in lines)
    assert [line[0] for line in lines] == sorted(line[0] for line in lines)
    last = lines[-1]
    assert last[0] == 8
    chats = load_chats(read_records(run_dir))
    outcomes = chats["outcome"].value_counts()
    assert last[2:6] == (
        len(chats), outcomes.get("ok", 0), outcomes.get("throttled", 0),
        outcomes.get("out_of_quota", 0),
    )  # fmt: skip
    assert lines[0][2] <= last[2]
    asked = run(["--duration", "2s", "--out", str(tmp_path / "asked"), "--locust-stats"], tmp_path)
    assert asked.returncode == 3, asked.stderr[-2000:]
    assert "Aggregated" in asked.stdout + asked.stderr  # Locust's tables are back
    assert not PROGRESS.search(asked.stdout + asked.stderr)


def test_an_interrupted_run_names_each_file_of_a_finished_run_it_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stopped = Interruption(signal="SIGINT", at="2026-12-07T20:00:08.100Z", after_s=8.1, of_s=20)
    written = [name for name in FINISHED_RUN_FILES if name not in ("locust.html", "report.html")]
    for name in written:
        (tmp_path / name).write_text("{}")
    _name_absent(tmp_path, Namespace(no_calibrate=False, no_report=False), stopped)
    said = capsys.readouterr().out
    assert said == (
        "not written (interrupted by SIGINT at 8.1 s of 20 s): locust.html, report.html\n"
    )
    # What the options skip is not missing; with every file there, nothing is said.
    (tmp_path / "locust.html").write_text("")
    _name_absent(tmp_path, Namespace(no_calibrate=False, no_report=True), stopped)
    assert capsys.readouterr().out == ""
