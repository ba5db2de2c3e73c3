"""Sans-I/O HTTP/1.1 parsing on httptools (llhttp): requests (server), responses (client).

Feed bytes, get events::

    parser = RequestParser(max_body_size=2_000_000)
    for event in parser.receive_data(chunk, now=loop.time()):
        ...  # Request, Body..., EndOfMessage; or SwitchedProtocols(data); or HttpError(...)

Rules of this file:

* Nothing but events comes out of `receive_data`: every llhttp error (``Content-Length: abc``,
  ``-1``, both ``Content-Length`` and ``Transfer-Encoding``, bad chunk sizes...) becomes one
  `HttpError` (status 400), after which the parser ignores input.  The I/O layer answers with
  that status and closes the connection.
* Limits hold on bytes actually received.  The head (request line and headers) may take
  ``max_header_size`` bytes (431); only a head that starts right after a pipelined message in
  the same read is counted loosely, so at most twice that is ever buffered.  A body fails as
  soon as its declared ``Content-Length`` or the bytes received so far cross
  ``max_body_size``, before anything more is buffered (413).
* Pipelined messages come out in order from one `receive_data` call.  After an upgrade request
  (``Connection: upgrade``), `SwitchedProtocols` carries the bytes that followed the head; they
  belong to the new protocol, and this parser takes no more input.
* Timers are data: with ``request_timeout`` set and ``now`` passed, `next_deadline` says when an
  incomplete message times out and `handle_timer` turns that into `HttpError` 408 (slowloris).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import httptools

from ..options import DEFAULT_LIMITS
from .http11_events import (
    Body,
    EndOfMessage,
    HttpError,
    HttpEvent,
    RawHeaders,
    Request,
    Response,
    SwitchedProtocols,
    header_value,
)

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEADER_SIZE",
    "Body",
    "EndOfMessage",
    "HttpError",
    "HttpEvent",
    "ParserState",
    "Request",
    "RequestParser",
    "Response",
    "ResponseParser",
    "SwitchedProtocols",
]

DEFAULT_MAX_HEADER_SIZE = 16_384
DEFAULT_MAX_BODY_SIZE = DEFAULT_LIMITS.max_http_buffer_size


class ParserState(Enum):
    """Where a parser stands."""

    IDLE = "idle"  # between messages
    HEAD = "head"  # inside a request line or headers
    BODY = "body"  # the head is done, the body is arriving
    UPGRADED = "upgraded"  # switched protocols; takes no more input
    FAILED = "failed"  # an HttpError was emitted; takes no more input


# The states as module constants: an attribute of an Enum class is a slow lookup on Python 3.11
# (its metaclass defines ``__getattr__``), and the parser reads them on every message.
_IDLE = ParserState.IDLE
_HEAD = ParserState.HEAD
_BODY = ParserState.BODY
_UPGRADED = ParserState.UPGRADED
_FAILED = ParserState.FAILED
_DONE = (_UPGRADED, _FAILED)
_IN_HEAD = (_IDLE, _HEAD)

# `Request(...)` without the frozen dataclass's ``__init__`` (one ``object.__setattr__`` per
# field): its slots are filled through their descriptors, a third of the cost.
_new = object.__new__
_set_method, _set_target, _set_headers, _set_version, _set_keep_alive, _set_upgrade = (
    vars(Request)[field].__set__
    for field in ("method", "target", "headers", "http_version", "keep_alive", "upgrade")
)


class _Stop(Exception):
    """Raised inside a callback to stop llhttp after a limit was crossed."""


class _MessageParser:
    """What request and response parsing share; subclasses build the head event."""

    #: The httptools parser class a subclass drives.
    _llhttp: Any = None

    def __init__(
        self,
        *,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        request_timeout: float | None = None,
    ) -> None:
        self.max_header_size = max_header_size
        self.max_body_size = max_body_size
        self.request_timeout = request_timeout
        self.state = _IDLE
        self._events: list[HttpEvent] = []
        self._head_bytes = 0
        self._completed = False  # a message ended during the current feed_data call
        self._body_bytes = 0
        self._start: list[bytes] = []
        self._headers: list[tuple[bytes, bytes]] = []
        self._declared = False  # the message has a Content-Length header
        self._now: float | None = None
        self._deadline: float | None = None
        self._eof_body = False
        self._stopped = False
        self._parser = self._llhttp(self)

    # llhttp callbacks (called from inside feed_data)

    def on_message_begin(self) -> None:
        self.state = _HEAD
        self._head_bytes = self._body_bytes = 0
        self._start = []
        self._headers = []
        self._declared = False
        if self.request_timeout is not None and self._now is not None:
            self._deadline = self._now + self.request_timeout

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-length":
            self._declared = True
        self._headers.append((name, value.strip(b" \t")))

    def on_headers_complete(self) -> None:
        self.state = _BODY
        headers = tuple(self._headers)
        self._events.append(self._head_event(headers))
        limit = self.max_body_size
        if self._declared and limit is not None:  # a declared length is checked at once
            length = header_value(headers, b"content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                self._stop(413, "declared body exceeds the size limit")

    def on_body(self, data: bytes) -> None:
        self._body_bytes += len(data)
        if self.max_body_size is not None and self._body_bytes > self.max_body_size:
            self._stop(413, "body exceeds the size limit")
        self._events.append(Body(data))

    def on_message_complete(self) -> None:
        self.state = _IDLE
        self._deadline = None
        self._head_bytes = 0
        self._completed = True
        self._events.append(EndOfMessage())

    def _head_event(self, headers: RawHeaders) -> HttpEvent:
        raise NotImplementedError

    def _stop(self, status: int, message: str) -> None:
        self._stopped = True
        self._fail(status, message)
        raise _Stop(message)

    def _fail(self, status: int, message: str) -> None:
        self.state = _FAILED
        self._deadline = None
        self._events.append(HttpError(status, message))

    # the public driving API

    def receive_data(
        self, data: bytes | bytearray | memoryview, now: float | None = None
    ) -> list[HttpEvent]:
        """Feed bytes from the peer.

        Args:
            data: The next bytes read from the transport.
            now: The caller's clock in seconds; needed only for ``request_timeout``.

        Returns:
            The events these bytes completed, in order.

        Raises:
            RuntimeError: Called after `SwitchedProtocols` (misuse; nothing the peer sends raises).
        """
        if self.state is _UPGRADED:
            raise RuntimeError("the connection was upgraded: its bytes belong to the new protocol")
        if now is not None:
            self._now = now
        # Small bytes are sliced as they are (a slice of the whole is the object itself).
        view = (
            data
            if type(data) is bytes and len(data) <= self.max_header_size
            else memoryview(data).cast("B")
        )
        pos = 0
        while pos < len(view) and self.state not in _DONE:
            in_head = self.state in _IN_HEAD
            end = pos + (self.max_header_size - self._head_bytes) if in_head else len(view)
            piece = view[pos:end]
            self._completed = False
            try:
                self._parser.feed_data(piece)
            except httptools.HttpParserUpgrade as exc:
                offset = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
                self.state = _UPGRADED
                self._deadline = None
                self._events.append(SwitchedProtocols(bytes(piece[offset:]) + bytes(view[end:])))
                break
            except httptools.HttpParserError as exc:
                if not self._stopped:  # a limit stopped llhttp, and _stop already reported it
                    self._fail(400, f"malformed HTTP: {exc}")
                break
            pos += len(piece)
            if self.state is _HEAD:
                # The whole piece belongs to this head unless a pipelined message ended inside
                # it; then the new head's share is unknown and left uncounted (at most one
                # piece, so never more than twice the limit is buffered).
                if not self._completed:
                    self._head_bytes += len(piece)
                if self._head_bytes >= self.max_header_size:
                    self._fail(431, "request line and headers exceed the size limit")
        events, self._events = self._events, []
        return events

    def receive_eof(self) -> list[HttpEvent]:
        """Tell the parser the peer closed its side of the connection.

        Returns:
            `EndOfMessage` for a response body delimited by the close, `HttpError` 400 when a
            message was cut short, otherwise nothing.
        """
        if self.state is _BODY and self._eof_body:
            self.state = _IDLE
            return [EndOfMessage()]
        if self.state in (_HEAD, _BODY):
            self._fail(400, "connection closed in the middle of a message")
            events, self._events = self._events, []
            return events
        return []

    def next_deadline(self) -> float | None:
        """When the message being received times out, or None (no timer needed).

        Returns:
            A time on the caller's clock, or None.
        """
        return self._deadline

    def handle_timer(self, now: float) -> list[HttpEvent]:
        """Check the deadline against the caller's clock.

        Args:
            now: The caller's clock in seconds.

        Returns:
            ``[HttpError(408, ...)]`` when the message being received timed out, else nothing.
        """
        if self._deadline is None or now < self._deadline:
            return []
        self._fail(408, "request timed out")
        events, self._events = self._events, []
        return events


class RequestParser(_MessageParser):
    """Parses the requests of one server-side connection.

    Args:
        max_header_size: Most bytes for a request line plus headers (default 16,384); 431 past
            it.
        max_body_size: Most body bytes (default 1,000,000), or None for no limit; 413 past it.
        request_timeout: Seconds a request may take from its first byte to its end, or None
            (default) for no timer; 408 past it.
    """

    _llhttp = httptools.HttpRequestParser

    def on_url(self, piece: bytes) -> None:
        """Httptools callback: a piece of the request target."""
        self._start.append(piece)

    def _head_event(self, headers: RawHeaders) -> HttpEvent:
        parser = self._parser
        request = _new(Request)
        _set_method(request, parser.get_method().decode("ascii", "replace"))
        _set_target(request, b"".join(self._start).decode("latin-1"))
        _set_headers(request, headers)
        _set_version(request, parser.get_http_version())
        _set_keep_alive(request, parser.should_keep_alive())
        _set_upgrade(request, parser.should_upgrade())
        return request


class ResponseParser(_MessageParser):
    """Parses the responses on one client-side connection.

    A response to a ``HEAD`` request is not supported (its ``Content-Length`` would be read
    as a body); siox's client never sends one.

    Args:
        max_header_size: Most bytes for a status line plus headers (default 16,384).
        max_body_size: Most body bytes (default 1,000,000), or None for no limit.
        request_timeout: Seconds a response may take from its first byte, or None.
    """

    _llhttp = httptools.HttpResponseParser

    def on_status(self, piece: bytes) -> None:
        """Httptools callback: a piece of the reason phrase."""
        self._start.append(piece)

    def _head_event(self, headers: RawHeaders) -> HttpEvent:
        parser = self._parser
        status = parser.get_status_code()
        # No length and not chunked: the body runs to the end of the connection.
        self._eof_body = (
            status >= 200
            and status not in (204, 304)
            and header_value(headers, b"content-length") is None
            and header_value(headers, b"transfer-encoding") is None
        )
        return Response(
            status=status,
            reason=b"".join(self._start).decode("latin-1"),
            headers=headers,
            http_version=parser.get_http_version(),
            keep_alive=parser.should_keep_alive(),
            upgrade=parser.should_upgrade(),
        )
