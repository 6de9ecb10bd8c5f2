"""The http profile against HAProxy's ``http_req_rate(10s)`` stick table, unmodified, on
loopback, declared as the sliding-window counter it is: counting only admitted requests keeps
the policy; counting denied ones too (the usual configuration) locks out a client that keeps
asking, and under-admission names that."""

from __future__ import annotations

from pathlib import Path

from limiters import CONFIGS, haproxy

from harness.cli.check import judge
from harness.conformance import Outcome, Verdict
from harness.profiles.http import load_http_scenario
from harness.profiles.http.run import run_http

SCENARIO = CONFIGS / "haproxy.toml"


def _verdict(config: str, tmp_path: Path) -> Verdict:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with haproxy(config, tmp_path / "haproxy") as url:
        run_http(
            load_http_scenario(SCENARIO), url, run_dir, run_id="t", versions={}, timeout_s=10.0
        )
    return judge(run_dir)


def test_a_stick_table_counting_admissions_only_is_conformant(tmp_path: Path) -> None:
    verdict = _verdict("haproxy-req-rate.conf", tmp_path)
    outcomes = {check.id: check.outcome for check in verdict.checks}
    assert verdict.conformant, outcomes
    assert verdict.algorithm == "sliding-window-counter"
    assert outcomes["over-admission"] is Outcome.PASS
    assert outcomes["under-admission"] is Outcome.PASS


def test_a_stick_table_counting_denied_requests_fails_under_admission(tmp_path: Path) -> None:
    verdict = _verdict("haproxy-req-rate-counting-denied.conf", tmp_path)
    checks = {check.id: check for check in verdict.checks}
    assert checks["under-admission"].outcome is Outcome.FAIL
    assert "are throttled requests counted?" in checks["under-admission"].summary
    assert checks["over-admission"].outcome is Outcome.PASS
    assert not verdict.conformant
