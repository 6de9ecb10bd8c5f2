"""Real limiters for the http profile's tests: started on loopback from a committed config,
stopped at teardown; a missing binary skips its test with that one reason."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CONFIGS = Path(__file__).parent / "configs"
READY_S = 15.0  # a bound on a start, not a speed: a busy machine starts nginx in well under 1 s


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def binary(name: str, install: str) -> str:
    """The path of ``name``, or the test skipped saying how to install it."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.skip(f"{name} is not installed ({install}; .ci/run installs it)")
    return found


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on {port} within {READY_S} s")


@contextmanager
def running(
    command: list[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[None]:
    """``command`` in the foreground until the block ends (terminated, then killed)."""
    environment = {**os.environ, **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environment)
    try:
        _wait_listening(port, process, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextmanager
def nginx(config: str, prefix: Path) -> Iterator[str]:
    """nginx with ``configs/<config>`` (``@PORT@`` replaced) under ``prefix``: its base URL.
    Its access log is ``prefix/logs/access.log``."""
    path = binary("nginx", "apt-get install nginx-light")
    port = free_port()
    for folder in ("logs", "tmp", "html"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    (prefix / "html" / "ok.txt").write_text("ok\n")
    conf = prefix / "nginx.conf"
    conf.write_text((CONFIGS / config).read_text().replace("@PORT@", str(port)))
    with running([path, "-p", str(prefix), "-c", str(conf)], port, prefix / "server.log"):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def haproxy(config: str, folder: Path) -> Iterator[str]:
    """HAProxy in the foreground (``-db``) with ``configs/<config>``: its base URL."""
    path = binary("haproxy", "apt-get install haproxy")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "haproxy.cfg"
    conf.write_text((CONFIGS / config).read_text().replace("@PORT@", str(port)))
    with running([path, "-db", "-f", str(conf)], port, folder / "server.log"):
        yield f"http://127.0.0.1:{port}"


NODE_DIR = Path(__file__).parent / "node"


@contextmanager
def express(draft: str, folder: Path) -> Iterator[str]:
    """``node/server.mjs`` (express-rate-limit, the IETF fields of ``draft``): its base URL."""
    path = binary("node", "apt-get install nodejs npm")
    if not (NODE_DIR / "node_modules" / "express-rate-limit").is_dir():
        pytest.skip(f"express-rate-limit is not installed (npm ci --prefix {NODE_DIR})")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    command = [path, str(NODE_DIR / "server.mjs")]
    with running(command, port, folder / "server.log", {"PORT": str(port), "DRAFT": draft}):
        yield f"http://127.0.0.1:{port}"
