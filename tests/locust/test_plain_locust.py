"""``locust -f locustfiles/aisk.py`` run by hand, headless or from the web UI, as the README says.

Locust runs in a subprocess (it gevent-patches whatever imports it) against an emulator in this
process, so the tests see what the target decided and every secret it handed out.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from pydantic import SecretStr
from testkit import clean_env, harness_command, load_chats

from harness.emulator import BackgroundEmulator, EmulatorConfig
from harness.load.options import RUN_OPTIONS
from harness.run.parts import part_paths, records_dir
from harness.run.reader import read_records

pytestmark = pytest.mark.locust

API_KEY = "org-key-plain-locust-3b7f"
LOCUSTFILE = Path(__file__).resolve().parents[2] / "locustfiles" / "aisk.py"
RUN_TIMEOUT_S = 120
SLOTS = 24  # of the built-in scenario


@pytest.fixture
def emulator() -> Iterator[BackgroundEmulator]:
    with BackgroundEmulator(EmulatorConfig(api_keys=(SecretStr(API_KEY),))) as running:
        yield running


def locust(host: str, run_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", host,
            "--aisk-out", str(run_dir), *args]  # fmt: skip


def recording(run_dir: Path) -> dict[str, object]:
    return dict(json.loads((run_dir / "recording.json").read_text()))


def test_without_a_user_count_every_slot_of_the_scenario_runs(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    done = subprocess.run(
        locust(emulator.base_url, run_dir, "--headless", "--aisk-duration", "2s"),
        env=clean_env(AISK_API_KEY=API_KEY), capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]  # it quit by itself once every slot ran
    seen = recording(run_dir)
    assert seen["slots_not_run"] == []
    chats = load_chats(read_records(run_dir))
    assert chats["user"].str.split(".").str[0].nunique() == SLOTS  # one user ran each slot


def test_too_few_users_are_warned_about_named_and_make_the_run_inconclusive(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    done = subprocess.run(
        locust(emulator.base_url, run_dir, "--headless", "-u", "4", "-r", "4",
               "--aisk-duration", "2s"),
        env=clean_env(AISK_API_KEY=API_KEY), capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert "4 users for 24 slots: 20 slots will not run" in done.stderr
    assert done.returncode == 3, done.stderr[-3000:]
    not_run = recording(run_dir)["slots_not_run"]
    assert isinstance(not_run, list)
    assert len(not_run) == SLOTS - 4
    judged = subprocess.run(
        harness_command("check", str(run_dir)), capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, check=False, env=clean_env(),
    )  # fmt: skip
    assert judged.returncode == 3
    assert "20 slots of the scenario never ran" in judged.stdout
    assert json.loads((run_dir / "verdict.json").read_text())["status"] == "inconclusive"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def web_state(url: str) -> str:
    try:
        return str(httpx.get(f"{url}/stats/requests", timeout=5).json()["state"])
    except httpx.HTTPError:
        return ""


def test_the_web_ui_binds_loopback_shows_no_secret_and_honours_the_forms_duration(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    run_dir, port, log = tmp_path / "run", free_port(), tmp_path / "locust.log"
    with log.open("w") as output:
        child = subprocess.Popen(
            locust(emulator.base_url, run_dir, "--web-port", str(port)),
            env=clean_env(AISK_API_KEY=API_KEY, AISK_SECOND_API_KEY=API_KEY + "-b"),
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: web_state(url) != "", 60)
        listening = {
            conn.laddr.ip
            for conn in psutil.Process(child.pid).net_connections(kind="tcp")
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
        }
        assert listening == {"127.0.0.1"}
        page = httpx.get(url, timeout=5).text
        assert "aisk_duration" in page  # the harness's options are in the form
        assert API_KEY not in page  # the keys are not
        started = httpx.post(
            f"{url}/swarm",
            data={
                "user_count": str(SLOTS),
                "spawn_rate": str(SLOTS),
                "host": emulator.base_url,
                "aisk_duration": "2s",
            },
            timeout=30,
        )
        assert started.json()["success"] is True, started.text
        # it stopped by itself, in a directory of its Start's own
        wait_for(lambda: list(run_dir.glob("*/recording.json")), 90)
        assert web_state(url) == "stopped"
    finally:
        child.terminate()
        child.wait(timeout=60)
    (run_dir,) = (path.parent for path in run_dir.glob("*/recording.json"))
    chats = load_chats(read_records(run_dir))
    slot = chats["user"].str.split(".").str[0]
    spans = chats.groupby(slot)["send_mono_ns"].agg(lambda sends: sends.max() - sends.min())
    # Every slot ran for the form's 2 s, not the scenario's own: no send after its deadline.
    assert len(spans) == SLOTS
    assert (spans < 2_000_000_000).all()
    assert recording(run_dir)["slots_not_run"] == []
    assert emulator.service.store.count(0) == 0  # every chatbot was deleted
    assert "Traceback" not in log.read_text()


def test_the_locustfile_lists_its_own_options_which_locust_help_cannot() -> None:
    # Locust prints --help before it loads a locustfile; the locustfile run as a script lists
    # every run option as Locust takes it, and no secret's value.
    listed = subprocess.run(
        [sys.executable, str(LOCUSTFILE), "--help"], env=clean_env() | {"AISK_API_KEY": API_KEY},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr[-2000:]
    for option in RUN_OPTIONS:
        assert f"--aisk-{option.name}" in listed.stdout  # harness.locust imports gevent's patch
    assert "--aisk-settings" in listed.stdout
    assert API_KEY not in listed.stdout + listed.stderr


def web_starts(url: str) -> list[dict[str, str]]:
    """The aisk-harness tab's rows, as the web UI's poll of /stats/requests brings them."""
    stats = httpx.get(f"{url}/stats/requests", timeout=5).json()
    (tab,) = [extended for extended in stats["extended_stats"] if extended["key"] == "aisk-harness"]
    return list(tab["data"])


def judged(url: str, starts: int) -> bool:
    rows = web_starts(url)
    return len(rows) == starts and rows[0]["verdict"] not in ("running", "judging")


def swarm(url: str, host: str) -> None:
    form = {"user_count": str(SLOTS), "spawn_rate": str(SLOTS), "host": host, "aisk_duration": "2s"}
    started = httpx.post(f"{url}/swarm", data=form, timeout=30)
    assert started.json()["success"] is True, started.text


VERDICT_LINE = re.compile(r"^(CONFORMANT|NOT CONFORMANT|INCONCLUSIVE): \d+ of \d+ checks failed")
JUDGE_S = 300  # the checks and the notebooks of a 2 s run, on a busy machine


def test_each_web_ui_start_is_a_run_of_its_own_judged_and_reported(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    # Start, let it finish, Start again: run 2 wrote into run 1's directory, compaction deleted
    # its parts, and `check` judged run 1's records under run 2's id; neither got a verdict.
    out, port, log = tmp_path / "runs", free_port(), tmp_path / "locust.log"
    with log.open("w") as output:
        child = subprocess.Popen(
            locust(emulator.base_url, out, "--web-port", str(port)),
            env=clean_env(AISK_API_KEY=API_KEY), stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: web_state(url) != "", 60)
        assert web_starts(url) == []
        assert '"title": "aisk-harness runs"' in httpx.get(url, timeout=5).text  # the tab
        swarm(url, emulator.base_url)
        wait_for(lambda: judged(url, 1), JUDGE_S)
        swarm(url, emulator.base_url)
        wait_for(lambda: judged(url, 2), JUDGE_S)
        rows = web_starts(url)  # the latest first
        page = httpx.get(f"{url}/aisk-harness/runs", timeout=5).text
        report = httpx.get(f"{url}/aisk-harness/runs/1/report.html", timeout=5)
        outside = httpx.get(f"{url}/aisk-harness/runs/1/run.json", timeout=5)
    finally:
        child.terminate()
        child.wait(timeout=60)
    assert [row["run"] for row in rows] == ["2", "1"]
    run_dirs = [Path(row["directory"]) for row in reversed(rows)]
    assert len(set(run_dirs)) == 2
    assert all(path.parent == out for path in run_dirs)
    for row, run_dir in zip(reversed(rows), run_dirs, strict=True):
        assert VERDICT_LINE.match(row["verdict"]), row["verdict"]
        for name in ("run.json", "recording.json", "verdict.json", "junit.xml", "report.html"):
            assert (run_dir / name).exists(), (run_dir, name)
        seen = recording(run_dir)
        assert seen["run_id"] == row["id"]
        assert [path.stem for path in part_paths(records_dir(run_dir))] == seen["parts"]
        assert len(read_records(run_dir)) == seen["records_written"]
        assert json.loads((run_dir / "verdict.json").read_text())["run_id"] == row["id"]
        assert f"aisk-harness: run {row['id']}: {row['verdict']}" in log.read_text()
        rejudged = subprocess.run(
            harness_command("check", str(run_dir)), capture_output=True, text=True,
            timeout=RUN_TIMEOUT_S, check=False, env=clean_env(),
        )  # fmt: skip
        assert rejudged.returncode in (0, 1, 3), rejudged.stderr
        assert row["verdict"] in rejudged.stdout  # the same verdict, judged again
    assert rows[0]["id"] != rows[1]["id"]
    assert 'href="runs/1/report.html"' in page
    assert 'href="runs/2/report.html"' in page
    assert report.status_code == 200
    assert "<html" in report.text.lower()
    assert outside.status_code == 404  # only the verdict's files are served
    assert emulator.service.store.count(0) == 0  # every chatbot of both runs was deleted
    assert "Traceback" not in log.read_text()


def test_headless_refuses_a_directory_that_holds_a_run(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "records").mkdir(parents=True)
    (run_dir / "run.json").write_text("{}")
    done = subprocess.run(
        locust(emulator.base_url, run_dir, "--headless", "--aisk-duration", "2s"),
        env=clean_env(AISK_API_KEY=API_KEY), capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"--aisk-out: {str(run_dir)!r} already holds a run" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(path.name for path in run_dir.iterdir()) == ["records", "run.json"]
    assert emulator.service.store.count(0) == 0  # nothing was made on the target


def test_locust_quitting_while_a_start_is_judged_stops_the_judge_and_says_so(
    emulator: BackgroundEmulator, tmp_path: Path
) -> None:
    out, port, log = tmp_path / "runs", free_port(), tmp_path / "locust.log"
    with log.open("w") as output:
        child = subprocess.Popen(
            locust(emulator.base_url, out, "--web-port", str(port)),
            env=clean_env(AISK_API_KEY=API_KEY), stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    judges: list[psutil.Process] = []
    try:
        wait_for(lambda: web_state(url) != "", 60)
        swarm(url, emulator.base_url)
        wait_for(lambda: [row["verdict"] for row in web_starts(url)] == ["judging"], 90)
        judges = [
            process
            for process in psutil.Process(child.pid).children(recursive=True)
            if "harness.cli.after_stop" in process.cmdline()
        ]
        assert len(judges) == 1
    finally:
        child.terminate()
        child.wait(timeout=60)
    assert not any(judge.is_running() and judge.status() != "zombie" for judge in judges)
    text = log.read_text()
    assert "not judged: Locust quit first; `aisk-harness check " in text
    assert "Traceback" not in text
