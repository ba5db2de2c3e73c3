"""`connect`: one call from a URL to a connected socket (``async with siox.connect(url) as s``)."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from types import TracebackType
from typing import Any

from ..socketio.parsers import ParserLike
from .client import Client
from .socket import ClientSocket

__all__ = ["Connecting", "connect"]


class Connecting:
    """What `connect` returns: an async context manager, or an awaitable of the socket.

    ``async with`` closes the client on exit; after ``socket = await siox.connect(url)`` the
    caller closes it with ``await socket.client.close()``.
    """

    def __init__(
        self,
        url: str,
        namespace: str | None,
        auth: Any,
        wait_timeout: float | None,
        options: dict[str, Any],
    ) -> None:
        self._url = url
        self._namespace = namespace
        self._auth = auth
        self._wait_timeout = wait_timeout
        self._options = options
        self._socket: ClientSocket | None = None

    async def _connect(self) -> ClientSocket:
        client = Client(self._url, **self._options)
        namespace = self._namespace
        if namespace is None:
            namespace = client.endpoint.url_path or "/"
        socket = client.socket(namespace, auth=self._auth)
        try:
            await socket.connect(timeout=self._wait_timeout)
        except BaseException:
            await client.close()
            raise
        return socket

    def __await__(self) -> Generator[Any, None, ClientSocket]:
        return self._connect().__await__()

    async def __aenter__(self) -> ClientSocket:
        self._socket = await self._connect()
        return self._socket

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._socket is not None:
            await self._socket.client.close()


def connect(
    url: str,
    *,
    namespace: str | None = None,
    auth: Any = None,
    transports: Iterable[str] = ("polling", "websocket"),
    parser: str | ParserLike = "default",
    protocol: int = 5,
    wait_timeout: float | None = None,
    **options: Any,
) -> Connecting:
    """Connect to a Socket.IO server and join one namespace.

    ``async with siox.connect("http://localhost:3000") as socket: ...`` yields a connected
    `ClientSocket` and closes everything on exit.

    Args:
        url: the server URL; as in socket.io-client, its path names the namespace when
            ``namespace`` is not given (``http://host/chat`` joins ``/chat``).
        namespace: the namespace to join.
        auth: the CONNECT payload (a dict, or a callable returning one).
        transports: see `siox.Client`.
        parser: ``"default"``, ``"msgpack"`` or a parser object.
        protocol: 5, or 4 for socket.io 2.x servers.
        wait_timeout: how long to wait for the first connection, seconds (None: as long as
            the reconnection settings keep trying).
        **options: any other `siox.Client` option (reconnection, headers, ssl, timeout...).

    Raises:
        ConnectionRefused: the server refused the namespace.
        NotConnected: the connection failed for good.
        TimeoutError: not connected within ``wait_timeout``.
    """
    options.update(transports=tuple(transports), parser=parser, protocol=protocol)
    return Connecting(url, namespace, auth, wait_timeout, options)
