"""A misbehaving target for the fault tests: a loopback proxy in front of a real emulator.

Set-up calls (chatbots, tokens, the probes) and the first ``after`` chats are passed to the
emulator and answered faithfully, so a run reaches its load phase; from then on every chat meets
the faults in turn (a cycle, so one run can show several). Raw asyncio sockets, so each fault is
exactly what a broken server does on the wire:

- ``die``: stop listening and abort every connection (new connects are refused), once; with
  ``revive_after_s`` it listens again on the same port after that long, and then answers well.
- ``hang``: read the request, never answer.
- ``reset``: read the request, close with SO_LINGER 0 (the client sees a TCP reset).
- ``slow``: the emulator's real answer, one byte every ``byte_delay_s``.
- ``html-429``, ``empty-429``, ``html-500``: that status with that body.
- ``truncated-500``: a Content-Length of 400 and 12 bytes, then the connection closed.
- ``huge-500``: a 64 MiB body without a length, streamed (the harness must stop reading early).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Sequence
from typing import Any

import httpx

CHAT_PATH = b"/bv/aisk/v1/prompts:chat"
HUGE_BYTES = 64 * 1024 * 1024
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class FaultyTarget:
    """``with FaultyTarget(upstream_url, ["reset", "hang"], after=20) as target: target.url``."""

    def __init__(
        self,
        upstream: str,
        faults: Sequence[str],
        *,
        after: int = 0,
        byte_delay_s: float = 0.2,
        revive_after_s: float | None = None,
    ) -> None:
        self.upstream = upstream
        self.faults = tuple(faults)
        self.after = after
        self.byte_delay_s = byte_delay_s
        self.revive_after_s = revive_after_s
        self.chats = 0
        self.faulted: dict[str, int] = {}
        self.huge_bytes_sent = 0  # the most any one huge answer got out before the client left
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._hung: list[asyncio.Future[None]] = []
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._http: httpx.AsyncClient | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dead(self) -> bool:
        return self._server is None

    # -- life cycle (called from the test's thread) --------------------------------------------

    def __enter__(self) -> FaultyTarget:
        self._thread.start()
        self._call(self._start(self._sock))
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _start(self, sock: socket.socket) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.upstream, timeout=30.0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server = await asyncio.start_server(self._serve, sock=sock, backlog=512)

    async def _revive(self) -> None:
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        await self._start(sock)

    async def _die(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self.revive_after_s is not None:
            self._loop.call_later(
                self.revive_after_s, lambda: self._loop.create_task(self._revive())
            )

    async def _stop(self) -> None:
        for hung in self._hung:
            hung.cancel()
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        if self._http is not None:
            await self._http.aclose()

    # -- one connection ------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while self._server is not None:
                request = await _read_request(reader)
                if request is None:
                    return
                method, path, headers, body = request
                fault = self._fault_for(path)
                if fault is None:
                    await self._forward(writer, method, path, headers, body)
                elif not await self._misbehave(fault, method, path, headers, body, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._writers.discard(writer)
            if not writer.transport.is_closing():
                writer.close()

    def _fault_for(self, path: bytes) -> str | None:
        if path != CHAT_PATH:
            return None
        self.chats += 1
        if self.chats <= self.after or not self.faults:
            return None
        fault = self.faults[(self.chats - self.after - 1) % len(self.faults)]
        if fault == "die" and self.faulted.get("die"):
            return None  # it dies once; revived, it answers faithfully
        self.faulted[fault] = self.faulted.get(fault, 0) + 1
        return fault

    async def _upstream(
        self, method: bytes, path: bytes, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, str]:
        assert self._http is not None
        sent = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
        answer = await self._http.request(
            method.decode(), path.decode(), headers=sent, content=body
        )
        return answer.status_code, answer.content, answer.headers.get("content-type", "")

    async def _forward(
        self,
        writer: asyncio.StreamWriter,
        method: bytes,
        path: bytes,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        status, content, content_type = await self._upstream(method, path, headers, body)
        writer.write(_answer(status, content, content_type))
        await writer.drain()

    async def _misbehave(
        self,
        fault: str,
        method: bytes,
        path: bytes,
        headers: dict[str, str],
        body: bytes,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Act out one fault; False when the connection is finished with."""
        if fault == "die":
            await self._die()
            return False
        if fault == "hang":
            hung: asyncio.Future[None] = self._loop.create_future()
            self._hung.append(hung)
            with contextlib.suppress(asyncio.CancelledError):
                await hung
            return False
        if fault == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if fault == "slow":
            status, content, content_type = await self._upstream(method, path, headers, body)
            for byte in _answer(status, content, content_type):
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(self.byte_delay_s)
            return True
        if fault in CANNED:
            writer.write(CANNED[fault])
            await writer.drain()
            return True
        if fault == "truncated-500":
            writer.write(_head(500, 400, "application/json") + b'{"code": 13,')
            await writer.drain()
            writer.close()
            return False
        if fault == "huge-500":
            # No Content-Length: the body runs until the connection closes, so only a bounded
            # read on the client's side stops it.
            writer.write(b"HTTP/1.1 500 X\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n")
            block = b"x" * 65536
            sent = 0
            try:
                while sent < HUGE_BYTES:
                    writer.write(block)
                    await writer.drain()  # raises once the harness stops reading and closes
                    sent += len(block)
            finally:
                self.huge_bytes_sent = max(self.huge_bytes_sent, sent)
            return False
        raise ValueError(f"unknown fault {fault!r}")


HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def _head(status: int, length: int, content_type: str) -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {length}\r\n\r\n"
    ).encode()


def _answer(status: int, content: bytes, content_type: str) -> bytes:
    return _head(status, len(content), content_type or "application/json") + content


CANNED = {
    "html-429": _answer(429, HTML, "text/html"),
    "html-500": _answer(500, HTML, "text/html"),
    "empty-429": _answer(429, b"", "application/json"),
}


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[bytes, bytes, dict[str, str], bytes] | None:
    """One HTTP/1.1 request with a Content-Length body; None when the client closed."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method.encode(), path.encode(), headers, body
