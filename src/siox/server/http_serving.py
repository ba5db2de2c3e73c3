"""The HTTP side of one native connection: request bodies, engine requests, and what is cached.

`siox.server.native.HttpProtocol` parses requests (`siox.http.http11`) and serves them in
order; this module holds the parts of that work that are not about the connection's state:

* `RequestBody`: the body of the request being served, pulled by the engine chunk by chunk;
* `engine_request`: the `HttpRequest` the engine gets for a parsed request head;
* `PollingRoute`: what a connection remembers of its last validated long-polling request
  (the fast path of the polling requests that follow it);
* `ResponseHeads`: the serialised head of the last response, reused when the next response
  has the same status and headers.

Long-polling clients send the same request on a connection again and again: the same target
(``/socket.io/?EIO=4&transport=polling&sid=...``) and the same headers, only the body (and its
``Content-Length``) changes. Parsing the query, decoding the headers, looking the session up
and validating the request (transport, sid, EIO, origin, CORS) then gives the same verdict
every time, and so does serialising the same response headers; once the request has been read
whole, even its parsing gives the same result for the same bytes (`PollingRoute.learn`,
`PollingRoute.body_of`). The caches compare the bytes received, or the headers about to be
sent, with the ones their entry was made from, and give way to the general path at the first
difference; what can change between two identical
requests (the session closed, or moved to WebSocket) is checked on every request.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from .. import fastpaths
from ..http.http11 import EndOfMessage, Request
from ..http.messages import write_response, write_response_head
from ..http.query import split_target
from .engine_server import EngineServer
from .engine_socket import EngineSocket
from .headers import decode_headers
from .http_types import HttpRequest, HttpResponse
from .static import StaticFiles

__all__ = [
    "PollingRoute",
    "RequestBody",
    "ResponseHeads",
    "answer",
    "engine_request",
    "header_dict",
]

_CONTENT_LENGTH = b"content-length"


def header_dict(request: Request) -> dict[str, str]:
    """A request's headers as the engine takes them: names lowercased, repeats joined."""
    return decode_headers(request.headers)


async def _no_body() -> bytes | None:
    return None


class RequestBody:
    """The body of the request being served, pulled by the engine chunk by chunk."""

    __slots__ = ("chunks", "done", "waiter")

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.done = False
        self.waiter: asyncio.Future[None] | None = None

    def push(self, data: bytes | None) -> None:
        """Add a chunk; None: the body is complete."""
        if data is None:
            self.done = True
        else:
            self.chunks.append(data)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def receive(self) -> bytes | None:
        """The next chunk, or None at the end."""
        while not self.chunks:
            if self.done:
                return None
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return self.chunks.popleft()

    def whole(self) -> bytes:
        """The complete body (once ``done``)."""
        chunks = self.chunks
        if len(chunks) == 1:
            return chunks[0]
        return b"".join(chunks)


def engine_request(
    head: Request, address: str, secure: bool, body: RequestBody | None
) -> HttpRequest:
    """The engine's `HttpRequest` for a parsed request head."""
    path, query = split_target(head.target)  # (what ``head.path`` and ``head.query`` give)
    return HttpRequest(
        head.method,
        path,
        query,
        header_dict(head),
        address,
        secure,
        body.receive if body is not None else _no_body,
    )


async def answer(
    engine: EngineServer, static: StaticFiles | None, request: HttpRequest
) -> HttpResponse:
    """The answer to a request served from a task.

    The engine's path, the client bundle, the engine's other routes, static files, or 404.
    """
    if engine.handles(request.path):
        return await engine.handle_http(request)
    bundle = engine.client_bundle
    if bundle is not None and (found := bundle.lookup(request)) is not None:
        return found
    route = engine.routes.get(request.path)
    if route is not None:
        return route(request)
    if static is not None and request.method in ("GET", "HEAD"):
        file = static.lookup(request.path)
        if file is not None:
            return file
    return HttpResponse(404, [("Content-Type", "text/plain")], b"Not Found")


