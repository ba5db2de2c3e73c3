"""The client's WebSockets: the opening handshake, then frames in and out of a connection.

`open_websocket` connects (`siox.client.stream.open_stream`), sends the
`siox.http.handshake.ClientHandshake` request and checks the 101 answer (a redirect or any
other status is refused); the resulting `ClientWebSocket` feeds a sans-I/O
`siox.http.websocket.WebSocketConnection` with what the stream receives.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import cast

from ..engineio.outputs import Query
from ..errors import InvalidPacket
from ..http.deflate import DeflateOptions
from ..http.handshake import ClientHandshake
from ..http.http11 import Body, EndOfMessage, HttpError, Response, ResponseParser, SwitchedProtocols
from ..http.websocket import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    ConnectionState,
    Role,
    TextMessage,
    WebSocketConnection,
)
from .endpoint import CookieJar, Endpoint
from .stream import Stream, open_stream
from .transport import http_failure

__all__ = ["CLOSE_GRACE", "ClientWebSocket", "open_websocket"]

#: How long a closing WebSocket waits for the server's close frame before dropping TCP.
CLOSE_GRACE = 1.0
_OPEN = ConnectionState.OPEN
_MAX_ERROR_BODY = 65_536


MessageCallback = Callable[[str | bytes], None]
CloseCallback = Callable[[int, str, bool], None]


class ClientWebSocket:
    """An open client WebSocket: frames in and out of a `WebSocketConnection`.

    Incoming bytes are held until `start` names the callbacks, so nothing that arrives with
    (or right after) the 101 response is lost while the caller gets ready.
    """

    def __init__(self, stream: Stream, conn: WebSocketConnection, leftover: list[bytes]) -> None:
        self._stream = stream
        self._conn = conn
        self._pending = leftover
        self._started = False
        self._closing = False
        self._reported = False
        self._on_message: MessageCallback = _ignore_message
        self._on_close: CloseCallback = _ignore_close
        stream.receiver = self._receive
        stream.on_lost = self._lost

    def start(
        self,
        on_message: MessageCallback,
        on_close: CloseCallback,
        *,
        on_pause: Callable[[], None] | None = None,
        on_resume: Callable[[], None] | None = None,
    ) -> None:
        """Begin delivering messages and, once, the end of the connection.

        Args:
            on_message: called with each message (``str`` or ``bytes``).
            on_close: called once with ``(code, reason, failed)``; ``failed`` is True unless
                a close frame was exchanged cleanly.
            on_pause: called when the write buffer is full.
            on_resume: called when it drained.
        """
        self._on_message, self._on_close = on_message, on_close
        self._stream.on_pause, self._stream.on_resume = on_pause, on_resume
        self._started = True
        pending, self._pending = self._pending, []
        for data in pending:
            self._receive(data)
        if self._stream.closed and not self._reported:
            self._lost(None)

    def _receive(self, data: bytes) -> None:
        if not self._started:
            self._pending.append(data)
            return
        conn = self._conn
        events = conn.receive_data(data)
        out = conn.data_to_send()
        if out:
            self._stream.write(out)
        for event in events:
            kind = type(event)
            if kind is TextMessage or kind is BinaryMessage:
                if not self._closing:
                    self._on_message(event.data)  # type: ignore[union-attr]
            elif kind is CloseReceived:
                close = cast(CloseReceived, event)
                self._stream.close()
                self._report(close.code, close.reason, False)
            elif kind is ConnectionFailed:
                failure = cast(ConnectionFailed, event)
                self._stream.close()
                self._report(failure.code, failure.reason, True)

    def _lost(self, exc: BaseException | None) -> None:
        if not self._started:
            return
        for event in self._conn.receive_eof():
            if isinstance(event, ConnectionFailed):
                self._report(event.code, event.reason, True)
        self._report(1006, "connection lost", True)

    def _report(self, code: int, reason: str, failed: bool) -> None:
        if not self._reported:
            self._reported = True
            self._on_close(code, reason, failed)

    @property
    def gone(self) -> asyncio.Future[None]:
        """Resolved once the TCP connection is gone."""
        return self._stream.gone

    @property
    def open(self) -> bool:
        """Whether frames can still be sent."""
        return self._conn.state is ConnectionState.OPEN and not self._stream.closed

    def send(self, frame: str | bytes) -> None:
        """Send one message (text for ``str``); ignored once the WebSocket is closing."""
        conn = self._conn
        if conn.state is not _OPEN or self._stream.closed:  # `open`, inline: per message
            return
        data = conn.send_text(frame) if isinstance(frame, str) else conn.send_binary(frame)
        self._stream.write_soon(data)

    def close(self, code: int = 1000) -> None:
        """Start the closing handshake; the TCP connection is dropped after a short grace."""
        if self._closing:
            return
        self._closing = True
        if self.open:
            self._stream.write(self._conn.send_close(code))
            asyncio.get_running_loop().call_later(CLOSE_GRACE, self._stream.abort)
        else:
            self._stream.close()

    def abort(self) -> None:
        """Drop the TCP connection at once."""
        self._closing = True
        self._stream.abort()


class _MaskingKeys:
    """Masking keys from the operating system's random source, read 4 KiB at a time.

    As npm ws does (``randomFillSync`` into a pool): one ``os.urandom`` call per 1024 frames
    instead of one per frame; the keys are as unpredictable as the source (RFC 6455 10.3).
    """

    __slots__ = ("_offset", "_pool")

    def __init__(self) -> None:
        self._pool = b""
        self._offset = 0
        os.register_at_fork(after_in_child=self._forget)  # a child draws keys of its own

    def _forget(self) -> None:
        self._pool = b""
        self._offset = 0

    def __call__(self, size: int) -> bytes:
        """``size`` random bytes."""
        offset = self._offset
        end = offset + size
        if end > len(self._pool):
            self._pool = os.urandom(max(_POOL_SIZE, size))
            offset, end = 0, size
        self._offset = end
        return self._pool[offset:end]


_POOL_SIZE = 4096
#: The client's masking keys (one pool per process: keys are never reused).
masking_keys = _MaskingKeys()


def _ignore_message(data: str | bytes) -> None:
    del data


def _ignore_close(code: int, reason: str, failed: bool) -> None:
    del code, reason, failed


async def open_websocket(
    endpoint: Endpoint,
    query: Query,
    *,
    timeout: float,
    cookies: CookieJar | None,
    max_message_size: int,
    max_fragments: int,
    deflate: DeflateOptions | None = None,
) -> ClientWebSocket:
    """Connect and perform the opening handshake; `ClientWebSocket.start` it next.

    Raises:
        OSError: the connection failed or timed out.
        HandshakeError: the server did not answer 101 correctly (redirects included).
        ProtocolError: the answer broke HTTP.
    """
    stream = await open_stream(
        endpoint.host, endpoint.port, timeout=timeout, tls=endpoint.ssl, proxy=endpoint.proxy
    )
    headers: list[tuple[str | bytes, str | bytes]] = []
    cookie = None if cookies is None else cookies.header()
    if cookie:
        headers.append(("Cookie", cookie))
    headers.extend(endpoint.headers)
    handshake = ClientHandshake(
        endpoint.host_header, endpoint.target(query), deflate=deflate, extra_headers=headers
    )
    try:
        async with asyncio.timeout(timeout):
            head, rest = await _upgrade(stream, handshake.request)
    except TimeoutError:
        stream.abort()
        raise TimeoutError(f"the WebSocket handshake timed out after {timeout:g} s") from None
    except BaseException:
        stream.abort()
        raise
    if cookies is not None:
        cookies.store(head.headers)
    try:
        if head.status != 101:
            raise http_failure(head.status, head.headers, b"".join(rest))
        agreed = handshake.validate_response(head.status, head.headers)
    except BaseException:
        stream.abort()
        raise
    conn = WebSocketConnection(
        Role.CLIENT,
        max_message_size=max_message_size,
        max_fragments=max_fragments,
        deflate=agreed.deflate,
        random_bytes=masking_keys,
    )
    return ClientWebSocket(stream, conn, rest)


async def _upgrade(stream: Stream, request: bytes) -> tuple[Response, list[bytes]]:
    """Write the upgrade request; return the response head and what followed it.

    For a 101 the bytes after the head belong to the WebSocket: the returned list keeps
    growing with whatever arrives until a `ClientWebSocket` takes the stream over. For any
    other status they are the (error) body.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[tuple[Response, list[bytes]]] = loop.create_future()
    parser = ResponseParser(max_body_size=_MAX_ERROR_BODY)
    head: list[Response] = []
    chunks: list[bytes] = []

    def receive(data: bytes) -> None:
        if done.done():
            chunks.append(data)
            return
        for event in parser.receive_data(data):
            if isinstance(event, Response):
                if event.status >= 200 or event.status == 101:
                    head[:] = [event]
            elif isinstance(event, SwitchedProtocols) and head:
                if event.data:
                    chunks.append(event.data)
                done.set_result((head[0], chunks))
                return
            elif isinstance(event, Body):
                chunks.append(event.data)
            elif isinstance(event, EndOfMessage) and head and head[0].status != 101:
                done.set_result((head[0], chunks))
                return
            elif isinstance(event, HttpError):
                done.set_exception(InvalidPacket(f"malformed upgrade response: {event.message}"))
                return

    def lost(exc: BaseException | None) -> None:
        if done.done():
            return
        if head and head[0].status != 101:
            done.set_result((head[0], chunks))
            return
        error = ConnectionResetError("the server closed the connection during the handshake")
        error.__cause__ = exc
        done.set_exception(error)

    stream.receiver, stream.on_lost = receive, lost
    stream.write(request)
    return await done
