"""Fixtures of the multi-host tests: private networks of namespaces, and an emulator on a host.

Handed out as fixtures, not imported (every ``conftest.py`` of the tree is the same module name);
the helpers themselves, ``netns.py`` and ``private_network.py``, are modules the tests of this
folder import.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from netns import NamespacesRefused, NetnsError, namespaces
from private_network import Host, PrivateNetwork, read_line

REPO = Path(__file__).resolve().parents[2]
# Distinctive, so a leak into a message or a log line is easy to spot.
API_KEY = "netns-org-key-6b1e0f3a9d"
START_TIMEOUT_S = 30.0  # a cold interpreter importing pydantic, starlette and uvicorn
LISTENING = re.compile(r"aisk-harness emulator listening on (http://([\d.]+):\d+) \(.*\)")


@pytest.fixture
def harness_env() -> dict[str, str]:
    """This environment with the organisation's API key exported, as a user would run it."""
    return {**os.environ, "AISK_API_KEY": API_KEY}


@pytest.fixture(scope="session")
def netns_permitted() -> None:
    """Skip, with the kernel's reason, where this process may not create network namespaces."""
    try:
        PrivateNetwork().start().close()
    except NamespacesRefused as refused:
        pytest.skip(f"network namespaces are refused here: {refused}")


@pytest.fixture
def network(netns_permitted: None) -> Iterator[PrivateNetwork]:
    """A started private network; closed at teardown (a test may close it first to inspect).

    The teardown also checks that it left nothing: no namespace of the network, no process.
    """
    opened = PrivateNetwork().start()
    yield opened
    opened.close()
    assert [name for name in namespaces() if name.startswith(opened.prefix)] == []
    started = [process for host in opened.hosts.values() for process in host.processes]
    assert [process.args for process in started if process.returncode is None] == []


@pytest.fixture
def serve_on(tmp_path: Path, harness_env: dict[str, str]) -> Callable[[Host], str]:
    """Start ``aisk-harness serve`` on a host's main address (any free port); return its URL.

    The organisation key comes from ``AISK_API_KEY`` (never argv, which ``ps`` shows); stderr
    goes to a file under ``tmp_path``, shown when the emulator does not come up.
    """

    def start(host: Host) -> str:
        log = tmp_path / f"serve-{host.name}.stderr"
        with log.open("w") as stderr:
            serve = [sys.executable, "-m", "harness.cli.main", "serve", "--host", host.address]
            process = host.popen(
                [*serve, "--port", "0"],
                cwd=REPO,
                env=harness_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        try:
            line = read_line(process, START_TIMEOUT_S)
        except NetnsError:
            pytest.fail(f"the emulator on {host.name} did not start: {log.read_text()!r}")
        match = LISTENING.fullmatch(line)
        assert match is not None, line
        assert match[2] == host.address, line
        return match[1]

    return start
