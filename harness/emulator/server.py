"""Running the emulator: on a socket of its own, in the foreground or on a background thread.

The background form serves tests and embedding callers; it binds port 0 so parallel runs never
collide and exposes the service, whose clock a test can move.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp
from uvicorn.server import HANDLED_SIGNALS

from harness.emulator.app import build_app
from harness.emulator.clock import Clock, SystemClock
from harness.emulator.config import EmulatorConfig
from harness.emulator.service import EmulatorService

__all__ = ["BackgroundEmulator", "base_url_of", "bind", "serve"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; raises OSError with the system's reason if it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every answer (headers, then body) waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, except that the signal which stopped it is not raised again.

    After a graceful shutdown uvicorn re-raises the SIGINT/SIGTERM it caught, which turns a clean
    stop into KeyboardInterrupt (exit 130) or death by SIGTERM; here the signal is the normal end.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Signals can only be handled on the main thread (not BackgroundEmulator's).
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def _server(app: ASGIApp) -> uvicorn.Server:
    """The one server stack every emulator (and the benchmark's bare baseline) runs on."""
    config = uvicorn.Config(
        app,
        loop="asyncio",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=30,
        backlog=2048,
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default and rewrites the peer with it:
        # a loopback client could then buy a new vary-by-IP budget per request. The service alone
        # decides whether the header counts (``trust_forwarded_for``).
        proxy_headers=False,
    )
    return _Server(config)


def base_url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(app: ASGIApp, sock: socket.socket, service: EmulatorService | None = None) -> None:
    """Serve ``app`` (``build_app(service)``) until SIGINT/SIGTERM end it cleanly, or until
    ``service``'s real limiter engine loses its store (the caller then says so)."""
    server = _server(app)
    if service is not None:

        def stop(_failure: str) -> None:
            server.should_exit = True

        service.on_engine_failure = stop
    server.run(sockets=[sock])


class BackgroundEmulator:
    """An emulator on a loopback port, served by a thread: ``with BackgroundEmulator(c) as e``."""

    def __init__(
        self, config: EmulatorConfig, clock: Clock | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.service = EmulatorService(config, clock or SystemClock())
        self._sock = bind(host, 0)
        self.base_url = base_url_of(self._sock)
        self._server = _server(build_app(self.service))
        self._thread = threading.Thread(target=self._run, name="aisk-emulator", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self, timeout_s: float = 10.0) -> BackgroundEmulator:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving (and close the socket, whether or not it ever served)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> BackgroundEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
