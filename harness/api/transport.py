"""What can go wrong below HTTP: failures mapped to one vocabulary, and bodies read bounded.

Three clients talk to a target (the API client and the set-up probes over httpx, the load over
Locust's geventhttpclient); they name a failure the same way (``ErrorClass``, the record's
``error_class``, with the words the client's messages use) through ``transport_failure``, and read a
body no further than a bound through ``read_bounded``, so a target that streams gigabytes or
declares them cannot exhaust the harness's memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from typing import NamedTuple

import httpx

from harness.api.answer import ErrorClass

__all__ = [
    "TRANSPORT_FAILURES",
    "Body",
    "TransportFailure",
    "aread_bounded",
    "read_bounded",
    "transport_failure",
]


class TransportFailure(NamedTuple):
    """One kind of failure: instances of ``kind`` (whose text contains ``when``, if given)."""

    kind: type[BaseException]
    error_class: ErrorClass
    label: str  # the words of a one-line message: "cannot connect", "read timeout", ...
    when: str = ""


# Most specific first: the timeouts and ConnectError share base classes.
TRANSPORT_FAILURES: tuple[TransportFailure, ...] = (
    TransportFailure(httpx.ConnectTimeout, ErrorClass.TIMEOUT, "connect timeout"),
    TransportFailure(httpx.ReadTimeout, ErrorClass.TIMEOUT, "read timeout"),
    TransportFailure(httpx.WriteTimeout, ErrorClass.TIMEOUT, "write timeout"),
    TransportFailure(httpx.PoolTimeout, ErrorClass.TIMEOUT, "connection pool timeout"),
    TransportFailure(httpx.TimeoutException, ErrorClass.TIMEOUT, "timeout"),
    TransportFailure(httpx.ConnectError, ErrorClass.CONNECT, "cannot connect"),
    TransportFailure(httpx.ReadError, ErrorClass.RESET, "read error"),
    TransportFailure(httpx.WriteError, ErrorClass.RESET, "write error"),
    # httpx says this when the connection closes before the whole answer.
    TransportFailure(httpx.RemoteProtocolError, ErrorClass.TRUNCATED, "protocol error"),
    TransportFailure(httpx.ProxyError, ErrorClass.CONNECT, "proxy error"),
    TransportFailure(httpx.UnsupportedProtocol, ErrorClass.PROTOCOL, "unsupported URL"),
    TransportFailure(httpx.DecodingError, ErrorClass.PROTOCOL, "undecodable answer"),
    # The standard library's, as a raw socket raises them (socket.timeout is TimeoutError).
    TransportFailure(TimeoutError, ErrorClass.TIMEOUT, "timeout"),
    TransportFailure(ConnectionRefusedError, ErrorClass.CONNECT, "cannot connect"),
    TransportFailure(ConnectionResetError, ErrorClass.RESET, "connection reset"),
    TransportFailure(BrokenPipeError, ErrorClass.RESET, "connection reset"),
)
_UNKNOWN = TransportFailure(BaseException, ErrorClass.OTHER, "request failed")


def transport_failure(
    error: BaseException, extra: tuple[TransportFailure, ...] = ()
) -> TransportFailure:
    """The first entry of ``extra`` (a client's own failures) or ``TRANSPORT_FAILURES`` that
    ``error`` matches; ``ErrorClass.OTHER`` for anything else."""
    text = ""
    for failure in (*extra, *TRANSPORT_FAILURES):
        if isinstance(error, failure.kind):
            if failure.when:
                text = text or str(error)
                if failure.when not in text:
                    continue
            return failure
    return _UNKNOWN


class Body(NamedTuple):
    """An answer's body as read: ``problem`` is too_large when it was not read whole."""

    data: bytes
    size: int
    problem: ErrorClass = ErrorClass.NONE
    error: str = ""


class _BoundedBody:
    """The chunks of a body, kept while their total stays within ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0

    def take(self, chunk: bytes) -> bool:
        """Keep ``chunk``; False once the body is past the bound (stop reading)."""
        self._size += len(chunk)
        if self._size > self._limit:
            return False
        self._chunks.append(chunk)
        return True

    def body(self) -> Body:
        if self._size > self._limit:  # its size is only known to be more than the bound
            return Body(
                b"", self._limit, ErrorClass.TOO_LARGE, f"body larger than {self._limit} bytes"
            )
        return Body(b"".join(self._chunks), self._size)


def _declared_too_large(declared: int | None, limit: int) -> Body | None:
    if declared is not None and declared > limit:
        return Body(
            b"", declared, ErrorClass.TOO_LARGE, f"body of {declared} bytes declared (> {limit})"
        )
    return None


def read_bounded(chunks: Iterable[bytes], limit: int, declared: int | None = None) -> Body:
    """The body of ``chunks``, read no further than the first chunk past ``limit`` bytes.

    ``declared`` (a Content-Length) above the bound refuses the body before anything is read.
    Failures of the underlying read propagate: the caller knows its client's exceptions.
    """
    refused = _declared_too_large(declared, limit)
    if refused is not None:
        return refused
    body = _BoundedBody(limit)
    for chunk in chunks:
        if not body.take(chunk):
            break
    return body.body()


async def aread_bounded(
    chunks: AsyncIterable[bytes], limit: int, declared: int | None = None
) -> Body:
    """``read_bounded`` for an asynchronous stream of chunks."""
    refused = _declared_too_large(declared, limit)
    if refused is not None:
        return refused
    body = _BoundedBody(limit)
    async for chunk in chunks:
        if not body.take(chunk):
            break
    return body.body()
