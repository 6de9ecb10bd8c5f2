"""``run`` judging live: the terminal's per-check lines, and ``--fail-fast``.

``--fail-fast`` against the admit-one-extra fault must end the run within one window of the
violation it proves (exit 1, the proof printed, the offline verdict failing the same check);
against a correct emulator it changes nothing (the whole run, conformant), and the live lines
never show the API key.
"""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from run_target import API_KEY, RUN_TIMEOUT_S, Target
from testkit import clean_env, harness_command

from harness.cli.check import read_check_input
from harness.conformance.live import complete_prefix, judge_live
from harness.emulator import FAULTS
from harness.run.plan import read_plan
from harness.run.reader import read_records
from harness.run.records import is_load_chat

pytestmark = pytest.mark.locust

QUICK = Path(__file__).parents[1] / "conformance" / "quick.toml"
REQUEST_TIMEOUT_S = "1"  # the live judge lags a request timeout behind the last answer
NS = 1_000_000_000
WINDOW_NS = 10 * NS  # the built-in scenario's shortest window
PROOF = re.compile(r"--fail-fast: (\S+) violated, proven by ([^;]+);")


def run(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        harness_command("run", "--out", str(tmp_path / "run"), "--no-report",
                        "--request-timeout", REQUEST_TIMEOUT_S, *options),
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        check=False,
    )  # fmt: skip


def test_fail_fast_stops_within_one_window_of_the_violation_it_proves(tmp_path: Path) -> None:
    done = run(tmp_path, "--fault", "admit-one-extra", "--fail-fast")
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output[-3000:]
    assert done.returncode == 1, output[-3000:]
    found = PROOF.search(output)
    assert found is not None, output[-3000:]
    check_id, cited = found.group(1), found.group(2).split(", ")
    verdict = json.loads((tmp_path / "run" / "verdict.json").read_text())
    assert {c["id"]: c["outcome"] for c in verdict["checks"]}[check_id] == "fail"
    records = read_records(tmp_path / "run")
    chats = records[is_load_chat(records)]
    assert chats["request_id"].isin(cited).sum() == len(cited)
    last_send = int(chats["send_wall_ns"].max())
    provable = first_provable(tmp_path / "run", int(chats["send_wall_ns"].min()), last_send)
    assert provable is not None
    assert last_send - provable <= WINDOW_NS, (last_send - provable) / 1e9
    assert last_send - int(chats["send_wall_ns"].min()) < 35 * NS  # well before its 40 s end


def first_provable(run_dir: Path, start: int, end: int) -> int | None:
    """The earliest cutoff (every 250 ms) at which the run's records prove a violation: the
    instant the violation became provable, whoever judged it."""
    data, _ = read_check_input(run_dir, read_plan(run_dir))
    for cutoff in range(start, end, NS // 4):
        records, resets = complete_prefix(data.records, cutoff, data.resets)
        prefix = replace(data, records=records, resets=resets)
        if judge_live(prefix, cutoff).violation is not None:
            return cutoff
    return None


def test_a_correct_target_runs_whole_under_fail_fast_and_the_live_lines_hold_no_secret(
    tmp_path: Path, target: Target
) -> None:
    done = run(
        tmp_path,
        "--target",
        target.url,
        "--api-key",
        API_KEY,
        "--scenario",
        str(QUICK),
        "--fail-fast",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "aisk-harness live:" in output
    assert re.search(r"^  over-admission: \d+ of \d+ keys with power", output, re.M), output
    assert "VIOLATION" not in output
    assert API_KEY not in output
    assert target.tokens
    for token in target.tokens:
        assert token not in output
    verdict = json.loads((tmp_path / "run" / "verdict.json").read_text())
    assert verdict["conformant"] is True
    records = read_records(tmp_path / "run")
    sends = records.loc[is_load_chat(records), "send_wall_ns"].to_numpy(np.int64)
    assert sends.max() - sends.min() > 5_000_000_000  # the whole 6 s scenario ran


def load_chats(run_dir: Path) -> int:
    records = read_records(run_dir)
    return int(is_load_chat(records).sum())


@pytest.mark.parametrize(
    "target",
    [("--algorithm", "token-bucket"), ("--fault", "admit-one-fewer"), ("--fault", "short-wait")],
    ids=lambda options: options[1],
)
def test_until_decided_reaches_the_fixed_runs_verdict_on_the_fault_matrix(
    target: tuple[str, str], tmp_path: Path
) -> None:
    verdicts = {}
    for until in ("duration", "decided"):
        folder = tmp_path / until
        folder.mkdir()
        # The quick scenario, long enough for the live judge (a request timeout behind) to
        # decide its cases before its end.
        done = run(folder, "--scenario", str(QUICK), "--duration", "16s", "--latency",
                   "5ms..30ms", "--until", until, *target)  # fmt: skip
        assert "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]
        verdict = json.loads((folder / "run" / "verdict.json").read_text())
        failed = {c["id"] for c in verdict["checks"] if c["outcome"] == "fail"}
        verdicts[until] = (done.returncode, verdict["status"], failed)
    assert verdicts["decided"][:2] == verdicts["duration"][:2], verdicts
    if target[0] == "--fault":
        designed = FAULTS[target[1]].caught_by
        assert designed in verdicts["decided"][2], verdicts
    assert load_chats(tmp_path / "decided" / "run") < load_chats(tmp_path / "duration" / "run")


class Receiver(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that keeps each body it is sent."""

    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Receiver.bodies.append(body if self.path == "/v1/metrics" else b"")
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_the_live_metrics_reach_an_otlp_collector(tmp_path: Path, target: Target) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}"
        done = subprocess.run(
            harness_command("run", "--target", target.url, "--api-key", API_KEY,
                            "--scenario", str(QUICK), "--duration", "10s",
                            "--request-timeout", REQUEST_TIMEOUT_S, "--no-report",
                            "--out", str(tmp_path / "run")),
            cwd=tmp_path, env=clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint),
            capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert done.returncode == 0, done.stderr[-3000:]
    sent = b"".join(Receiver.bodies)
    for name in (b"aisk.chats", b"aisk.check.state", b"aisk.check.keys_with_power"):
        assert name in sent
    assert API_KEY.encode() not in sent
