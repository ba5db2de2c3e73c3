"""`EngineSocket`: drives one sans-I/O `EngineSession` for `EngineServer`.

After every input (a request, a WebSocket message, a timer, a write by the application) the
socket *pumps* (`siox.core.pump.Pump`, the client's pump too): it performs the session's
outputs (answer the pending GET, send or close the WebSocket), reports its events to the
application, and re-arms its single timer at the session's next deadline. Pumping is not
re-entrant: a write made while events are being reported is picked up by the loop already
running.

For a Socket.IO application the session is a `siox.core.server.ServerConnection`: once the
application asks for its events (`EngineSocket.deliver_socketio`), a WebSocket message is one
call into it (``receive_ws_message``), and the Socket.IO events it hands back go to the
application's receiver without a pump.

(Over the 400-line soft cap: the pump, the long-polling GET/POST forms and the WebSocket handle all
drive the same session state.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .. import fastpaths
from ..core.pump import Pump
from ..core.server import ServerConnection, ServerEvent
from ..engineio.events import Closed, CloseReason, MessageReceived, Opened, Upgraded
from ..engineio.handshake import Transport
from ..engineio.outputs import PollingResponse, WebSocketClose, WebSocketSend
from ..engineio.session import EngineSession
from .engine_api import RequestInfo
from .guard import refused
from .http_types import HttpRequest, HttpResponse, WebSocketChannel
from .jsonp import JSONP_CONTENT_TYPE, jsonp_form_payload, jsonp_script
from .outgoing import Outgoing

if TYPE_CHECKING:
    from .engine_server import EngineServer

__all__ = ["EngineSocket", "WebSocketHandle"]

_REASONS = {reason.value: reason for reason in CloseReason}


class EngineSocket:
    """One Engine.IO session on the server: the `EngineConnection` the application sees."""

    __slots__ = (
        "_app",
        "_app_reason",
        "_channel",
        "_clock",
        "_closed",
        "_drops_logged",
        "_get_callback",
        "_handshake",
        "_headers",
        "_loop",
        "_pump",
        "_ready",
        "_receive_ws",
        "_received",
        "_request",
        "close_description",
        "core",
        "jsonp_index",
        "query",
        "server",
        "sid",
    )

    def __init__(
        self,
        server: EngineServer,
        core: EngineSession,
        request: HttpRequest,
        query: dict[str, str],
        issued: float,
        jsonp_index: int | None = None,
    ) -> None:
        self.server = server
        self._app = server.app
        self.core = core
        self.sid = core.sid
        self.query = query
        #: The JSONP callback index of a v3 session opened with ``j`` (siox.server.jsonp).
        self.jsonp_index = jsonp_index
        # `request` (a `RequestInfo`) is made when it is first read; most connections never
        # read it. Until then its parts wait here: the headers (a dict of strings, which the
        # garbage collector does not track) and a tuple of atomic values (which it stops
        # tracking at its first collection). Not the request: its ``receive`` may hold a
        # front end's objects.
        query_string = request.query_string
        url = request.path + ("?" + query_string if query_string else "")
        self._headers = request.headers
        self._handshake = (request.address, request.secure, url, issued)
        self._request: RequestInfo | None = None
        self._loop = loop = server.session_timers()
        # The loop's clock for the per-message path: the standard loop's ``time()`` is
        # ``time.monotonic()`` behind a Python call, so call that directly when it is the one
        # (a test's manual clock, or uvloop, is called as it is).
        standard = type(loop).time is asyncio.BaseEventLoop.time and "time" not in vars(loop)
        queue = server.timer_queue()
        self._clock: Callable[[], float] = time.monotonic if standard else queue.clock_time
        self._pump = Pump(core, self._perform, self._report_all, queue)
        # A Socket.IO connection's WebSocket path (`deliver_socketio`): one call per message.
        # (The core itself, not its bound method: no object per connection for it.)
        self._receive_ws: ServerConnection | None = None
        self._received: Callable[[Sequence[ServerEvent]], None] | None = None
        self._get_callback: Callable[[PollingResponse], None] | None = None
        self._ready: PollingResponse | None = None
        self._channel: WebSocketChannel | None = None
        self._closed = False
        self._app_reason: str | None = None
        self._drops_logged = 0
        #: why the session closed, in more words than the reason (None: open, or no detail)
        self.close_description: str | None = None

    def __repr__(self) -> str:
        return f"<EngineSocket {self.sid} {self.transport} closed={self._closed}>"

    # -- EngineConnection -------------------------------------------------------------------------

    @property
    def request(self) -> RequestInfo:
        """What the handshake request told about the client."""
        info = self._request
        if info is None:
            address, secure, url, issued = self._handshake
            info = self._request = RequestInfo(
                headers=self._headers,
                query=self.query,
                address=address,
                secure=secure,
                url=url,
                issued=issued,
            )
        return info

    @property
    def eio(self) -> int:
        """The Engine.IO revision (4, or 3)."""
        return self.core.eio

    @property
    def transport(self) -> str:
        """The current transport name."""
        return str(self.core.transport)

    @property
    def closed(self) -> bool:
        """Whether the session ended."""
        return self._closed

    @property
    def polling_pending(self) -> bool:
        """Whether a long-polling GET is waiting for data."""
        return self._get_callback is not None

    def write(
        self, messages: list[str | bytes], *, volatile: bool = False, compress: bool = True
    ) -> None:
        """Queue messages; they leave as soon as the transport allows.

        The session decides (`EngineSession.send_direct`): on a steady WebSocket it hands each
        frame back to be written at once; otherwise it queues the message and this pumps.
        ``compress`` False keeps the messages uncompressed (gzip, permessage-deflate).
        """
        if self._closed:
            return
        channel = self._channel
        core = self.core
        if channel is None:  # no WebSocket: `send_direct` would only queue, as `send` does
            for message in messages:
                core.send(message, volatile=volatile, compress=compress)
            if messages:
                self._pump()
            if core.dropped != self._drops_logged:
                self._log_drops()
            return
        send_direct = core.send_direct
        queued = False
        for message in messages:
            frame = send_direct(message, volatile=volatile, compress=compress)
            if frame is None:
                queued = True
            elif channel is not None:
                if compress:
                    channel.send(frame)
                else:
                    channel.send(frame, False)
        if queued:
            self._pump()
        if self.core.dropped != self._drops_logged:
            self._log_drops()

    def _log_drops(self) -> None:
        """Messages were dropped (volatile, conflated): logged once per address per interval."""
        dropped, self._drops_logged = self.core.dropped - self._drops_logged, self.core.dropped
        refused(self.server.guard.gate, "slow consumer drops", self.request.address, dropped)

    def write_outgoing(self, outgoing: Outgoing) -> None:
        """Queue shared messages; on a steady WebSocket, write their cached frames directly."""
        if self._closed:
            return
        channel = self._channel
        core = self.core
        if (
            channel is not None
            and core.writable_directly
            and getattr(channel, "supports_framed", False)
            # The shared frames are uncompressed: a connection that deflates gets its own
            # frames for a broadcast that may be compressed.
            and not (outgoing.compress and getattr(channel, "deflates", False))
        ):
            channel.send_framed(outgoing.ws_bytes(core.eio, core.b64))
            return
        self.write(outgoing.messages, volatile=outgoing.volatile, compress=outgoing.compress)

    def deliver_socketio(self, receiver: Callable[[Sequence[ServerEvent]], None] | None) -> None:
        """Hand the Socket.IO events of WebSocket messages to ``receiver``.

        The session must be a `ServerConnection`: each WebSocket message is then one call into
        it (``receive_ws_message``), and the events it hands back go to ``receiver`` without a
        pump. The messages the pump reports (long-polling ones) are decoded and handed to
        ``receiver`` too, unless the fast paths are off (`siox.fastpaths`): then they reach
        the application's ``engine_message``, which does the same. None goes back to
        reporting every message through ``engine_message``.
        """
        if receiver is None:
            self._receive_ws = self._received = None
            return
        core = self.core
        if not isinstance(core, ServerConnection):
            raise TypeError("Socket.IO events come from a ServerConnection session")
        self._receive_ws = core
        self._received = receiver

    async def send(self, data: str | bytes) -> None:
        """Bare-server API: send one message."""
        self.write([data])

    def close(self, reason: str = "forced close") -> None:
        """Close the session gracefully; ``reason`` is what the application will be told."""
        if self._closed:
            return
        known = _REASONS.get(reason)
        if known is None:
            self._app_reason = reason
            known = CloseReason.FORCED_CLOSE
        self.core.close(known, now=self._loop.time())
        self._pump()

    def abort(self, reason: CloseReason) -> None:
        """End the session now, without waiting for a poll to carry the close."""
        if self._closed:
            return
        self.core.abort(reason, now=self._loop.time())
        self._pump()

    # -- the pump ---------------------------------------------------------------------------------

    def _report_all(self, events: list[Any]) -> None:
        app = self._app
        # A Socket.IO connection's messages (long-polling ones) go to its receiver as events.
        received = self._received if fastpaths.ENABLED else None
        for event in events:
            if type(event) is MessageReceived:  # the usual event, handled inline
                if not self._closed:
                    if received is not None:
                        received(self.core.decode(event.data))  # type: ignore[attr-defined]
                    else:
                        app.engine_message(self, event.data)
            else:
                self._report(event)

    def _perform(self, outputs: list[Any]) -> None:
        for output in outputs:
            kind = type(output)
            if kind is WebSocketSend:
                channel = self._channel
                if channel is not None:
                    if output.compress:
                        channel.send(output.frame)
                    else:
                        channel.send(output.frame, False)
            elif kind is PollingResponse:
                callback = self._get_callback
                if callback is not None:
                    self._get_callback = None
                    callback(output)
                else:
                    self._ready = output
            elif kind is WebSocketClose:
                channel, self._channel = self._channel, None
                if channel is not None:
                    channel.close(output.code)

    def _report(self, event: Any) -> None:
        kind = type(event)
        app = self._app
        if kind is MessageReceived:
            if not self._closed:
                app.engine_message(self, event.data)
        elif kind is Opened:
            app.engine_opened(self)
        elif kind is Upgraded:
            upgraded = getattr(app, "engine_upgraded", None)  # optional in `EngineApp`
            if upgraded is not None:
                upgraded(self)
        elif kind is Closed:
            self._closed = True
            self.close_description = event.description
            self._pump.cancel()
            self.server.forget(self)
            app.engine_closed(self, self._app_reason or str(event.reason))

    # -- long-polling -----------------------------------------------------------------------------

    # A GET is one synchronous call (`polling_get_now`: answered now, or by a callback when
    # data comes); `polling_get` is its awaiting wrapper, for front ends that serve requests
    # from tasks (ASGI, and the native one's streamed requests). A POST whose body is whole is
    # one call into the session (`polling_post_now`); `polling_post` feeds a body as it arrives.

    def polling_get_now(
        self, request: HttpRequest, server: EngineServer, respond: Callable[[HttpResponse], None]
    ) -> None:
        """Answer a long-polling GET through ``respond``, now or when data comes."""
        try:
            self.core.polling_get(self._loop.time())
        finally:
            self._pump()
        response, self._ready = self._ready, None

        def answer(output: PollingResponse) -> None:
            respond(self._polling_answer(request, server, output))

        if response is not None:
            answer(response)
        else:
            self._get_callback = answer

    def _polling_answer(
        self, request: HttpRequest, server: EngineServer, output: PollingResponse
    ) -> HttpResponse:
        body = output.body
        if self.jsonp_index is not None and isinstance(body, str):  # JSONP is b64: always text
            answer = server.polling_response(
                request, 200, jsonp_script(self.jsonp_index, body), JSONP_CONTENT_TYPE
            )
            answer.headers.append(("X-Content-Type-Options", "nosniff"))
            return answer
        return server.polling_response(request, 200, body, output.content_type, output.compress)

    def cancel_get(self) -> None:
        """The connection of a GET waiting for data is gone."""
        if self._get_callback is not None:
            self._get_callback = None
            self.core.transport_closed(Transport.POLLING, self._loop.time())
            self._pump()

    def polling_post_now(
        self, request: HttpRequest, server: EngineServer, body: bytes
    ) -> HttpResponse:
        """Answer a long-polling POST whose body is already whole.

        The session is corked while its messages are reported, so the answers sent back by
        the handlers that run at once leave together, in one answer to the pending GET.
        """
        core = self.core
        core.cork()
        try:
            try:
                answer = core.receive_polling_post(
                    body, request.headers.get("content-type"), self._loop.time()
                )
            finally:
                self._pump()
        finally:
            core.uncork()
            self._pump()
        return server.polling_response(request, 200, answer.body, answer.content_type)

    async def polling_get(self, request: HttpRequest, server: EngineServer) -> HttpResponse:
        """Answer a long-polling GET (the handshake's first one included), awaited."""
        answered: asyncio.Future[HttpResponse] = self._loop.create_future()

        def deliver(response: HttpResponse) -> None:
            if not answered.done():
                answered.set_result(response)

        self.polling_get_now(request, server, deliver)
        if answered.done():
            return answered.result()
        try:
            return await answered
        except asyncio.CancelledError:
            # The request went away while waiting: the session learns its GET is gone. (A
            # session has one GET at a time, so a waiting callback is this request's.)
            self.cancel_get()
            raise

    async def polling_post(self, request: HttpRequest, server: EngineServer) -> HttpResponse:
        """Answer a long-polling POST, feeding its body to the session as it arrives.

        A JSONP session's body is a form: it is counted against the size limit as it arrives
        and its ``d`` field is fed to the session once whole (`siox.server.jsonp`).
        """
        core = self.core
        loop = self._loop
        jsonp = self.jsonp_index is not None
        form = bytearray()
        try:
            core.begin_polling_post(
                None if jsonp else request.headers.get("content-type"), loop.time()
            )
            while True:
                chunk = await request.receive()
                if chunk is None:
                    break
                if not jsonp:
                    core.feed_polling_post(chunk, loop.time())
                    continue
                form += chunk
                if len(form) > core.max_payload:
                    core.feed_polling_post(bytes(form), loop.time())  # 413; the session closes
            if jsonp:
                payload = jsonp_form_payload(bytes(form))
                # No single "d" field: nothing to deliver ("0:" is the empty v3 payload).
                core.feed_polling_post(b"0:" if payload is None else payload.encode(), loop.time())
            answer = core.end_polling_post(loop.time())
        except asyncio.CancelledError:
            core.transport_closed(Transport.POLLING, loop.time())
            raise
        finally:
            self._pump()
        return server.polling_response(request, 200, answer.body, answer.content_type)

    # -- WebSocket --------------------------------------------------------------------------------

    def attach_transport_websocket(self, channel: WebSocketChannel) -> WebSocketHandle:
        """A WebSocket-only session: the channel is the transport from the start."""
        self._channel = channel
        self._pump()
        return WebSocketHandle(self, channel)

    def attach_probe_websocket(
        self, channel: WebSocketChannel, *, b64: bool = False
    ) -> WebSocketHandle:
        """A WebSocket probing an upgrade of this polling session.

        ``b64``: the WebSocket's own request asked for binary as base64 text (``b64`` query
        parameter); the polling requests' choice does not carry over, as in the reference.
        """
        try:
            self.core.attach_websocket(self._loop.time(), b64=b64)
        except Exception:
            self._pump()
            channel.close(1000)
            raise
        self._channel = channel
        self._pump()
        return WebSocketHandle(self, channel)


class WebSocketHandle:
    """What the front end calls for one attached WebSocket."""

    __slots__ = ("_channel", "_socket")

    def __init__(self, socket: EngineSocket | None, channel: WebSocketChannel) -> None:
        self._socket = socket if socket is not None else _NO_SESSION
        self._channel = channel

    @property
    def socket(self) -> EngineSocket | None:
        """The session (None for a WebSocket refused after its handshake)."""
        return self._socket if self._socket is not _NO_SESSION else None

    def receive(self, data: str | bytes) -> None:
        """One message arrived on the WebSocket."""
        socket = self._socket
        if socket._channel is not self._channel:
            return
        connection = socket._receive_ws
        if connection is not None:  # a Socket.IO connection: its events, or None to pump
            events = connection.receive_ws_message(data, socket._clock())
            if events is not None:  # the fast paths: nothing else changed, no pump
                if not socket._closed:
                    socket._received(events)  # type: ignore[misc]
                return
        else:
            message = socket.core.receive_ws_frame(data, socket._clock(), direct=True)
            if message is not None:  # the session's fast path: nothing else changed, no pump
                if not socket._closed:
                    socket._app.engine_message(socket, message)
                return
        socket._pump()

    def closed(self) -> None:
        """The WebSocket is gone (peer close, network error)."""
        socket = self._socket
        if socket._channel is not self._channel:
            return
        socket._channel = None
        socket.core.transport_closed(Transport.WEBSOCKET, socket._loop.time())
        socket._pump()

    def pause_writing(self) -> None:
        """The channel's write buffer is full."""
        if self._socket._channel is self._channel:
            self._socket.core.pause_writing()

    def resume_writing(self) -> None:
        """The channel's write buffer drained."""
        socket = self._socket
        if socket._channel is self._channel:
            socket.core.resume_writing(socket._loop.time())
            socket._pump()


class _NoSession:
    """Stands in for the session of a WebSocket that is being refused: attached to nothing."""

    _channel = None


_NO_SESSION: Any = _NoSession()
