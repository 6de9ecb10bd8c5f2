"""A distributed run for real: the emulator on one host, the master on another, three workers.

Each worker host has its own address, so the target's limiter sees three real clients for the
three IP keys of ``distributed.toml``; a worker host killed mid-run must be named, and its keys
make the verdict inconclusive (exit 3), never a pass.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from private_network import Host, PrivateNetwork

from harness.run.reader import read_records
from harness.run.records import is_load_chat

pytestmark = pytest.mark.netns

HOSTS_DIR = Path(__file__).resolve().parent
REPO = HOSTS_DIR.parents[1]
SCENARIO = HOSTS_DIR / "distributed.toml"
CHAT_CLIENT = str(HOSTS_DIR / "chat_client.py")
ServeOn = Callable[[Host], str]
MASTER_PORT = 5557
RUN_TIMEOUT_S = 180.0  # set-up, 8 s of load, the checks; generous for a loaded CI machine
LINE_TIMEOUT_S = 60.0
PLACED = re.compile(r"worker (w\d) \(([\d.]+)\) sends the IP keys (\S+);")


def _harness(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", *args]


def _start_worker(worker: Host, master: Host, env: dict[str, str]) -> None:
    # A worker gets no secret: no API key in its environment, nothing on its command line.
    worker_env = {name: value for name, value in env.items() if name != "AISK_API_KEY"}
    worker.popen(
        _harness("worker", "--master", f"{master.address}:{MASTER_PORT}"),
        cwd=REPO,
        env=worker_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _start_run(
    network: PrivateNetwork,
    serve_on: ServeOn,
    env: dict[str, str],
    out: Path,
    extra_addresses: tuple[int, ...] = (0, 0, 0),
) -> tuple[Host, list[Host], subprocess.Popen[str], Path]:
    """The emulator, a master waiting for its workers, and the workers (one per entry of
    ``extra_addresses``: how many addresses it has beside its main one)."""
    target = network.add_host("target")
    master = network.add_host("master")
    workers = [
        network.add_host(f"worker{number}", extra_addresses=extra)
        for number, extra in enumerate(extra_addresses)
    ]
    url = serve_on(target)
    log = out.parent / "master.out"
    with log.open("w") as master_out:
        master_run = _popen_master(master, url, env, out, master_out, len(workers))
    for worker in workers:
        _start_worker(worker, master, env)
    return target, workers, master_run, log


def _master_run(master: Host, url: str, out: Path, *, workers: int, timeout: str) -> list[str]:
    return _harness(
        "run", "--target", url, "--allow-remote", "--master", "--expect-workers", str(workers),
        "--master-bind", f"{master.address}:{MASTER_PORT}", "--worker-timeout", timeout,
        "--scenario", str(SCENARIO), "--no-report", "--no-calibrate", "--out", str(out),
    )  # fmt: skip


def _popen_master(
    master: Host, url: str, env: dict[str, str], out: Path, output: IO[str], workers: int
) -> subprocess.Popen[str]:
    return master.popen(
        _master_run(master, url, out, workers=workers, timeout="60s"),
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(log: Path, pattern: str, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + LINE_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_text()
        if re.search(pattern, text):
            return text
        if process.poll() is not None:
            break
        time.sleep(0.1)
    pytest.fail(f"the master never printed {pattern!r}:\n{log.read_text()[-3000:]}")


def _load_chats(out: Path) -> list[dict[str, object]]:
    records = read_records(out, ["case", "phase", "kind", "source_ip", "process"])
    chats = records[is_load_chat(records)]
    return list(chats.to_dict("records"))


def test_a_run_over_three_worker_hosts_judges_vary_by_ip_from_their_three_addresses(
    network: PrivateNetwork, serve_on: ServeOn, harness_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    target, workers, master_run, log = _start_run(network, serve_on, harness_env, out)
    code = master_run.wait(timeout=RUN_TIMEOUT_S)
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "CONFORMANT" in text
    addresses = sorted(worker.address for worker in workers)

    # The plan: each worker sends the IP key of its own address, and says so before the load.
    placed = {match[2]: match[3] for match in PLACED.finditer(text)}
    assert sorted(placed) == addresses
    assert sorted(placed.values()) == ["ip-open/0", "ip-open/1", "ip-open/2"]
    settings = json.loads((out / "settings.json").read_text())
    assert sorted(a for owned in settings["senders"].values() for a in owned) == addresses

    # The records: every IP key left from its worker's address, a distinct one per key.
    chats = _load_chats(out)
    ip_sources = {row["source_ip"] for row in chats if row["case"] == "ip-open"}
    assert sorted(ip_sources) == addresses  # type: ignore[type-var]
    verdict = json.loads((out / "verdict.json").read_text())
    vary = next(check for check in verdict["checks"] if check["id"] == "vary-isolation")
    assert vary["outcome"] == "pass"
    assert vary["keys_with_power"] >= 3

    # The target saw exactly those clients, and the master (set-up and probes), no other.
    done = target.run([sys.executable, CHAT_CLIENT, "stats", "http://" + _host_port(text)],
                      cwd=REPO, env=harness_env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    peers = json.loads(done.stdout)["peers"]
    master_address = network.hosts["master"].address
    assert sorted(peers) == sorted([*addresses, master_address])


def _host_port(master_text: str) -> str:
    match = re.search(r"target (http://)?([\d.]+:\d+)", master_text)
    assert match is not None, master_text[-2000:]
    return match[2]


def test_a_worker_host_killed_mid_run_is_named_and_the_run_exits_3(
    network: PrivateNetwork, serve_on: ServeOn, harness_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    _, workers, master_run, log = _start_run(network, serve_on, harness_env, out)
    text = _wait_for(log, r"slots, records in", master_run)
    time.sleep(2.0)  # the load is under way (8 s of it)
    victim = workers[1]
    victim_name = next(m[1] for m in PLACED.finditer(text) if m[2] == victim.address)
    victim.kill()
    code = master_run.wait(timeout=RUN_TIMEOUT_S)
    text = log.read_text()
    assert code == 3, text[-3000:]
    assert re.search(rf"worker {victim_name} \({re.escape(victim.address)}\) was lost", text)
    assert f"worker {victim_name} ({victim.address}) was lost mid-run" in text
    verdict_lines = [
        line for line in text.splitlines() if line.startswith(("CONFORMANT", "INCONCLUSIVE"))
    ]
    assert [line.split(":")[0] for line in verdict_lines] == ["INCONCLUSIVE"]
    # What the other workers sent is judged all the same.
    sources = {row["source_ip"] for row in _load_chats(out) if row["case"] == "ip-open"}
    assert {w.address for w in workers if w is not victim} <= sources  # type: ignore[operator]


def test_the_master_gives_up_on_workers_that_never_join_with_one_line(
    network: PrivateNetwork, serve_on: ServeOn, harness_env: dict[str, str], tmp_path: Path
) -> None:
    target = network.add_host("target")
    master = network.add_host("master")
    url = serve_on(target)
    done = master.run(
        _master_run(master, url, tmp_path / "run", workers=2, timeout="2s"),
        cwd=REPO,
        env=harness_env,
        timeout=LINE_TIMEOUT_S,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--expect-workers 2: the workers did not all join within 2s" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_worker_that_joins_late_is_named_and_the_planned_workers_send_every_ip_key(
    network: PrivateNetwork, serve_on: ServeOn, harness_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    # Two workers, three addresses between them: worker0 has two.
    _, workers, master_run, log = _start_run(
        network, serve_on, harness_env, out, extra_addresses=(1, 0)
    )
    _wait_for(log, r"slots, records in", master_run)
    late = network.add_host("late")
    _start_worker(late, network.hosts["master"], harness_env)
    _wait_for(log, r"joined after the load began", master_run)
    code = master_run.wait(timeout=RUN_TIMEOUT_S)
    text = log.read_text()
    assert code == 0, text[-3000:]
    assert "worker w2 joined after the load began: it gets no keys and sends nothing" in text
    assert text.count("joined after the load began") == 1  # a stopped worker's "ready" is not
    chats = _load_chats(out)
    sources = {row["source_ip"] for row in chats if row["case"] == "ip-open"}
    assert sources == {address for worker in workers for address in worker.addresses}
    assert "w2" not in {row["process"] for row in chats}
    assert "Sending spawn jobs of" not in text.split("joined after the load began")[1]
