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
every time, and so does serialising the same response headers. Both caches compare the bytes
received, or the headers about to be sent, with the ones their entry was made from, and give
way to the general path at the first difference; what can change between two identical
requests (the session closed, or moved to WebSocket) is checked on every request.
"""

from __future__ import annotations

import asyncio
from collections import deque

from .. import fastpaths
from ..http.http11 import Request
from ..http.messages import write_response, write_response_head
from .engine_socket import EngineSocket
from .http_types import HttpRequest, HttpResponse

__all__ = ["PollingRoute", "RequestBody", "ResponseHeads", "engine_request", "header_dict"]

_CONTENT_LENGTH = b"content-length"


def header_dict(request: Request) -> dict[str, str]:
    """A request's headers as the engine takes them: names lowercased, repeats joined."""
    headers: dict[str, str] = {}
    for name, value in request.headers:
        key = name.decode("latin-1")
        text = value.decode("latin-1")
        headers[key] = headers[key] + ", " + text if key in headers else text
    return headers


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
    return HttpRequest(
        head.method,
        head.path,
        head.query,
        header_dict(head),
        address,
        secure,
        body.receive if body is not None else _no_body,
    )


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

    __slots__ = ("_length_at", "headers", "method", "request", "socket", "target")

    def __init__(self, head: Request, request: HttpRequest, socket: EngineSocket) -> None:
        self.method = head.method
        self.target = head.target
        self.headers = head.headers
        self.request = request
        self.socket = socket
        self._length_at = -1
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
