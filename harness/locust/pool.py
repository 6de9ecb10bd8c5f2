"""A geventhttpclient pool whose connections leave from a chosen source address.

Locust's FastHttpUser has no source-address option (locust#376); geventhttpclient creates every
TCP socket in ``ConnectionPool._create_tcp_socket``, so binding there gives each simulated client
its own peer address as the server sees it, without header tricks. The local address actually
used is remembered after each connect, so every record can say which IP it left from.
"""

from __future__ import annotations

from typing import Protocol

from geventhttpclient.client import HTTPClient, HTTPClientPool
from geventhttpclient.url import URL

__all__ = ["SourceBoundClientPool"]


class _Socket(Protocol):
    """What the pool does with geventhttpclient's sockets (``gevent.socket.socket``, which gevent
    ships untyped): bind one before it connects, read its local address after."""

    def bind(self, address: tuple[str, int], /) -> None: ...

    def getsockname(self) -> tuple[str, int] | tuple[str, int, int, int]: ...


class SourceBoundClientPool(HTTPClientPool):
    """One pool per simulated client; ``source_ip`` "" leaves the choice to the kernel.

    The keywords are geventhttpclient's ``HTTPClient`` options, handed to each client it makes.
    """

    def __init__(
        self,
        source_ip: str,
        *,
        concurrency: int,
        connection_timeout: float,
        network_timeout: float,
    ) -> None:
        super().__init__(
            concurrency=concurrency,
            connection_timeout=connection_timeout,
            network_timeout=network_timeout,
        )
        self.source_ip = source_ip
        self.local_ip = source_ip

    def get_client(self, url: str | URL) -> HTTPClient:
        known = len(self.clients)
        client = super().get_client(url)
        if len(self.clients) != known:
            self._bind(client)
        return client

    def _bind(self, client: HTTPClient) -> None:
        pool = client._connection_pool
        create_socket = pool._create_tcp_socket
        after_connect = pool.after_connect
        source_ip = self.source_ip

        def create_bound_socket(family: int, socktype: int, protocol: int) -> _Socket:
            sock: _Socket = create_socket(family, socktype, protocol)
            if source_ip:
                sock.bind((source_ip, 0))
            return sock

        def remember_local_address(sock: _Socket) -> None:
            self.local_ip = sock.getsockname()[0]
            after_connect(sock)

        pool._create_tcp_socket = create_bound_socket  # type: ignore[method-assign]
        pool.after_connect = remember_local_address  # type: ignore[method-assign]

    def prewarm(self, url: str, connections: int) -> int:
        """Open up to ``connections`` sockets now, so a burst does not wait on TCP handshakes."""
        pool = self.get_client(url)._connection_pool
        sockets = []
        try:
            for _ in range(connections):
                sockets.append(pool.get_socket())
        finally:
            for sock in sockets:
                pool.return_socket(sock)
        return len(sockets)
