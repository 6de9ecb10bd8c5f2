"""Private networks of namespaces work for real: hosts with their own addresses, torn down clean.

The emulator runs on one host and clients on others, so every address the emulator sees is a
real TCP peer; killing, unplugging, interrupting and crashing are done to real processes. Every
network is checked to have left nothing behind (namespaces, processes): by the test itself, or
by the ``network`` fixture's teardown.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from netns import LOCK_DIR, PREFIX, NetnsError, is_refusal, missing_capabilities, namespaces
from private_network import Host, PrivateNetwork, read_line

pytestmark = pytest.mark.netns

HOSTS_DIR = Path(__file__).resolve().parent
REPO = HOSTS_DIR.parents[1]
ServeOn = Callable[[Host], str]
CHAT_CLIENT = str(HOSTS_DIR / "chat_client.py")
LINE_TIMEOUT_S = 30.0  # a cold interpreter importing the harness's client
EXIT_TIMEOUT_S = 60.0  # a bound on a hang, not a speed: teardown on a busy host took over 10 s
# Listens on argv[1] (any port, printed), accepts argv[2] connections, prints each peer address.
LISTENER = """
import socket, sys
server = socket.create_server((sys.argv[1], 0))
print(server.getsockname()[1], flush=True)
for _ in range(int(sys.argv[2])):
    connection, peer = server.accept()
    print(peer[0], flush=True)
    connection.close()
