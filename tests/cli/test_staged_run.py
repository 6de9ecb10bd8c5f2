"""A performance run with stages: ramp 0→30 req/s, hold, spike to 60, ramp down; the report
shows each stage (the done-when of issue 14's staged runs)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from testkit import clean_env, harness_command

from harness.report import frames
from harness.report.stages import stage_table
from harness.run.plan import read_plan
from harness.run.reader import read_records
from harness.run.stage_plan import staged_cases

pytestmark = pytest.mark.locust

# Rates per key; 2 keys: ramp to 30/s over 3 s, hold 3 s, spike to 60/s in 0.5 s, hold it
# 1.5 s, ramp down over 2 s.
STAGED = """
name = "staged"
duration = "10s"

[[cases]]
name = "perf"
population = { keys = 2 }
behaviour = { kind = "open", max_in_flight = 32, stages = [
  { duration = "3s", target = 15 }, { duration = "3s", target = 15 },
  { duration = "500ms", target = 30 }, { duration = "1500ms", target = 30 },
  { duration = "2s", target = 0 },
] }
"""


def test_a_staged_run_follows_its_stages_and_its_report_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "staged.toml"
    path.write_text(STAGED)
    run_dir = tmp_path / "run"
    done = subprocess.run(
        harness_command("run", "--scenario", str(path), "--out", str(run_dir), "--no-calibrate"),
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr[-3000:]  # 3: no limit, nothing to judge
    (case,) = staged_cases(read_plan(run_dir))
    chats = frames.load_chats(read_records(run_dir, [*frames.REPORT_COLUMNS,
                                                     "intended_send_mono_ns"]))  # fmt: skip
    table = stage_table(chats, case)
    # Each stage sent its mean rate: (start + end) / 2 for all keys (one arrival of slack).
    for (start, end, low, high), sent in zip(case.stages, table["sent_rps"], strict=True):
        assert sent == pytest.approx((low + high) / 2, abs=2 / (end - start) + 1), (start, end)
    assert (table["errors"] == 0).all()
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    assert (run_dir / "figures" / "stages-stages-perf.png").is_file()
    assert ">Stages<" in report
    assert "30 → 60" in report  # the spike's row of the stage table


STAGED_USERS = """
name = "staged-users"
duration = "8s"

[[cases]]
name = "users"
population = { keys = 1, users_per_key = 4 }
behaviour = { kind = "hammer", think = { distribution = "constant", mean = "100ms" }, stages = [
  { duration = "2s", target = 4 }, { duration = "3s", target = 4 }, { duration = "2s", target = 0 },
] }
"""
THINK_S = 0.1


def test_staged_users_work_as_their_stages_say_and_think_between_requests(
    tmp_path: Path,
) -> None:
    path = tmp_path / "users.toml"
    path.write_text(STAGED_USERS)
    run_dir = tmp_path / "run"
    done = subprocess.run(
        harness_command("run", "--scenario", str(path), "--out", str(run_dir), "--no-calibrate",
                        "--no-report"),
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr[-3000:]
    (case,) = staged_cases(read_plan(run_dir))
    assert case.model == "users"
    chats = frames.load_chats(read_records(run_dir, [*frames.REPORT_COLUMNS, "user",
                                                     "intended_send_mono_ns"]))  # fmt: skip
    table = stage_table(chats, case)
    assert list(table["offered"]) == ["0 → 4 users", "4 → 4 users", "4 → 0 users"]
    # A client at work sends about once per think time plus an answer (a few ms here).
    per_client = 1 / (THINK_S + float(chats["latency_ms"].median()) / 1e3)
    hold = float(table.loc[1, "sent_rps"])
    assert hold == pytest.approx(4 * per_client, rel=0.25)
    # Ramps hold half as many clients on average.
    assert float(table.loc[0, "sent_rps"]) == pytest.approx(hold / 2, rel=0.35)
    assert float(table.loc[2, "sent_rps"]) == pytest.approx(hold / 2, rel=0.35)
    # Each client thinks between its requests: no two of one client closer than the think time.
    for _, sends in chats.groupby("user")["send_mono_ns"]:
        gaps = sends.sort_values().diff().dropna() / 1e9
        assert (gaps >= THINK_S * 0.95).all()
