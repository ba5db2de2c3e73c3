"""`connect`: one call from a URL to a connected socket (``async with siox.connect(url) as s``)."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from types import TracebackType
from typing import Any

from ..options import DEFAULT_CLIENT_OPTIONS, ClientOptions
from ..socketio.parsers import ParserSpec, check_parser, resolve_parser
from .client import Client
from .endpoint import SslOption
from .socket import ClientSocket

__all__ = ["Connecting", "connect"]

_DEFAULTS = DEFAULT_CLIENT_OPTIONS


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
        options: ClientOptions,
        retry: bool = False,
    ) -> None:
        self._url = url
        self._namespace = namespace
        self._auth = auth
        self._wait_timeout = wait_timeout
        self._retry = retry
        self._options = options
        self._socket: ClientSocket | None = None

    async def _connect(self) -> ClientSocket:
        client = Client.from_options(self._url, self._options)
        namespace = self._namespace
        if namespace is None:
            namespace = client.endpoint.url_path or "/"
        socket = client.socket(namespace, auth=self._auth)
        try:
            await socket.connect(timeout=self._wait_timeout, retry=self._retry)
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
    wait_timeout: float | None = None,
    retry: bool = False,
    reconnection: bool = _DEFAULTS.reconnection,
    reconnection_delay: float = _DEFAULTS.reconnection_delay,
    reconnection_delay_max: float = _DEFAULTS.reconnection_delay_max,
    randomization_factor: float = _DEFAULTS.randomization_factor,
    reconnection_attempts: int | None = _DEFAULTS.reconnection_attempts,
    protocol: int = _DEFAULTS.protocol,
    path: str = _DEFAULTS.path,
    transports: Iterable[str] = _DEFAULTS.transports,
    upgrade: bool = _DEFAULTS.upgrade,
    parser: ParserSpec = "default",
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = _DEFAULTS.headers,
    query: Mapping[str, str] | Iterable[tuple[str, str]] | None = _DEFAULTS.query,
    ssl: SslOption = None,
    proxy: str | None = _DEFAULTS.proxy,
    timeout: float = _DEFAULTS.timeout,
    cookies: bool = _DEFAULTS.cookies,
    max_payload: int = _DEFAULTS.max_payload,
    max_attachments: int = _DEFAULTS.max_attachments,
    max_depth: int = _DEFAULTS.max_depth,
    max_fragments: int = _DEFAULTS.max_fragments,
    per_message_deflate: bool = _DEFAULTS.per_message_deflate,
    retries: int = _DEFAULTS.retries,
    ack_timeout: float | None = _DEFAULTS.ack_timeout,
    max_pending_acks: int | None = _DEFAULTS.max_pending_acks,
    add_trailing_slash: bool = _DEFAULTS.add_trailing_slash,
) -> Connecting:
    """Connect to a Socket.IO server and join one namespace.

    ``async with siox.connect("http://localhost:3000") as socket: ...`` yields a connected
    `ClientSocket` and closes everything on exit.

    Args:
        url: the server URL; as in socket.io-client, its path names the namespace when
            ``namespace`` is not given (``http://host/chat`` joins ``/chat``).
        namespace: the namespace to join.
        auth: the CONNECT payload (a dict, or a callable returning one).
        wait_timeout: how long to wait for the first connection, seconds (None: as long as
            it takes).
        retry: when the first attempt fails, keep trying as the reconnection settings say
            instead of raising (False: raise `NotConnected` at the first failure, as
            python-socketio's ``connect(retry=False)``).
        reconnection: see `siox.Client` (True).
        reconnection_delay: see `siox.Client`, seconds (1.0).
        reconnection_delay_max: see `siox.Client`, seconds (5.0).
        randomization_factor: see `siox.Client` (0.5).
        reconnection_attempts: see `siox.Client` (None: never give up).
        protocol: 5, or 4 for socket.io 2.x servers (5).
        path: the server's endpoint path (``"/socket.io/"``).
        transports: see `siox.Client` (``("polling", "websocket")``).
        upgrade: allow the polling -> WebSocket upgrade (True).
        parser: ``"default"``, ``"msgpack"`` or a parser object (see `siox.Client`).
        headers: extra request headers (None).
        query: extra query parameters (None).
        ssl: see `siox.Client` (None: verify certificates).
        proxy: an HTTP proxy URL, or None (the default).
        timeout: seconds for one connection attempt and for the CONNECT answer (20.0).
        cookies: keep the server's cookies and send them back (True).
        max_payload: the largest polling response or WebSocket message accepted, bytes
            (100,000,000).
        max_attachments: the most binary attachments accepted in one packet (10).
        max_depth: the deepest nesting of a packet's data accepted (32).
        max_fragments: the most frames one WebSocket message may have (1024).
        per_message_deflate: offer permessage-deflate on WebSockets (False).
        retries: default ``retries`` of the socket (0: off).
        ack_timeout: default ack timeout of the socket, seconds (None: none).
        max_pending_acks: acks the socket may await at once (None: no cap, the server's
            default); see `siox.Client`.
        add_trailing_slash: request ``path`` with a trailing slash added (True).

    Raises:
        TypeError: an unknown option (at the call), or a ``parser`` object without
            ``encode`` and ``Decoder`` (at the call).
        ConnectionRefused: the server refused the namespace.
        NotConnected: the first attempt failed (without ``retry``) or the client gave up;
            the network error is ``__cause__``.
        TimeoutError: not connected within ``wait_timeout``.
    """
    options = ClientOptions(
        reconnection=reconnection,
        reconnection_delay=reconnection_delay,
        reconnection_delay_max=reconnection_delay_max,
        randomization_factor=randomization_factor,
        reconnection_attempts=reconnection_attempts,
        protocol=protocol,
        path=path,
        transports=tuple(transports),
        upgrade=upgrade,
        parser=check_parser(parser),
        headers=headers,
        query=query,
        ssl=ssl,
        proxy=proxy,
        timeout=timeout,
        cookies=cookies,
        max_payload=max_payload,
        max_attachments=max_attachments,
        max_depth=max_depth,
        max_fragments=max_fragments,
        per_message_deflate=per_message_deflate,
        retries=retries,
        ack_timeout=ack_timeout,
        max_pending_acks=max_pending_acks,
        add_trailing_slash=add_trailing_slash,
    )
    # Build the parser once now, so that a wrong parser object fails here, not when awaited.
    resolve_parser(options.parser, protocol=protocol, limits=options.limits)
    return Connecting(url, namespace, auth, wait_timeout, options, retry)