class PollingRoute:
    """A connection's last validated long-polling request of an existing session.

    A request with the same method, target and headers (``Content-Length`` aside: the body
    differs) is for the same session and passes the same validation; the engine serves it
    with the `HttpRequest` made for the first one (`siox.server.engine_server.EngineServer.
    serve_polling`). Its headers keep the first request's ``Content-Length``: the polling
    path reads only ``Content-Type``, ``Origin`` and ``Accept-Encoding`` of them, and counts
    the body's bytes itself.

    Args:
        head: the request head the route was validated for.
        request: the engine's request for it.
        socket: the session it is for.
    """

    __slots__ = (
        "_length_at",
        "_max_body",
        "_max_head",
        "_prefix",
        "_raw",
        "_suffix",
        "headers",
        "learnt",
        "method",
        "request",
        "socket",
        "target",
    )

    def __init__(self, head: Request, request: HttpRequest, socket: EngineSocket) -> None:
        self.method = head.method
        self.target = head.target
        self.headers = head.headers
        self.request = request
        self.socket = socket
        self._length_at = -1
        #: whether the request's bytes are known (`learn`), or cannot be
        self.learnt = not head.keep_alive or head.upgrade
        self._raw: bytes | None = None  # a request without Content-Length, byte for byte
        self._prefix: bytes | None = None  # with one: the bytes before its value...
        self._suffix = b""  # ...and after it, to the end of the head
        self._max_head = 0
        self._max_body: int | None = None
        for index, (name, _) in enumerate(head.headers):
            if name == _CONTENT_LENGTH:
                self._length_at = index
                break

    def matches(self, head: Request) -> bool:
        """Whether ``head`` is the same request (its ``Content-Length`` aside)."""
        if head.target != self.target or head.method != self.method:
            return False
        headers = head.headers
        if headers == self.headers:
            return True
        at = self._length_at
        mine = self.headers
        return (
            at >= 0
            and len(headers) == len(mine)
            and headers[at][0] == _CONTENT_LENGTH
            and headers[:at] == mine[:at]
            and headers[at + 1 :] == mine[at + 1 :]
        )

    def learn(self, data: bytes, events: list[Any], max_head: int, max_body: int | None) -> None:
        """Keep the bytes of a request of this route read whole in one piece (`body_of`).

        ``events`` are what the parser made of ``data``: exactly this route's request, its
        body in at most one piece, and its end; anything else is not learnt. Limits of the
        parser (``max_head``, ``max_body``) hold for the requests recognised later.
        """
        head_event = events[0] if events else None
        if (
            len(events) > 3
            or type(head_event) is not Request
            or not head_event.keep_alive
            or head_event.upgrade
            or not self.matches(head_event)
        ):
            return
        if type(events[-1]) is not EndOfMessage or type(data) is not bytes:
            return
        self.learnt = True  # one try: a route whose requests come in pieces stays parsed
        end = data.find(b"\r\n\r\n") + 4
        body = events[1].data if len(events) == 3 else b""
        if end < 4 or data[end:] != body:
            return
        head = data[:end].lower()
        if b"\r\ntransfer-encoding:" in head or head.count(b"\r\ncontent-length:") > 1:
            return
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            if not body:
                self._raw = data
        else:
            start = at + 17
            while data[start : start + 1] in (b" ", b"\t"):
                start += 1
            stop = data.find(b"\r\n", start)
            if not data[start:stop].isdigit():
                return
            self._prefix = data[:start]
            self._suffix = data[stop:end]
        self._max_head = max_head
        self._max_body = max_body

    def body_of(self, data: bytes) -> bytes | None:
        """The body, when ``data`` is this route's learnt request (its body aside), else None.

        The bytes of the head must be those learnt (only a ``Content-Length`` value may
        differ), and the body exactly as long as it says, within the parser's limits.
        """
        if data == self._raw:
            return b""
        prefix = self._prefix
        if prefix is None or not data.startswith(prefix):
            return None
        start = len(prefix)
        stop = data.find(b"\r\n", start, start + 10)
        if stop < 0:
            return None
        digits = data[start:stop]
        if not digits.isdigit() or not data.startswith(self._suffix, stop):
            return None
        end = stop + len(self._suffix)
        length = int(digits)
        if len(data) - end != length or end > self._max_head:
            return None
        if self._max_body is not None and length > self._max_body:
            return None
        return data[end:]


class ResponseHeads:
    """The serialised head of the last response of a connection, for the next alike.

    A response is written as ``head + Content-Length + body``; when the status and headers
    are those of the previous response, the head (everything up to the ``Content-Length``
    value) is the previous one's bytes.
    """

    __slots__ = ("head", "headers", "status")

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.head = b""

    def serialise(self, response: HttpResponse) -> bytes:
        """``response`` as bytes, with a ``Content-Length`` (unless its headers hold one).

        Raises:
            ValueError: an invalid header (as `siox.http.messages.write_response`).
        """
        if (
            not fastpaths.ENABLED
            or response.status != self.status
            or response.headers != self.headers
        ):
            if any(name.lower() == "content-length" for name, _ in response.headers):
                self.status = 0
                return write_response(response.status, response.headers, response.body)
            head = write_response_head(response.status, response.headers)
            self.head = head[:-2] + b"Content-Length: "
            self.status = response.status
            self.headers = list(response.headers)
        body = response.body
        return b"%b%d\r\n\r\n%b" % (self.head, len(body), body)
