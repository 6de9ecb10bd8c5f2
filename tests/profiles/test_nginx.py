"""The http profile against nginx ``limit_req``, unmodified, on loopback: a correct
configuration is conformant, a ``return 200`` that bypasses ``limit_req`` over-admits, and the
harness's admitted/throttled split agrees with nginx's own ``$limit_req_status``, key by key."""

from __future__ import annotations

import collections
import subprocess
from pathlib import Path

from limiters import CONFIGS, nginx
from testkit import clean_env, harness_command

from harness.cli.check import judge
from harness.conformance import Outcome
from harness.profiles.http import load_http_scenario
from harness.profiles.http.run import run_http
from harness.run.reader import read_records

SCENARIO = CONFIGS / "nginx.toml"


def _nginx_decisions(access_log: Path) -> dict[tuple[str, str], int]:
    """(key, PASSED|REJECTED) -> requests, from the log format of the committed configs
    (``$uri $http_x_key $remote_addr $status $limit_req_status``): the key is the header's
    value, or the source address where no header was sent."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in access_log.read_text().splitlines():
        _uri, header, address, _status, decision = line.split()
        counts[(header if header != "-" else address, decision)] += 1
    return dict(counts)


def _harness_decisions(run_dir: Path) -> dict[tuple[str, str], int]:
    records = read_records(run_dir, ["key", "outcome"])
    names = {"ok": "PASSED", "throttled": "REJECTED"}
    counts = records.groupby(["key", "outcome"], observed=True).size()
    return {(str(key), names[str(outcome)]): int(n) for (key, outcome), n in counts.items()}


def test_a_correct_limit_req_is_conformant_and_agrees_with_nginx(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with nginx("nginx-limit-req.conf", tmp_path / "nginx") as url:
        done = subprocess.run(
            harness_command(
                "run",
                "--profile",
                "http",
                "--scenario",
                str(SCENARIO),
                "--target",
                url,
                "--out",
                str(run_dir),
                "--no-report",
            ),
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CONFORMANT: 0 of 12 checks failed" in done.stdout
    # the declared leaky bucket (a token bucket of burst + 1), held to its own bound
    assert "limiter: token-bucket (declared by the scenario" in done.stdout
    theirs = _nginx_decisions(tmp_path / "nginx" / "logs" / "access.log")
    assert _harness_decisions(run_dir) == theirs
    # every key both passed and was rejected: the run reached the limit, on every key
    keys = {key for key, _ in theirs}
    assert len(keys) == 4
    assert all((key, "PASSED") in theirs and (key, "REJECTED") in theirs for key in keys)


def test_a_return_that_bypasses_limit_req_fails_over_admission(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with nginx("nginx-return-bypass.conf", tmp_path / "nginx") as url:
        run_http(
            load_http_scenario(SCENARIO), url, run_dir, run_id="t", versions={}, timeout_s=10.0
        )
    verdict = judge(run_dir)
    outcomes = {check.id: check.outcome for check in verdict.checks}
    assert outcomes["over-admission"] is Outcome.FAIL
    assert not verdict.conformant
    # nginx itself says limit_req never ran ($limit_req_status empty: "-")
    decisions = _nginx_decisions(tmp_path / "nginx" / "logs" / "access.log")
    assert {decision for _, decision in decisions} == {"-"}


def test_not_applicable_checks_are_skipped_with_their_reason_never_passed(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with nginx("nginx-limit-req.conf", tmp_path / "nginx") as url:
        run_http(
            load_http_scenario(SCENARIO), url, run_dir, run_id="t", versions={}, timeout_s=10.0
        )
    checks = {check.id: check for check in judge(run_dir).checks}
    for check_id in ("well-formed", "throttle-metadata", "quota", "settings-roundtrip", "access"):
        assert checks[check_id].outcome is Outcome.SKIPPED
        assert checks[check_id].summary.startswith("not applicable: ")
    assert checks["wait-honesty"].summary.startswith("not applicable: ")
    assert checks["over-admission"].outcome is Outcome.PASS
