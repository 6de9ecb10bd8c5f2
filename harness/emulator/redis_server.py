"""A private ``redis-server`` for the real limiter engines: started, checked, and always stopped.

The engines (``engines.py``) keep their counters in a real Redis, as a service built on them
would. Unless the caller names one (``--redis URL``), the emulator starts its own: a unix socket
in a temporary directory (no TCP port to collide with anything), no persistence (``--save ''
--appendonly no``: nothing outlives the run), in a session of its own (a terminal's Ctrl-C reaches
the emulator, which then stops it in turn) and told to die with its parent, so a killed emulator
leaves nothing running.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from harness.errors import HarnessError

__all__ = ["REDIS_PACKAGE", "PrivateRedis", "RedisUnavailableError"]

REDIS_PACKAGE = "redis-server"
_PR_SET_PDEATHSIG = 1


class RedisUnavailableError(HarnessError):
    """No Redis for the engine: none installed, or one that would not start or answer."""


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the emulator's process ends (Linux; else no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _pings(path: Path) -> bool:
    """Whether a Redis answers PING on the unix socket ``path`` (one short round trip)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class PrivateRedis:
    """``with PrivateRedis() as url``: a fresh, empty Redis on a unix socket, gone on exit."""

    def __init__(self, binary: str = "redis-server") -> None:
        found = shutil.which(binary)
        if found is None:
            raise RedisUnavailableError(
                f"--limiter: the real engines need {binary!r}, which is not installed "
                f"(apt-get install {REDIS_PACKAGE}), or give --redis URL"
            )
        self._binary = found
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.url = ""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout_s: float = 10.0) -> str:
        """Start it and wait until it answers; its URL (``unix:///…/redis.sock``)."""
        self._dir = Path(tempfile.mkdtemp(prefix="aisk-redis-"))
        sock = self._dir / "redis.sock"
        command = [self._binary, "--port", "0", "--unixsocket", str(sock)]
        command += ["--unixsocketperm", "700", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self._dir), "--logfile", str(self._dir / "redis.log")]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            # Only a prctl call runs in the child before exec: safe beside the emulator's threads.
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout_s
        while not _pings(sock):
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = self._log_tail()
                self.stop()
                raise RedisUnavailableError(
                    f"--limiter: {self._binary} did not start within {timeout_s:g} s{log}"
                )
            time.sleep(0.02)
        self.url = f"unix://{sock}"
        return self.url

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _log_tail(self) -> str:
        log = self._dir / "redis.log" if self._dir is not None else None
        if log is None or not log.is_file():
            return ""
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        return f": {lines[-1].strip()}" if lines else ""

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after 5 s) and remove its directory; idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
