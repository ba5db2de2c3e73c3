"""`EngineClient`: one Engine.IO client session over real connections (the asyncio driver).

It owns a sans-I/O `siox.engineio.client_session.ClientEngineSession` (a
`siox.core.client.ClientConnection` when given a Socket.IO parser) and follows its driver
contract: after every call it pumps (`siox.core.pump.Pump`, the server's pump too): it performs
the outputs (long-polling GETs and POSTs through `siox.client.transport.HttpClient`, WebSockets
through `siox.client.websocket`), reports the events to its owner, and keeps one loop timer
armed at ``next_deadline()``.

It adds what only the driver can know: *why* a session failed. ``error`` holds the first
cause (a refused connection, a TLS error, an HTTP status, a WebSocket limit) and the `Closed`
event handed up carries that detail as its description.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from ..core.client import ClientConnection, ClientEvent
from ..core.pump import Pump
from ..engineio.client_session import ClientEngineSession
from ..engineio.events import Closed, CloseReason, Event
from ..engineio.handshake import Transport
from ..engineio.machine import State
from ..engineio.outputs import (
    OpenWebSocket,
    PollRequest,
    PostRequest,
    Query,
    WebSocketClose,
    WebSocketSend,
)
from ..errors import InvalidPacket, PayloadTooLarge, ProtocolError
from ..http.deflate import DeflateOptions
from ..options import DEFAULT_CLIENT_OPTIONS
from ..socketio.parsers import ParserLike
from .endpoint import CookieJar, Endpoint
from .transport import HttpClient, http_failure
from .websocket import CLOSE_GRACE, ClientWebSocket, open_websocket

__all__ = ["EngineClient", "describe"]

logger = logging.getLogger("siox.client")

#: How long the goodbye POST (``1``) of a closing polling session may take.
_GOODBYE_TIMEOUT = 2.0
_WS_CLOSE_REASONS = {
    1002: (CloseReason.PARSE_ERROR, InvalidPacket),
    1007: (CloseReason.PARSE_ERROR, InvalidPacket),
    1009: (CloseReason.TRANSPORT_ERROR, PayloadTooLarge),
}


def describe(error: BaseException) -> str:
    """A one-line description of a failure, with its type for OS errors."""
    text = str(error) or type(error).__name__
    if isinstance(error, OSError) and not isinstance(error, TimeoutError):
        return f"{type(error).__name__}: {text}"
    return text


class EngineClient:
    """Drive one Engine.IO client session.

    Args:
        endpoint: the server.
        on_event: called with each session event (`Opened`, `MessageReceived`, `Upgraded`,
            `Closed`), in order, `Closed` last and exactly once.
        eio: Engine.IO revision, 4 or 3.
        transports: the allowed transports in order of preference; the first one opens the
            session, and a polling session upgrades when ``websocket`` is allowed too.
        upgrade: allow the polling -> WebSocket upgrade.
        timeout: seconds for the handshake and for each connection attempt.
        max_payload: the largest polling response or WebSocket message accepted, bytes.
        max_fragments: the most frames one WebSocket message may have.
        cookies: the cookie jar, or None.
        deflate: permessage-deflate preferences to offer, or None.
        parser: a Socket.IO parser: the session is then a `ClientConnection` speaking Socket.IO
            over ``eio`` (protocol 5 over v4, 4 over v3) and `MessageReceived` events are for
            its ``decode``.
        on_socketio: with a ``parser``, called with the Socket.IO events of a WebSocket
            message that the session's fast path decoded at once (in order with the events
            reported to ``on_event``: nothing else was pending).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        on_event: Callable[[Event], None],
        *,
        eio: int = 4,
        transports: Iterable[str] = DEFAULT_CLIENT_OPTIONS.transports,
        upgrade: bool = DEFAULT_CLIENT_OPTIONS.upgrade,
        timeout: float = DEFAULT_CLIENT_OPTIONS.timeout,
        max_payload: int = DEFAULT_CLIENT_OPTIONS.max_payload,
        max_fragments: int = DEFAULT_CLIENT_OPTIONS.max_fragments,
        cookies: CookieJar | None = None,
        deflate: DeflateOptions | None = None,
        parser: ParserLike | None = None,
        on_socketio: Callable[[Sequence[ClientEvent]], None] | None = None,
    ) -> None:
        allowed = [Transport(t) for t in transports]
        if not allowed:
            raise ValueError("at least one transport is needed")
        self._loop = asyncio.get_running_loop()
        self._endpoint = endpoint
        self._on_event = on_event
        #: Where the Socket.IO events of a message delivered by the fast path go (they come
        #: decoded, instead of as a `MessageReceived`); None: every message is reported.
        self.on_socketio = on_socketio if parser is not None else None
        self._timeout = timeout
        self._max_payload = max_payload
        self._max_fragments = max_fragments
        self._cookies = cookies
        self._deflate = deflate
        self._http = HttpClient(
            endpoint, connect_timeout=timeout, max_body_size=max_payload, cookies=cookies
        )
        self._ws: ClientWebSocket | None = None
        self._channels: set[ClientWebSocket] = set()  # every one opened, until it is gone
        self._ws_wanted = 0  # bumped by every OpenWebSocket; stale openings are closed
        self._tasks: set[asyncio.Task[None]] = set()
        self._posts: set[asyncio.Task[None]] = set()
        self._detail: str | None = None
        #: The first cause of failure, once known.
        self.error: BaseException | None = None
        #: Resolved once the session is closed and every connection released.
        self.finished: asyncio.Future[None] = self._loop.create_future()
        session = (
            ClientEngineSession if parser is None else partial(ClientConnection, parser=parser)
        )
        self.session: ClientEngineSession = session(
            now=self._loop.time(),
            transport=allowed[0],
            eio=eio,
            upgrade=upgrade and allowed[0] is Transport.POLLING and Transport.WEBSOCKET in allowed,
            open_timeout=timeout,
            max_payload=max_payload,
        )
        self._pump = Pump(self.session, self._perform_all, self._report_all, self._loop)
        self._pump()

    # -- what the owner calls ----------------------------------------------------------------

    @property
    def transport(self) -> str:
        """The current transport name (``polling`` or ``websocket``)."""
        return self.session.transport.value

    @property
    def closed(self) -> bool:
        """Whether the session is over."""
        return self.session.closed

    def send(self, messages: list[str | bytes], *, volatile: bool = False) -> None:
        """Queue messages for the server (dropped when the session cannot take them).

        Fast path (`siox.fastpaths`, in ``send_direct``): one message on a steady WebSocket with
        nothing queued is framed by the session and written at once, with nothing to pump.
        """
        session = self.session
        ws = self._ws
        if ws is not None and len(messages) == 1:
            frame = session.send_direct(messages[0], volatile=volatile)
            if frame is not None:
                ws.send(frame)
                return
        else:
            for message in messages:
                session.send(message, volatile=volatile)
        self._pump()

    def check_heartbeat(self) -> None:
        """Fire overdue timers now (a late loop must not hide a dead server from an emit)."""
        armed = self._pump.deadline
        if armed is not None and self._loop.time() < armed:
            return  # the armed time is never later than the session's next deadline
        deadline = self.session.next_deadline()
        if deadline is not None and deadline <= self._loop.time():
            self._pump.fire()

    def close(self) -> None:
        """Close gracefully: flush what is queued, then say goodbye. Idempotent."""
        self.session.close(now=self._loop.time())
        self._pump()

    def abort(self, reason: CloseReason, detail: str) -> None:
        """End the session at once with this reason (a parse error one layer up, say)."""
        if self._detail is None:
            self._detail = detail
        self.session.abort(reason, now=self._loop.time())
        self._pump()

    # -- the pump ------------------------------------------------------------------------------

    def _perform_all(self, outputs: list[Any]) -> None:
        for output in outputs:
            self._perform(output)

    def _report_all(self, events: list[Event]) -> None:
        for event in events:
            if type(event) is Closed:
                event = self._closed(event)
            self._on_event(event)

    def _perform(self, output: Any) -> None:
        kind = type(output)
        if kind is WebSocketSend:
            if self._ws is not None:
                self._ws.send(output.frame)
        elif kind is PollRequest:
            self._spawn(self._poll(output.query), self._tasks)
        elif kind is PostRequest:
            self._spawn(self._post(output), self._posts)
        elif kind is OpenWebSocket:
            self._ws_wanted += 1
            self._spawn(self._open_websocket(output.query, self._ws_wanted), self._tasks)
        elif kind is WebSocketClose:
            ws, self._ws = self._ws, None
            if ws is not None:
                ws.close(output.code)

    def _spawn(self, coro: Any, into: set[asyncio.Task[None]]) -> None:
        task: asyncio.Task[None] = self._loop.create_task(coro)
        into.add(task)
        task.add_done_callback(into.discard)

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        if self._detail is None:
            self._detail = describe(error)

    def _closed(self, event: Closed) -> Closed:
        self._pump.cancel()
        for task in self._tasks:
            task.cancel()
        self._spawn(self._release(), self._tasks)
        if self._detail is not None:
            return Closed(event.reason, self._detail)
        return event

    async def _release(self) -> None:
        """Let the goodbye POST go out, then close every connection and wait until gone."""
        if self._posts:
            await asyncio.wait(self._posts, timeout=_GOODBYE_TIMEOUT)
        gone = self._http.close()
        self._ws = None
        for ws in self._channels:
            ws.close()
            gone.append(ws.gone)
        if gone:
            await asyncio.wait(gone, timeout=CLOSE_GRACE + 0.5)
        for ws in self._channels:
            ws.abort()
        if not self.finished.done():
            self.finished.set_result(None)

    # -- long-polling --------------------------------------------------------------------------

    async def _poll(self, query: Query) -> None:
        session = self.session
        try:
            result = await self._http.request("GET", query)
        except (OSError, ProtocolError, RuntimeError) as exc:
            self._polling_failed(exc)
            return
        if session.closed:
            return
        if result.status != 200:
            self._polling_failed(http_failure(result.status, result.headers, result.body))
            return
        content_type = result.header(b"content-type")
        body: str | bytes = result.body
        if "octet-stream" not in (content_type or ""):
            try:
                body = result.body.decode("utf-8")
            except UnicodeDecodeError:
                self.abort(CloseReason.PARSE_ERROR, "polling response is not valid UTF-8")
                return
        session.receive_polling_response(body, content_type, self._loop.time())
        self._pump()

    async def _post(self, output: PostRequest) -> None:
        session = self.session
        body = output.body.encode("utf-8") if isinstance(output.body, str) else output.body
        try:
            result = await self._http.request(
                "POST", output.query, body=body, content_type=output.content_type
            )
        except (OSError, ProtocolError, RuntimeError) as exc:
            self._polling_failed(exc)
            return
        if session.closed:
            return
        if result.status != 200:
            self._polling_failed(http_failure(result.status, result.headers, result.body))
            return
        session.polling_post_done(self._loop.time())
        self._pump()

    def _polling_failed(self, error: BaseException) -> None:
        """A polling request failed (network, protocol, or a non-200 answer)."""
        if self.session.closed:
            return
        self._fail(error)
        self.session.transport_closed(Transport.POLLING, self._loop.time())
        self._pump()

    # -- WebSocket -----------------------------------------------------------------------------

    async def _open_websocket(self, query: Query, wanted: int) -> None:
        session = self.session
        probe = session.transport is Transport.POLLING
        try:
            ws = await open_websocket(
                self._endpoint,
                query,
                timeout=self._timeout,
                cookies=self._cookies,
                max_message_size=self._max_payload,
                max_fragments=self._max_fragments,
                deflate=self._deflate,
            )
        except (OSError, ProtocolError) as exc:
            if session.closed or wanted != self._ws_wanted:
                return
            if probe:
                logger.debug("WebSocket upgrade failed, staying on polling: %s", describe(exc))
            else:
                self._fail(exc)
            session.transport_closed(Transport.WEBSOCKET, self._loop.time())
            self._pump()
            return
        if session.closed or wanted != self._ws_wanted:
            ws.close()
            return
        self._ws = ws
        self._channels.add(ws)
        ws.gone.add_done_callback(lambda _: self._channels.discard(ws))
        session.attach_websocket(self._loop.time())
        self._pump()
        # Only now: what arrived with the 101 (the OPEN packet of a WebSocket-only session)
        # must reach a session that has the WebSocket attached.
        ws.start(
            partial(self._ws_message, ws),
            lambda code, reason, failed: self._ws_closed(ws, code, reason, failed),
            on_pause=session.pause_writing,
            on_resume=lambda: self._ws_resume(ws),
        )

    def _ws_message(self, ws: ClientWebSocket, frame: str | bytes) -> None:
        if ws is self._ws:
            session = self.session
            if type(session) is ClientConnection:
                events = session.receive_ws_message(frame, self._loop.time())
                if events is not None and self.on_socketio is not None:
                    self.on_socketio(events)  # the fast path's: nothing else to pump
                    return
            else:
                session.receive_ws_frame(frame, self._loop.time())
            self._pump()

    def _ws_resume(self, ws: ClientWebSocket) -> None:
        if ws is self._ws:
            self.session.resume_writing(self._loop.time())
            self._pump()

    def _ws_closed(self, ws: ClientWebSocket, code: int, reason: str, failed: bool) -> None:
        if ws is not self._ws:
            return
        self._ws = None
        session = self.session
        limit = _WS_CLOSE_REASONS.get(code) if failed else None
        if limit is not None and session.transport is Transport.WEBSOCKET:
            close_reason, error_type = limit
            self._fail(error_type(f"WebSocket closed with {code}: {reason}", ws_close_code=code))
            session.abort(close_reason, now=self._loop.time())
        else:
            if session.transport is Transport.WEBSOCKET and session.state is State.OPENING:
                self._fail(ConnectionResetError(f"WebSocket closed ({code}) during the handshake"))
            session.transport_closed(Transport.WEBSOCKET, self._loop.time())
        self._pump()