"""
# Connects to argv[1]:argv[2] from source address argv[3] within argv[4] seconds.
CONNECT = """
import socket, sys
socket.create_connection(
    (sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[4]), source_address=(sys.argv[3], 0)
).close()
"""
# A network's owner, run in a process of its own, so the test can interrupt or crash it.
OWNER = """
import subprocess, time
from private_network import PrivateNetwork
with PrivateNetwork() as network:
    host = network.add_host("owner")
    sleeper = host.popen(["sleep", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(network.prefix, sleeper.pid, flush=True)
    time.sleep(60)
"""


def own_namespaces(prefix: str) -> list[str]:
    return [name for name in namespaces() if name.startswith(prefix)]


def gone(pid: int) -> bool:
    """Whether ``pid`` no longer runs (a zombie waiting for its reaper has ended too)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def start_client(
    host: Host, base_url: str, env: dict[str, str], *, before: int, after: int
) -> subprocess.Popen[str]:
    steps = ["--before", str(before), "--after", str(after)]
    return host.popen(
        [sys.executable, CHAT_CLIENT, "chat", base_url, *steps],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def expect_lines(process: subprocess.Popen[str], *expected: str) -> None:
    seen = [read_line(process, LINE_TIMEOUT_S) for _ in expected]
    assert seen == list(expected)


def emulator_stats(server: Host, base_url: str, env: dict[str, str]) -> dict[str, object]:
    done = server.run([sys.executable, CHAT_CLIENT, "stats", base_url], cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr
    stats: dict[str, object] = json.loads(done.stdout)
    return stats


def start_listener(host: Host, connections: int) -> tuple[subprocess.Popen[str], int]:
    listener = host.popen(
        [sys.executable, "-c", LISTENER, host.address, str(connections)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return listener, int(read_line(listener, LINE_TIMEOUT_S))


def connect(
    host: Host, server: Host, port: int, *, source: str = "", within_s: float = 5.0
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", CONNECT, server.address, str(port), source, str(within_s)]
    return host.run(argv, timeout=within_s + EXIT_TIMEOUT_S)


def test_three_client_hosts_are_the_emulators_three_peers(
    network: PrivateNetwork, serve_on: ServeOn, harness_env: dict[str, str]
) -> None:
    server = network.add_host("server")
    clients = [network.add_host(f"client{number}") for number in range(3)]
    base_url = serve_on(server)
    running = [start_client(client, base_url, harness_env, before=3, after=0) for client in clients]
    for process in running:
        expect_lines(process, "chatted 1", "chatted 2", "chatted 3", "done")
        assert process.wait(timeout=EXIT_TIMEOUT_S) == 0
    stats = emulator_stats(server, base_url, harness_env)
    assert stats["peers"] == sorted(client.address for client in clients)
    assert stats["admitted"] == 9


def test_a_killed_client_host_leaves_the_others_working_and_the_teardown_clean(
    network: PrivateNetwork, serve_on: ServeOn, harness_env: dict[str, str]
) -> None:
    server = network.add_host("server")
    victim, *survivors = [network.add_host(f"client{number}") for number in range(3)]
    base_url = serve_on(server)
    clients = (victim, *survivors)
    running = {c.name: start_client(c, base_url, harness_env, before=2, after=3) for c in clients}
    for process in running.values():
        expect_lines(process, "chatted 1", "chatted 2", "paused")

    victim.kill()
    assert running[victim.name].returncode == -signal.SIGKILL
    assert victim.namespace not in namespaces()
    assert not victim.alive
    with pytest.raises(NetnsError, match="was killed"):
        victim.popen(["true"])

    for survivor in survivors:
        process = running[survivor.name]
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        expect_lines(process, "chatted 3", "chatted 4", "chatted 5", "done")
        assert process.wait(timeout=EXIT_TIMEOUT_S) == 0
    stats = emulator_stats(server, base_url, harness_env)
    assert stats["admitted"] == 3 * 2 + 2 * 3
    assert stats["peers"] == sorted(client.address for client in clients)

    started = [process for host in network.hosts.values() for process in host.processes]
    network.close()
    assert own_namespaces(network.prefix) == []
    assert all(process.returncode is not None for process in started)
    assert not (LOCK_DIR / f"{network.tag}.lock").exists()


def test_an_unplugged_host_is_cut_off_until_plugged_back(network: PrivateNetwork) -> None:
    server, steady, flaky = (network.add_host(name) for name in ("server", "steady", "flaky"))
    listener, port = start_listener(server, connections=3)
    assert connect(steady, server, port).returncode == 0
    flaky.unplug()
    cut_off = connect(flaky, server, port, within_s=1.0)
    assert cut_off.returncode == 1
    assert re.search(r"TimeoutError|No route to host|Network is unreachable", cut_off.stderr)
    assert connect(steady, server, port).returncode == 0
    flaky.plug()
    assert connect(flaky, server, port).returncode == 0
    peers = [read_line(listener, LINE_TIMEOUT_S) for _ in range(3)]
    assert peers == [steady.address, steady.address, flaky.address]


def test_extra_addresses_are_distinct_source_addresses_of_their_host(
    network: PrivateNetwork,
) -> None:
    server = network.add_host("server")
    many = network.add_host("many", extra_addresses=3)
    assert many.addresses == ("10.77.2.1", "10.77.2.2", "10.77.2.3", "10.77.2.4")
    assert server.addresses == ("10.77.1.1",)
    listener, port = start_listener(server, connections=len(many.addresses))
    for address in many.addresses:
        assert connect(many, server, port, source=address).returncode == 0
    assert [read_line(listener, LINE_TIMEOUT_S) for _ in many.addresses] == list(many.addresses)


def test_teardown_kills_escaped_processes_and_deletes_every_namespace_when_the_test_fails(
    netns_permitted: None,
) -> None:
    # The child starts a grandchild in a session of its own: out of reach of the child's group.
    escape = (
        "import subprocess, time\n"
        "print(subprocess.Popen(['sleep', '60'], start_new_session=True).pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    made: list[tuple[PrivateNetwork, subprocess.Popen[str], int]] = []

    def a_failing_test() -> None:
        with PrivateNetwork() as network:
            host = network.add_host("escape")
            child = host.popen([sys.executable, "-c", escape], stdout=subprocess.PIPE, text=True)
            grandchild = int(read_line(child, LINE_TIMEOUT_S))
            made.append((network, child, grandchild))
            assert not gone(grandchild)
            raise RuntimeError("the test failed")

    with pytest.raises(RuntimeError, match="the test failed"):
        a_failing_test()
    [(network, child, grandchild)] = made
    assert own_namespaces(network.prefix) == []
    assert child.returncode == -signal.SIGKILL
    assert gone(grandchild)


def owner() -> tuple[subprocess.Popen[str], str, int]:
    """A process that owns a network with one host running ``sleep``; its prefix, sleep's pid."""
    process = subprocess.Popen(
        [sys.executable, "-c", OWNER],
        cwd=HOSTS_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    prefix, sleeper = read_line(process, LINE_TIMEOUT_S).split()
    assert sorted(own_namespaces(prefix)) == [prefix + "bridge", prefix + "owner"]
    return process, prefix, int(sleeper)


def test_sigterm_tears_the_network_down_before_the_process_ends(netns_permitted: None) -> None:
    process, prefix, sleeper = owner()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=EXIT_TIMEOUT_S)
    assert process.returncode == -signal.SIGINT  # how Python ends on an uncaught KeyboardInterrupt
    assert "KeyboardInterrupt: signal 15" in err
    assert own_namespaces(prefix) == []
    assert gone(sleeper)


# A test of another pytest run that holds a network (from this folder's fixture) until stopped.
HOLDER = """
import subprocess, time
def test_holds_a_network(network):
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    sleeper = network.add_host("held").popen(["sleep", "60"], **quiet)
    print("held", network.prefix, sleeper.pid, flush=True)
    time.sleep(60)
"""


def test_sigterm_to_pytest_tears_the_network_fixture_down(
    netns_permitted: None, tmp_path: Path
) -> None:
    (tmp_path / "test_holder.py").write_text(HOLDER)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HOSTS_DIR), os.environ.get("PYTHONPATH", "")]),
    }
    plugin = ["-p", "conftest", "-p", "no:cacheprovider"]  # this folder's fixtures, no cache
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-s", *plugin, "test_holder.py"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    while not (held := re.search(r"held (\S+) (\d+)", read_line(process, LINE_TIMEOUT_S))):
        pass
    prefix, sleeper = held[1], int(held[2])
    assert own_namespaces(prefix) != []
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=EXIT_TIMEOUT_S)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, out
    assert "KeyboardInterrupt: signal 15" in out
    assert own_namespaces(prefix) == []
    assert gone(sleeper)


def test_a_crashed_owners_namespaces_and_processes_are_swept_by_the_next_network(
    netns_permitted: None,
) -> None:
    process, prefix, sleeper = owner()
    process.kill()
    process.communicate(timeout=EXIT_TIMEOUT_S)
    assert len(own_namespaces(prefix)) == 2  # SIGKILL leaves them: nothing could tear down
    assert not gone(sleeper)
    with PrivateNetwork():
        assert own_namespaces(prefix) == []
        assert gone(sleeper)
    tag = prefix.removeprefix(PREFIX).rstrip("-")
    assert not (LOCK_DIR / f"{tag}.lock").exists()


def test_two_networks_at_once_never_collide_and_a_live_one_is_never_swept(
    netns_permitted: None,
) -> None:
    with PrivateNetwork() as first, PrivateNetwork() as second:
        assert first.prefix != second.prefix
        a, b = first.add_host("same"), second.add_host("same")
        assert a.namespace != b.namespace
        assert a.address == b.address  # each network is its own wire
        assert sorted(own_namespaces(first.prefix)) == [first.prefix + "bridge", a.namespace]
        with PrivateNetwork():  # starting sweeps leftovers: the two live networks are not
            assert sorted(own_namespaces(first.prefix)) == [first.prefix + "bridge", a.namespace]
            assert sorted(own_namespaces(second.prefix)) == [second.prefix + "bridge", b.namespace]
    assert own_namespaces(first.prefix) == own_namespaces(second.prefix) == []


def test_bad_hosts_are_refused_with_the_reason_and_nothing_is_made(network: PrivateNetwork) -> None:
    network.add_host("taken")
    for name in ("Upper", "1digit", "bridge", "taken", "with-dash", "a" * 17):
        with pytest.raises(ValueError, match=f"host name '{name}': expected"):
            network.add_host(name)
    with pytest.raises(ValueError, match=r"extra_addresses 254: expected 0\.\.253"):
        network.add_host("many", extra_addresses=254)
    assert sorted(own_namespaces(network.prefix)) == [
        network.prefix + "bridge",
        network.prefix + "taken",
    ]
    network.close()
    with pytest.raises(NetnsError, match="start the network"):
        network.add_host("late")


# What the probe prints: the refusal of a whole network, then of one namespace asked of ip itself.
PROBE = """
import secrets
from netns import PREFIX, NamespacesRefused, add_namespace
from private_network import PrivateNetwork
for attempt in (lambda: PrivateNetwork().start().close(),
                lambda: add_namespace(f"{PREFIX}{secrets.token_hex(4)}-probe")):
    try:
        attempt()
        print("made")
    except NamespacesRefused as refused:
        print("refused:", refused)
"""


def test_without_the_capabilities_namespaces_are_refused_which_is_the_skip_reason() -> None:
    argv = [sys.executable, "-c", PROBE]
    if os.geteuid() == 0:  # root minus what namespaces need, as in a container without them
        setpriv = shutil.which("setpriv")
        assert setpriv is not None, "setpriv (util-linux) drops the capabilities"
        drop = "-sys_admin,-net_admin"
        argv = [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}", *argv]
    done = subprocess.run(argv, cwd=HOSTS_DIR, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    whole, single = done.stdout.splitlines()
    assert whole.startswith("refused: creating network namespaces needs root (CAP_NET_ADMIN")
    assert single.startswith("refused: the kernel refused a network namespace (ip netns add ")
    assert "Operation not permitted" in single or "Permission denied" in single


def test_refusals_are_told_from_other_failures_of_ip() -> None:
    assert is_refusal("mount --make-shared /run/netns failed: Operation not permitted")
    assert is_refusal('Cannot create namespace file "/run/netns/x": Permission denied')
    assert not is_refusal('Cannot create namespace file "/run/netns/x": File exists')
    assert not is_refusal("Error: Unknown device type.")
    root = "Name:\tpython\nCapEff:\t000001ffffffffff\n"
    assert missing_capabilities(root) == []
    assert missing_capabilities("CapEff:\t0000000000000000\n") == ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]
    assert missing_capabilities("CapEff:\t000001fffedfffff\n") == ["CAP_SYS_ADMIN"]
    assert missing_capabilities("CapEff:\t000001ffffffefff\n") == ["CAP_NET_ADMIN"]
