"""The client's network I/O: TCP/TLS streams and keep-alive HTTP/1.1 requests.

Everything here drives siox's sans-I/O codecs (`siox.http.http11.ResponseParser`,
`siox.http.handshake.ClientHandshake`, `siox.http.websocket.WebSocketConnection`; the
WebSocket half lives in `siox.client.websocket`) from plain `asyncio.Protocol` callbacks, so
it runs on the default loop and on uvloop alike, with no third-party HTTP client. Rules:

* Every network wait is bounded: connecting (TCP and TLS) and the WebSocket upgrade by
  ``timeout``; a long-polling GET has no timer of its own, the Engine.IO heartbeat bounds it.
* Redirects are never followed (hostile-inputs K04): a 3xx is refused like any other
  unexpected status, with the ``Location`` named in the error.
* Sizes are enforced on bytes received: ``max_body_size`` per HTTP response,
  ``max_message_size`` and ``max_fragments`` per WebSocket message (close 1009).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from ..engineio.outputs import Query
from ..errors import HandshakeError, InvalidPacket, PayloadTooLarge, ProtocolError
from ..http.http11 import (
    Body,
    EndOfMessage,
    HttpError,
    HttpEvent,
    ParserState,
    Response,
    ResponseParser,
)
from ..http.http11_events import RawHeaders, header_value
from ..http.messages import write_request
from .endpoint import CookieJar, Endpoint
from .stream import Stream, open_stream

__all__ = ["HttpClient", "HttpResult", "http_failure"]

#: How long a closing WebSocket waits for the server's close frame before dropping TCP.
CLOSE_GRACE = 1.0
_MAX_ERROR_BODY = 65_536


def http_failure(status: int, headers: RawHeaders, body: bytes) -> HandshakeError:
    """The error for a response that is not the one expected (a redirect included)."""
    if 300 <= status < 400:
        location = header_value(headers, b"location")
        return HandshakeError(
            f"the server redirected ({status}) to {location!r}; siox does not follow redirects",
            http_status=status,
        )
    detail = body[:200].decode("utf-8", "replace")
    code: int | None = None
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        detail = document["message"]
        code = document.get("code") if isinstance(document.get("code"), int) else None
    return HandshakeError(
        f"the server answered {status}: {detail}".rstrip(": "), http_status=status, eio_error=code
    )


@dataclass(frozen=True, slots=True)
class HttpResult:
    """A complete HTTP response.

    Attributes:
        status: the status code.
        headers: ``(name, value)`` pairs, names lowercased.
        body: the body.
        keep_alive: whether the connection may carry another request.
    """

    status: int
    headers: RawHeaders
    body: bytes
    keep_alive: bool

    def header(self, name: bytes) -> str | None:
        """Every value of one header (lowercased name) joined with commas, or None."""
        return header_value(self.headers, name)


class _HttpConnection:
    """One keep-alive connection carrying one request at a time."""

    def __init__(self, stream: Stream, max_body_size: int) -> None:
        self.stream = stream
        self.parser = ResponseParser(max_body_size=max_body_size)
        self.waiter: asyncio.Future[HttpResult] | None = None
        self.head: Response | None = None
        self.body: list[bytes] = []
        self.received = False
        stream.receiver = self._receive
        stream.on_lost = self._lost

    @property
    def usable(self) -> bool:
        return (
            not self.stream.closed and self.waiter is None and self.parser.state is ParserState.IDLE
        )

    async def request(self, data: bytes) -> HttpResult:
        self.waiter = asyncio.get_running_loop().create_future()
        self.head, self.body, self.received = None, [], False
        self.stream.write(data)
        try:
            return await self.waiter
        finally:
            self.waiter = None

    def _receive(self, data: bytes) -> None:
        self.received = True
        self._handle(self.parser.receive_data(data))

    def _handle(self, events: list[HttpEvent]) -> None:
        for event in events:
            waiter = self.waiter
            if waiter is None or waiter.done():
                self.stream.close()  # bytes nobody asked for
                return
            if isinstance(event, Response):
                self.head = None if event.status < 200 else event  # skip 1xx heads
            elif isinstance(event, Body):
                self.body.append(event.data)
            elif isinstance(event, EndOfMessage):
                head = self.head
                if head is not None:
                    body = b"".join(self.body)
                    waiter.set_result(HttpResult(head.status, head.headers, body, head.keep_alive))
            else:
                error: ProtocolError
                if isinstance(event, HttpError) and event.status == 413:
                    error = PayloadTooLarge(f"HTTP response too large: {event.message}")
                elif isinstance(event, HttpError):
                    error = InvalidPacket(f"malformed HTTP response: {event.message}")
                else:
                    error = InvalidPacket("the server switched protocols on a polling request")
                waiter.set_exception(error)
                self.stream.close()
                return

    def _lost(self, exc: BaseException | None) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        self._handle(self.parser.receive_eof())
        if not waiter.done():
            error = ConnectionResetError("the server closed the connection before answering")
            error.__cause__ = exc
            waiter.set_exception(error)


class HttpClient:
    """HTTP/1.1 requests to one endpoint over a small set of keep-alive connections.

    A connection carries one request at a time, so a long-polling GET and a POST in flight
    use two connections, as browsers do. A request that fails on a reused idle connection
    before any byte of the answer arrived (the server closed it meanwhile) is retried once on
    a new connection.

    Args:
        endpoint: the server.
        connect_timeout: seconds to connect (TCP and TLS).
        max_body_size: the largest response body accepted, bytes.
        cookies: the jar to read and fill, or None not to keep cookies.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        connect_timeout: float,
        max_body_size: int,
        cookies: CookieJar | None,
    ) -> None:
        self.endpoint = endpoint
        self.connect_timeout = connect_timeout
        self.max_body_size = max_body_size
        self.cookies = cookies
        self._idle: list[_HttpConnection] = []
        self._all: set[_HttpConnection] = set()
        self._closed = False

    def _headers(self, content_type: str | None) -> list[tuple[str | bytes, str | bytes]]:
        headers: list[tuple[str | bytes, str | bytes]] = [
            ("Host", self.endpoint.host_header),
            ("Accept", "*/*"),
        ]
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        cookie = None if self.cookies is None else self.cookies.header()
        if cookie:
            headers.append(("Cookie", cookie))
        headers.extend(self.endpoint.headers)
        return headers

    async def request(
        self,
        method: str,
        query: Query,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> HttpResult:
        """Send one request to the Engine.IO path with this query; return the answer.

        Raises:
            OSError: the connection failed (``ConnectionError``, ``TimeoutError``, TLS errors).
            ProtocolError: the answer broke HTTP or the size limit.
            RuntimeError: the client was closed.
        """
        data = write_request(method, self.endpoint.target(query), self._headers(content_type), body)
        for attempt in (1, 2):
            if self._closed:
                raise RuntimeError("the HTTP client is closed")
            conn = self._take_idle()
            reused = conn is not None
            if conn is None:
                conn = await self._connect()
            try:
                result = await conn.request(data)
            except ConnectionError:
                self._discard(conn)
                if reused and not conn.received and attempt == 1:
                    continue
                raise
            except BaseException:
                self._discard(conn)
                raise
            if self.cookies is not None:
                self.cookies.store(result.headers)
            if result.keep_alive and conn.usable and not self._closed:
                self._idle.append(conn)
            else:
                self._discard(conn)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _take_idle(self) -> _HttpConnection | None:
        while self._idle:
            conn = self._idle.pop()
            if conn.usable:
                return conn
            self._discard(conn)
        return None

    async def _connect(self) -> _HttpConnection:
        endpoint = self.endpoint
        stream = await open_stream(
            endpoint.host,
            endpoint.port,
            timeout=self.connect_timeout,
            tls=endpoint.ssl,
            proxy=endpoint.proxy,
        )
        conn = _HttpConnection(stream, self.max_body_size)
        if self._closed:
            stream.close()
            raise RuntimeError("the HTTP client is closed")
        self._all.add(conn)
        return conn

    def _discard(self, conn: _HttpConnection) -> None:
        self._all.discard(conn)
        conn.stream.close()

    def close(self) -> list[asyncio.Future[None]]:
        """Close every connection; requests in flight fail with ``ConnectionError``.

        Returns:
            Futures resolved when each connection is actually gone.
        """
        self._closed = True
        self._idle.clear()
        gone = []
        for conn in list(self._all):
            self._discard(conn)
            gone.append(conn.stream.gone)
        return gone
