"""`EngineServer`: the asyncio driver of Engine.IO sessions, for any HTTP front end.

Front ends (the native server, the ASGI app) turn their requests into `HttpRequest` and call
`EngineServer.handle_http`, or, for a WebSocket, `check_websocket` then `open_websocket`. Each
session is a sans-I/O `siox.engineio.session.EngineSession` wrapped in a `EngineSocket`, which
performs its outputs, arms one timer at its next deadline and reports its events to the
application (`siox.Server`, or the bare handlers registered with `EngineServer.on`).

(Over the 400-line soft cap: handshake validation, the HTTP answers (CORS, compression, JSONP) and
WebSocket admission of one server; each part is small and they share the session table.)
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Any, Literal, TypeVar, overload

from ..core.server import ServerConnection
from ..core.timers import TimerQueue
from ..engineio.events import CloseReason
from ..engineio.handshake import (
    EngineErrorCode,
    ExistingSession,
    NewSession,
    Transport,
    error_document,
    forbidden,
    handshake_error,
    new_sid,
    validate_request,
)
from ..engineio.query import parse_query
from ..engineio.session import EngineSession
from ..errors import HandshakeError, ProtocolError
from ..options import (
    DEFAULT_ENGINE_OPTIONS,
    DEFAULT_LIMITS,
    DEFAULT_SERVE_OPTIONS,
    Caps,
    EngineOptions,
    Limits,
    cors_origins,
)
from .client_bundle import ClientBundle
from .cors import CorsPolicy
from .eager import TASK_POINT
from .engine_api import Timers, WebSocketPlan
from .engine_socket import EngineSocket, WebSocketHandle
from .guard import EngineGuard
from .http_compression import compress_body
from .http_types import HttpRequest, HttpResponse, WebSocketChannel

__all__ = ["EngineServer", "WebSocketPlan"]

logger = logging.getLogger("siox")

F = TypeVar("F", bound=Callable[..., Any])

AllowRequest = Callable[[HttpRequest], "bool | str | Awaitable[bool | str | None] | None"]
#: ``generate_id(request)``: the id of a new session, sync or async.
GenerateId = Callable[[HttpRequest], "str | Awaitable[str]"]
#: The events a bare server's handlers may be registered for (`EngineServer.on`).
_EVENTS = ("connect", "message", "disconnect", "connection_error")
_TEXT = "text/plain; charset=UTF-8"
_ENGINE = DEFAULT_ENGINE_OPTIONS
_LIMITS = DEFAULT_LIMITS
_WEBSOCKET = Transport.WEBSOCKET  # (an Enum class attribute is a slow lookup on Python 3.11)


def _query(request: HttpRequest) -> dict[str, str]:
    return parse_query(request.query_string)


class EngineServer:
    """An Engine.IO server, usable alone (an echo server is a few lines) or under `siox.Server`.

    Every option is keyword-only; the defaults live in `siox.options` (`EngineOptions`,
    `Limits`) and the options are kept, as an `EngineOptions`, in ``options``.

    Args:
        app: what the sessions are reported to; None for a bare server whose handlers are
            registered with `on`.
        path: the endpoint path (``"/engine.io/"``; `siox.Server` uses ``"/socket.io/"``).
        cors_allowed_origins: ``None`` (same origin only, the default), ``"*"``, or the
            allowed origins; checked on WebSocket handshakes too (see `siox.server.cors`).
        ping_interval: seconds between pings (25.0).
        ping_timeout: seconds to wait for a pong (20.0).
        max_http_buffer_size: the largest polling body or WebSocket message accepted, bytes
            (1,000,000).
        transports: the allowed transports (``("polling", "websocket")``).
        allow_eio3: serve Engine.IO v3 (socket.io 2.x) clients too (False).
        upgrade_timeout: seconds a WebSocket upgrade probe may take (10.0).
        allow_upgrades: offer the polling -> WebSocket upgrade (True).
        allow_request: ``hook(request)`` run on each handshake, sync or async; a false value
            or a string (the message) refuses it with 403 (None: every handshake allowed).
        cookie: the name of an affinity cookie set on the handshake, or None (the default).
        max_buffer_size: outgoing bytes queued for a slow client before it is dropped
            (10,000,000).
        http_compression: gzip/deflate polling responses of 1 KiB or more (True).
        per_message_deflate: offer permessage-deflate on WebSockets (False).
        close_timeout: seconds a closing polling session waits for its last GET (30.0).
        max_fragments: the most frames one WebSocket message may have, on the native server
            (1024; an ASGI server applies its own limits).
        add_trailing_slash: serve ``path`` with a trailing slash added (True); False serves
            it exactly as written.
        generate_id: ``generate_id(request) -> str`` (sync or async) choosing each new
            session id (None: 20 random URL-safe characters).
        caps: the caps on clients (`siox.options.Caps`: per-address, rate, namespace, room and
            ack caps; see SECURITY.md).
        initial_packet: a message sent to every new session right after its open packet,
            before the ``connect`` handler runs (None: none).

    Raises:
        TypeError: an unknown option (a misspelled name).
    """

    def __init__(
        self,
        app: Any = None,
        *,
        path: str = _ENGINE.path,
        cors_allowed_origins: str | Iterable[str] | None = _ENGINE.cors_allowed_origins,
        ping_interval: float = _ENGINE.ping_interval,
        ping_timeout: float = _ENGINE.ping_timeout,
        max_http_buffer_size: int = _LIMITS.max_http_buffer_size,
        transports: Iterable[str] = _ENGINE.transports,
        allow_eio3: bool = _ENGINE.allow_eio3,
        upgrade_timeout: float = _ENGINE.upgrade_timeout,
        allow_upgrades: bool = _ENGINE.allow_upgrades,
        allow_request: AllowRequest | None = _ENGINE.allow_request,
        cookie: str | None = _ENGINE.cookie,
        max_buffer_size: int = _LIMITS.max_buffer_size,
        http_compression: bool = _ENGINE.http_compression,
        per_message_deflate: bool = _ENGINE.per_message_deflate,
        close_timeout: float = _ENGINE.close_timeout,
        max_fragments: int = _LIMITS.max_fragments,
        add_trailing_slash: bool = _ENGINE.add_trailing_slash,
        generate_id: GenerateId | None = _ENGINE.generate_id,
        initial_packet: str | bytes | None = _ENGINE.initial_packet,
        caps: Caps = _ENGINE.caps,
    ) -> None:
        limits = Limits(
            max_http_buffer_size=max_http_buffer_size,
            max_buffer_size=max_buffer_size,
            max_fragments=max_fragments,
        )
        options = EngineOptions(
            path=path,
            cors_allowed_origins=cors_origins(cors_allowed_origins),
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            upgrade_timeout=upgrade_timeout,
            close_timeout=close_timeout,
            allow_upgrades=allow_upgrades,
            transports=tuple(transports),
            allow_request=allow_request,
            cookie=cookie,
            http_compression=http_compression,
            per_message_deflate=per_message_deflate,
            allow_eio3=allow_eio3,
            limits=limits,
            add_trailing_slash=add_trailing_slash,
            generate_id=generate_id,
            initial_packet=initial_packet,
            caps=caps,
        )
        self._configure(app, options)

    @classmethod
    def from_options(cls, app: Any = None, options: EngineOptions | None = None) -> EngineServer:
        """An engine configured by an `EngineOptions` (how `siox.Server` builds its engine)."""
        engine = cls.__new__(cls)
        engine._configure(app, DEFAULT_ENGINE_OPTIONS if options is None else options)
        return engine

    def _configure(self, app: Any, options: EngineOptions) -> None:
        #: The options this engine was built with.
        self.options = options
        self.app = app if app is not None else self
        self.path = options.path
        if options.add_trailing_slash and not self.path.endswith("/"):
            self.path += "/"
        self.generate_id: GenerateId | None = options.generate_id
        self.cors = CorsPolicy(options.cors_allowed_origins)
        self.ping_interval = options.ping_interval
        self.ping_timeout = options.ping_timeout
        self.max_http_buffer_size = options.limits.max_http_buffer_size
        self.transports = tuple(Transport(t) for t in options.transports)
        self._transport_set = frozenset(self.transports)
        self.allow_eio3 = options.allow_eio3
        self.upgrade_timeout = options.upgrade_timeout
        self.allow_upgrades = options.allow_upgrades
        self.allow_request: AllowRequest | None = options.allow_request
        self.cookie = options.cookie
        self.max_buffer_size = options.limits.max_buffer_size
        self.max_fragments = options.limits.max_fragments
        self.http_compression = options.http_compression
        self.per_message_deflate = options.per_message_deflate
        self.close_timeout = options.close_timeout
        self.sessions: dict[str, EngineSocket] = {}
        #: other paths the native front end serves: path -> ``handler(request)`` returning
        #: an `HttpResponse` (e.g. a metrics endpoint)
        self.routes: dict[str, Callable[[HttpRequest], HttpResponse]] = {}
        #: the clock sessions run on: None for the running event loop (`siox.testing` sets a
        #: manual clock here)
        self.timers: Timers | None = None
        self._cores: dict[str, EngineSession] = {}
        self._timer_queue: TimerQueue | None = None
        self.accepting = True
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()  # coroutine handlers still running
        #: admission of new sessions under ``options.caps`` (siox.server.guard)
        self.guard = EngineGuard(options.caps)
        #: the client bundle served under the path (`siox.Server`'s ``serve_client``), or None
        self.client_bundle: ClientBundle | None = None

    def session_timers(self) -> Timers:
        """The clock and timers sessions use now."""
        return self.timers if self.timers is not None else asyncio.get_running_loop()

    def timer_queue(self) -> TimerQueue:
        """The sessions' timers on one timer of `session_timers` (`siox.core.timers`)."""
        clock = self.session_timers()
        queue = self._timer_queue
        if queue is None or queue.clock is not clock:
            queue = self._timer_queue = TimerQueue(clock)
        return queue

    # -- the bare-server application --------------------------------------------------------------

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, handler: F) -> F: ...
    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register a handler; usable as a decorator.

        Events of a bare server: ``connect`` ``(session)``, ``message`` ``(session, data)``
        and ``disconnect`` ``(session, reason)``. On any server (``sio.engine`` of a
        `siox.Server` too): ``connection_error`` ``(error, request)``, for every request
        refused with an error (``error`` is the `siox.ProtocolError`, with ``message``,
        ``http_status`` and ``eio_error``; ``request`` the `HttpRequest`).
        """
        if event not in _EVENTS:
            raise ValueError(f"EngineServer events are {', '.join(map(repr, _EVENTS))}")
        if handler is not None and not callable(handler):
            raise TypeError(f"a handler must be callable, not {type(handler).__name__}")

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            self._handlers[event] = func
            return func

        return register if handler is None else register(handler)

    def _call(self, event: str, *args: Any) -> None:
        handler = self._handlers.get(event)
        if handler is None:
            return
        try:
            result = handler(*args)
            if inspect.iscoroutine(result):
                task = asyncio.get_running_loop().create_task(result)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                task.add_done_callback(_log_task_error)
        except Exception:
            logger.exception("error in the Engine.IO %s handler", event)

    def engine_opened(self, conn: EngineSocket) -> None:
        """Bare server application: a session opened (its ``initial_packet`` goes first)."""
        if self.options.initial_packet is not None:
            conn.write([self.options.initial_packet])
        self._call("connect", conn)

    def engine_message(self, conn: EngineSocket, data: str | bytes) -> None:
        """Bare server application: a message arrived."""
        self._call("message", conn, data)

    def engine_closed(self, conn: EngineSocket, reason: str) -> None:
        """Bare server application: a session closed."""
        self._call("disconnect", conn, reason)

    # -- HTTP -------------------------------------------------------------------------------------

    def handles(self, path: str) -> bool:
        """Whether ``path`` is this server's endpoint."""
        return path == self.path or path + "/" == self.path

    def _error(self, error: ProtocolError, request: HttpRequest) -> HttpResponse:
        self._call("connection_error", error, request)
        observer = getattr(self.app, "observer", None)
        if observer is not None:
            observer.request_refused(error)
        document = error_document(error)
        # An origin that is not allowed learns nothing: no CORS headers for it.
        headers = self.cors.error_headers(request.headers, request.secure)
        status = error.http_status or 400
        if document is None:
            headers.append(("Content-Type", "text/plain; charset=UTF-8"))
            return HttpResponse(status, headers, error.message.encode())
        headers.append(("Content-Type", "application/json"))
        return HttpResponse(status, headers, document.encode())

    async def handle_http(self, request: HttpRequest) -> HttpResponse:
        """Answer one (non-WebSocket) HTTP request on the endpoint."""
        if request.method == "OPTIONS":
            if not self.cors.allows(request.headers, request.secure):
                return self._error(handshake_error(EngineErrorCode.BAD_REQUEST), request)
            return HttpResponse(204, self.cors.preflight_headers(request.headers))
        try:
            decision = self._validate(request, is_upgrade=False)
            if isinstance(decision, NewSession):
                return await self._handshake(request, decision)
            session = self.sessions[decision.sid]
            if request.method == "GET":
                return await session.polling_get(request, self)
            return await session.polling_post(request, self)
        except ProtocolError as error:
            return self._error(error, request)

    def handle_http_now(
        self,
        request: HttpRequest,
        body: bytes,
        respond: Callable[[HttpResponse], None],
        found: Callable[[EngineSocket], None] | None = None,
    ) -> EngineSocket | Literal[False] | None:
        """Serve a polling request of an existing session without a task, if it can be.

        For front ends that hold the whole request (the native one). Returns False when the
        request needs `handle_http` (handshakes with their ``allow_request`` hook, preflights,
        JSONP sessions); otherwise ``respond`` is called now or, for a GET that waits, later —
        and the session is returned so the front end can `EngineSocket.cancel_get` it if the
        connection goes first (None when the answer was given already). ``found(session)``:
        the request passed validation; the same request may go to `serve_polling` directly.
        """
        if request.method not in ("GET", "POST") or "sid=" not in request.query_string:
            return False
        try:
            decision = self._validate(request, is_upgrade=False)
            if isinstance(decision, NewSession):
                return False
            socket = self.sessions[decision.sid]
            if socket.jsonp_index is not None:
                return False
        except ProtocolError as error:
            respond(self._error(error, request))
            return None
        if found is not None:
            found(socket)
        return self.serve_polling(socket, request, body, respond)

    def serve_polling(
        self,
        socket: EngineSocket,
        request: HttpRequest,
        body: bytes,
        respond: Callable[[HttpResponse], None],
    ) -> EngineSocket | None:
        """Serve a validated long-polling GET or POST of ``socket`` (see `handle_http_now`).

        Returns the session when the GET waits for data (``respond`` is called later), else None.
        """
        try:
            if request.method == "POST":
                respond(socket.polling_post_now(request, self, body))
                return None
            socket.polling_get_now(request, self, respond)
            return socket if socket.polling_pending else None
        except ProtocolError as error:
            respond(self._error(error, request))
            return None

    def _validate(
        self, request: HttpRequest, *, is_upgrade: bool, query: dict[str, str] | None = None
    ) -> NewSession | ExistingSession[EngineSession]:
        if not self.cors.allows(request.headers, request.secure):
            raise handshake_error(EngineErrorCode.BAD_REQUEST)
        decision = validate_request(
            request.method,
            _query(request) if query is None else query,
            request.headers,
            is_websocket_upgrade=is_upgrade,
            sessions=self._cores,
            transports=self._transport_set,
            allow_eio3=self.allow_eio3,
        )
        if isinstance(decision, NewSession):
            if not self.accepting:
                raise HandshakeError("Server shutting down", http_status=503)
            self.guard.admit(self.guard.source(request))
        return decision

    async def _allowed(self, request: HttpRequest) -> None:
        if self.allow_request is None:
            return
        verdict = self.allow_request(request)
        if inspect.isawaitable(verdict):
            await TASK_POINT  # application code runs in a task (`siox.server.eager`)
            verdict = await verdict
        if isinstance(verdict, str):
            raise forbidden(verdict)
        if not verdict:
            raise forbidden()

    def _new_session(
        self,
        request: HttpRequest,
        decision: NewSession,
        sid: str | None = None,
        query: dict[str, str] | None = None,
    ) -> EngineSocket:
        clock = self.session_timers()
        sid = sid or new_sid()
        # JSONP (a polling handshake with ``j``) is for v3 sessions, and carries text only.
        jsonp_index = decision.jsonp_index if decision.eio == 3 else None
        # A Socket.IO application gets the whole connection in the core (`ServerConnection`);
        # a bare Engine.IO one, the session.
        parser_for = getattr(self.app, "parser_for", None)
        session: Callable[..., EngineSession] = (
            EngineSession
            if parser_for is None
            else partial(
                ServerConnection, parser=parser_for(ServerConnection.protocol_for(decision.eio))
            )
        )
        core = session(
            sid,
            transport=decision.transport,
            now=clock.time(),
            eio=decision.eio,
            b64=decision.b64 or jsonp_index is not None,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            upgrade_timeout=self.upgrade_timeout,
            close_timeout=self.close_timeout,
            max_payload=self.max_http_buffer_size,
            max_buffer_size=self.max_buffer_size,
            allow_upgrades=self.allow_upgrades and _WEBSOCKET in self.transports,
        )
        if query is None:
            query = _query(request)
        socket = EngineSocket(self, core, request, query, time.time(), jsonp_index)
        self.sessions[sid] = socket
        self._cores[sid] = core
        guard = self.guard
        if guard.counting:  # (no per-address count to keep without a cap on it)
            guard.opened(guard.source(request))
        return socket

    async def _new_sid(self, request: HttpRequest) -> str:
        if self.generate_id is None:
            return new_sid()
        sid: Any = self.generate_id(request)
        if inspect.isawaitable(sid):
            await TASK_POINT
            sid = await sid
        if not isinstance(sid, str) or not sid or sid in self.sessions:
            raise TypeError(f"generate_id gave {sid!r}: it must give a new, non-empty str")
        return sid

    async def _handshake(self, request: HttpRequest, decision: NewSession) -> HttpResponse:
        await self._allowed(request)
        socket = self._new_session(request, decision, await self._new_sid(request))
        response = await socket.polling_get(request, self)
        response.headers.extend(self._cookie_headers(socket.sid))
        return response

    def _cookie_headers(self, sid: str) -> list[tuple[str, str]]:
        """The affinity cookie for a new session (polling handshake or WebSocket 101)."""
        if not self.cookie:
            return []
        return [("Set-Cookie", f"{self.cookie}={sid}; Path=/; HttpOnly; SameSite=Lax")]

    def polling_response(
        self,
        request: HttpRequest,
        status: int,
        body: str | bytes,
        content_type: str,
        compress: bool = True,
    ) -> HttpResponse:
        """Build a polling response (CORS headers, optional compression).

        ``compress`` False (every packet of the body was sent with ``compress(False)``) leaves
        the body as it is, whatever ``http_compression`` says.
        """
        data = body.encode() if isinstance(body, str) else body
        headers = self.cors.response_headers(request.headers)
        headers.append(("Content-Type", content_type))
        if compress and self.http_compression:
            data, coding = compress_body(data, request.headers.get("accept-encoding", ""))
            if coding is not None:
                headers.append(("Content-Encoding", coding))
        return HttpResponse(status, headers, data)

    # -- WebSocket --------------------------------------------------------------------------------

    async def check_websocket(self, request: HttpRequest) -> WebSocketPlan | HttpResponse:
        """Decide on a WebSocket request before the front end accepts it."""
        try:
            query = _query(request)  # (parsed once: the new session keeps it)
            decision = self._validate(request, is_upgrade=True, query=query)
            if isinstance(decision, NewSession):
                await self._allowed(request)
                sid = await self._new_sid(request)
                return WebSocketPlan(request, decision, sid, self._cookie_headers(sid), query)
            return WebSocketPlan(request, decision)
        except ProtocolError as error:
            if error.eio_error == EngineErrorCode.BAD_REQUEST and self._live_sid(request):
                # A second WebSocket for a live session (already upgraded, or probing): the
                # reference accepts it and closes it at once; the session is left alone (U02).
                return WebSocketPlan(request, None)
            return self._error(error, request)

    def _live_sid(self, request: HttpRequest) -> bool:
        sid = _query(request).get("sid")
        core = self._cores.get(sid) if sid else None
        return (
            core is not None
            and not core.closed
            and self.cors.allows(request.headers, request.secure)
        )

    def open_websocket(self, plan: WebSocketPlan, channel: WebSocketChannel) -> WebSocketHandle:
        """The front end accepted the WebSocket: attach it; feed messages to the handle."""
        decision = plan.decision
        if decision is None:
            channel.close(1000)
            return WebSocketHandle(None, channel)
        if isinstance(decision, NewSession):
            socket = self._new_session(plan.request, decision, plan.sid, plan.query)
            return socket.attach_transport_websocket(channel)
        b64 = bool(_query(plan.request).get("b64"))
        return self.sessions[decision.sid].attach_probe_websocket(channel, b64=b64)

    # -- lifecycle --------------------------------------------------------------------------------

    def forget(self, socket: EngineSocket) -> None:
        """Drop a closed session from the table."""
        if self.sessions.get(socket.sid) is socket:
            del self.sessions[socket.sid]
            self._cores.pop(socket.sid, None)
            if self.guard.counting:
                self.guard.closed(self.guard.source(socket.request))

    def start_accepting(self) -> None:
        """Accept new sessions again, after a `shutdown` (front ends call it when they start)."""
        self.accepting = True

    async def shutdown(self, timeout: float = DEFAULT_SERVE_OPTIONS.shutdown_timeout) -> None:
        """Refuse new sessions, close every session ("server shutting down"), wait for them.

        A front end that serves the engine again calls `start_accepting` first.
        """
        self.accepting = False
        for socket in list(self.sessions.values()):
            socket.close(CloseReason.SERVER_SHUTTING_DOWN)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # A polling client that has no GET pending a moment after the close was asked for is
        # not polling any more: its close can never be delivered, so it is not waited for.
        idle_deadline = loop.time() + min(1.0, timeout)
        while self.sessions and loop.time() < deadline:
            if loop.time() >= idle_deadline:
                for socket in list(self.sessions.values()):
                    if socket.transport == "polling" and not socket.polling_pending:
                        socket.abort(CloseReason.SERVER_SHUTTING_DOWN)
                if not self.sessions:
                    break
            await asyncio.sleep(0.05)
        if self.sessions:
            logger.info("shutdown: aborting %d sessions that did not close", len(self.sessions))
        for socket in list(self.sessions.values()):
            socket.abort(CloseReason.SERVER_SHUTTING_DOWN)


def _log_task_error(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("error in an Engine.IO handler", exc_info=task.exception())
