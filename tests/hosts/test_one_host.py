"""One host against a deployment: a run from a host with ONE address against the emulator on
another host (its own namespace, a non-loopback address) ends CONFORMANT, exit 0, with the
checks that need IPs across sources planned away and reported as skipped, by name, everywhere:
the plan, the verdict line, ``verdict.json`` and ``junit.xml``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from private_network import Host, PrivateNetwork

from harness.run.reader import read_records
from harness.run.records import is_load_chat

pytestmark = pytest.mark.netns

HOSTS_DIR = Path(__file__).resolve().parent
REPO = HOSTS_DIR.parents[1]
SCENARIO = HOSTS_DIR / "one_host.toml"
RUN_TIMEOUT_S = 240.0  # set-up, 8 s of load, the checks; generous for a loaded CI machine
SKIPPED = {
    "vary-isolation/ip-open": "distinct IP keys keep their own budgets",
    "vary-isolation/device-seen-from-many-ips": "one device seen from several IPs keeps one budget",
}
REASON = "needs 2 source addresses, this host has 1"


def test_one_address_against_a_remote_target_is_conformant_with_the_ip_checks_skipped(
    network: PrivateNetwork,
    serve_on: Callable[[Host], str],
    harness_env: dict[str, str],
    tmp_path: Path,
) -> None:
    target = network.add_host("target")
    runner = network.add_host("runner")  # one address: 10.77.2.1
    url = serve_on(target)
    out = tmp_path / "run"
    options = ["--scenario", str(SCENARIO), "--no-report", "--no-calibrate", "--out", str(out)]
    command = [sys.executable, "-m", "harness.cli.main", "run", "--target", url, "--allow-remote"]
    done = runner.run([*command, *options], cwd=REPO, env=harness_env, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr

    # The plan says what was cut and what was planned away, before the load.
    plan = done.stdout.split("\nrun ")[0]
    assert (
        "fitted to the source addresses: case 'ip-open': 1 key of 2 keys (source addresses: "
        "this host has 1)" in plan
    )
    for check_id, what in SKIPPED.items():
        check, case = check_id.split("/")
        assert f"planned away: {check} ({what}, case {case!r}): skipped: {REASON}" in plan

    # The verdict: conformant, nothing failed, the parts planned away skipped with the reason.
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["status"] == "conformant"
    outcomes = {check["id"]: check for check in verdict["checks"]}
    assert [c for c in outcomes.values() if c["outcome"] == "fail"] == []
    for check_id in SKIPPED:
        assert (outcomes[check_id]["outcome"], outcomes[check_id]["summary"]) == (
            "skipped",
            REASON,
        )
    assert outcomes["vary-isolation"]["outcome"] == "pass"
    assert outcomes["over-admission"]["outcome"] == "pass"
    lines = [line for line in done.stdout.splitlines() if line.startswith("CONFORMANT")]
    assert len(lines) == 1
    assert "skipped for want of source addresses: " + ", ".join(SKIPPED) in lines[0]

    # JUnit: each part planned away is a skipped test case with the reason.
    suite = ET.parse(out / "junit.xml").getroot()
    cases = {case.get("name", "").split(":")[0]: case for case in suite.findall("testcase")}
    for check_id in SKIPPED:
        skipped = cases[check_id].find("skipped")
        assert skipped is not None
        assert skipped.get("message") == f"skipped: {REASON}"
    assert suite.get("failures") == "0"

    # Every IP key left from the runner's one address, and the target saw only it.
    records = read_records(out, ["case", "phase", "kind", "source_ip"])
    chats = records[is_load_chat(records)]
    ip_cases = {"ip-open", "ip-with-many-devices", "ip-spoofed-forwarded-for"}
    sources = set(chats[chats["case"].isin(ip_cases)]["source_ip"].astype(str))
    assert sources == {runner.address}
    assert "device-seen-from-many-ips" not in set(chats["case"].astype(str))
