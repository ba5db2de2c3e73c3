"""`ConnectionDriver`: the Socket.IO server side of one Engine.IO connection.

The connection's sans-I/O core (`siox.core.server.ServerConnection`: the Engine.IO session
with its `SocketConnection`) turns each message into Socket.IO events and decides what breaks
the protocol; the driver gets those events (`ConnectionDriver.handle`) and dispatches them:
namespace connections (middlewares, connect handler, CONNECT reply), events to handlers, acks
to the sockets waiting for them, disconnections, the end of a connection that broke the
protocol. Everything the driver needs of the server comes through the `Registry` it is
given; it holds no reference to `siox.Server` itself.

Application code runs inside one guard (`ConnectionDriver.dispatch`): the handler call, the
await, and the encoding of its ack. Whatever it raises goes to the error hook with the event,
namespace and socket id, and never reaches the transport.

(Over the 400-line soft cap: the connect, event and disconnect sequences of one connection share
its state and its one guard around application code.)
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from types import CoroutineType
from typing import Any, Protocol

from .. import fastpaths
from ..adapters.base import SessionState
from ..adapters.memory import local_membership
from ..core.events import ProtocolViolation
from ..core.server import ServerConnection, ServerEvent
from ..core.timers import TimerHandle, TimerQueue
from ..engineio.handshake import new_sid
from ..errors import ConnectionRefused
from ..options import Caps
from ..socketio.events import AckReceived, ConnectRequested, DisconnectRequested, EventReceived
from ..socketio.parsers import ParserLike
from .eager import TASK_POINT
from .engine_api import EngineConnection, Timers
from .events import NOT_FALSE, RECOVERABLE_REASONS
from .guard import RATE_LIMITED, EngineGuard, SocketGuard, refused
from .namespace import Handler, Namespace
from .observer import EventTracer, ServerObserver
from .outgoing import Outgoing
from .runner import ErrorContext, HandlerRunner, ack_args
from .socket import Handshake, Socket

__all__ = ["ConnectionDriver", "Registry"]

logger = logging.getLogger("siox")
_PARSER_KEYS: dict[tuple[int, int], tuple[int, int]] = {}


def new_socket_id() -> str:
    """A random, URL-safe socket id of 20 characters (as the reference's base64id)."""
    return new_sid()  # (the session ids' form: 120 bits from os.urandom)


class Registry(Protocol):
    """What a connection driver needs of the server holding it."""

    @property
    def connect_timeout(self) -> float:
        """Seconds a connection may stay without joining a namespace."""
        ...

    @property
    def ordered_handlers(self) -> bool:
        """Whether one client's coroutine handlers run one at a time, in order."""
        ...

    @property
    def recovery_skips_middlewares(self) -> bool:
        """Whether a restored session skips the ``use`` middlewares."""
        ...

    def session_timers(self) -> Timers:
        """The clock and timers connections run on."""
        ...

    def timer_queue(self) -> TimerQueue:
        """The connections' timers on one timer of `session_timers` (`siox.core.timers`)."""
        ...

    def find_namespace(self, name: str, auth: dict[str, Any]) -> Namespace | None:
        """The namespace a CONNECT for ``name`` joins, or None."""
        ...

    def parser_for(self, protocol: int) -> ParserLike:
        """The parser for sessions of Socket.IO ``protocol``."""
        ...

    def report_error(self, exc: BaseException, context: ErrorContext | None = None) -> None:
        """Report an exception raised by application code."""
        ...

    @property
    def error_reporter(self) -> Callable[[BaseException], None]:
        """`report_error`, bound once (shared by the connections' handler runners)."""
        ...

    @property
    def guard(self) -> EngineGuard:
        """The caps (`siox.options.Caps`) and their log gate."""
        ...

    @property
    def observer(self) -> ServerObserver | None:
        """What watches the server (`siox.server.observer`), or None."""
        ...

    @property
    def tracer(self) -> EventTracer | None:
        """What wraps namespace connects and events (`siox.server.observer.EventTracer`)."""
        ...


class ConnectionDriver:
    """The Socket.IO side of one Engine.IO connection."""

    __slots__ = (
        "_connect_timer",
        "conn",
        "core",
        "encode",
        "events_guard",
        "observer",
        "parser_key",
        "registry",
        "runner",
        "session",
        "sockets",
        "timers",
        "tracer",
    )

    def __init__(self, registry: Registry, conn: EngineConnection) -> None:
        self.registry = registry
        self.conn = conn
        #: what watches the server (None: nothing), as it was when the connection opened
        self.observer = registry.observer
        #: what wraps connects and events (None: nothing), as it was when the connection opened
        self.tracer = registry.tracer
        core = getattr(conn, "core", None)
        if not isinstance(core, ServerConnection):
            raise TypeError("a Socket.IO connection runs on a ServerConnection core")
        #: the connection's sans-I/O core
        self.core = core
        #: its Socket.IO layer (namespace state, encoders)
        self.session = core.socketio
        protocol = self.session.protocol
        parser = self.session.parser
        self.encode = parser.encode
        key = (protocol, id(parser))
        self.parser_key: object = _PARSER_KEYS.setdefault(key, key)  # one tuple per parser
        #: connected sockets by namespace name
        self.sockets: dict[str, Socket] = {}
        guard = registry.guard
        #: the event rate cap (`Caps.events_per_second`), None when off
        self.events_guard = (
            SocketGuard(guard.caps, guard.gate, conn.request.address)
            if guard.caps.events_per_second
            else None
        )
        loop = asyncio.get_running_loop()
        self.runner = HandlerRunner(
            loop, registry.error_reporter, ordered=registry.ordered_handlers
        )
        #: the clock timeouts run on
        self.timers = registry.session_timers()
        self._connect_timer: TimerHandle | None = registry.timer_queue().call_later(
            registry.connect_timeout, self._connect_timed_out
        )

    def start(self) -> None:
        """The driver is registered: protocol 4's opening joins "/" (perhaps at once)."""
        implicit = self.core.implicit_connect()
        if implicit is not None:
            self._submit_connect(implicit)

    @property
    def caps(self) -> Caps:
        """The server's caps (`siox.options.Caps`)."""
        return self.registry.guard.caps

    # -- writing ----------------------------------------------------------------------------------

    def write(
        self, messages: list[str | bytes], *, volatile: bool = False, compress: bool = True
    ) -> None:
        """Send Engine.IO messages on this connection.

        ``compress`` is the emit's ``compress(flag)``: False keeps the messages uncompressed
        (no gzip over polling, no permessage-deflate over WebSocket).
        """
        if compress:
            self.conn.write(messages, volatile=volatile)
        else:
            self.conn.write(messages, volatile=volatile, compress=False)

    def write_outgoing(self, outgoing: Outgoing) -> None:
        """Send shared pre-encoded messages on this connection."""
        self.conn.write_outgoing(outgoing)

    def _connect_timed_out(self) -> None:
        self._connect_timer = None
        if not self.sockets:
            self.conn.close("connect timeout")

    # -- application code, guarded ----------------------------------------------------------------

    def _report(self, exc: BaseException, socket: Socket | None, event: str | None) -> None:
        context = ErrorContext(
            event=event,
            namespace=socket.nsp if socket is not None else None,
            socket_id=socket.id if socket is not None else None,
        )
        self.registry.report_error(exc, context)

    def _ack(self, socket: Socket, ack_id: int | None, result: Any) -> None:
        if ack_id is not None and socket.connected:
            self.write(self.session.ack(socket.nsp, ack_id, ack_args(result)))

    def dispatch(self, socket: Socket, args: list[Any], ack_id: int | None) -> None:
        """One event for ``socket``: event middlewares, its handler and the ack of its result.

        A handler runs right away when nothing is queued before it and no event middleware
        applies (a plain function then finishes here; a coroutine continues on the ordered
        runner); otherwise the whole sequence runs on the runner, behind what came first.
        """
        namespace = socket.namespace
        if (
            not fastpaths.ENABLED
            or namespace.event_middlewares
            or socket.middlewares
            or self.runner.busy
        ):
            self.runner.submit(self._handle(socket, args, ack_id, None))
            return
        handler = namespace.handlers.get(args[0])
        if handler is None:
            return  # no listener: dropped, as the reference drops it (P03)
        try:
            result = handler(socket, *args[1:])
            if type(result) is not CoroutineType:
                if ack_id is not None and socket.connected:  # `_ack`, inline: the hot path
                    if result is None:  # `ack_args`, inline
                        values = []
                    elif type(result) is tuple:
                        values = list(result)
                    else:
                        values = [result]
                    self.conn.write(self.session.ack(namespace.name, ack_id, values))
                return
        except Exception as exc:
            self._report(exc, socket, args[0])
            return
        self.runner.submit(self._handle(socket, args, ack_id, result))

    async def _handle(
        self,
        socket: Socket,
        args: list[Any],
        ack_id: int | None,
        started: Coroutine[Any, Any, Any] | None = None,
    ) -> None:
        try:
            if started is None:
                namespace = socket.namespace
                for middleware in (*namespace.event_middlewares, *socket.middlewares):
                    outcome = middleware(socket, args)
                    if inspect.isawaitable(outcome):
                        await outcome
                handler = namespace.handlers.get(args[0])
                if handler is None:
                    return
                result = handler(socket, *args[1:])
                if inspect.isawaitable(result):
                    result = await result
            else:
                result = await started
            self._ack(socket, ack_id, result)
        except Exception as exc:
            self._report(exc, socket, args[0])

    def _call_listener(self, listener: Handler, socket: Socket, args: list[Any]) -> None:
        try:
            result = listener(socket, *args)
            if inspect.iscoroutine(result):
                self.runner.submit(self._await_listener(result, socket, args[0]))
        except Exception as exc:
            self._report(exc, socket, args[0] if args else None)

    async def _await_listener(
        self, coro: Coroutine[Any, Any, Any], socket: Socket, event: str
    ) -> None:
        try:
            await coro
        except Exception as exc:
            self._report(exc, socket, event)

    def notify_outgoing(self, socket: Socket, args: list[Any]) -> None:
        """Call the namespace's outgoing catch-all listeners with ``args``."""
        for listener in socket.namespace.any_outgoing_listeners:
            self._call_listener(listener, socket, args)

    # -- receiving --------------------------------------------------------------------------------

    def receive(self, data: str | bytes) -> None:
        """One Engine.IO message from the client (a `MessageReceived` the pump reports)."""
        self.handle(self.core.decode(data))

    def handle(self, events: Sequence[ServerEvent]) -> None:
        """Dispatch the Socket.IO events of one message."""
        event: Any  # narrowed by `type(event) is ...`, which mypy does not follow
        for event in events:
            kind = type(event)
            if kind is EventReceived:
                socket = self.sockets.get(event.nsp)
                if self.events_guard is not None and not self.events_guard.allow_event():
                    if self.events_guard.disconnect:
                        self.close_all(RATE_LIMITED)
                        return
                    continue
                if socket is not None:
                    args = event.args
                    for listener in socket.namespace.any_listeners:
                        self._call_listener(listener, socket, args)
                    if self.tracer is None:
                        self.dispatch(socket, args, event.ack_id)
                    else:
                        self.runner.submit(
                            self.tracer.event(self, socket, args, event.ack_id, self._handle)
                        )
            elif kind is AckReceived:
                socket = self.sockets.get(event.nsp)
                if socket is not None:
                    socket.receive_ack(event.ack_id, event.args)
            elif kind is ConnectRequested:
                self._submit_connect(event)
            elif kind is DisconnectRequested:
                socket = self.sockets.get(event.nsp)
                if socket is not None:
                    if self.runner.idle:
                        self.socket_closed(socket, "client namespace disconnect")
                    else:  # after the handlers of the events that came before it
                        self.runner.submit(self._close_later(socket))
            elif kind is ProtocolViolation:
                logger.debug("%s from %s: %s", event.reason, self.conn.sid, event.cause)
                if event.invalid_state:
                    self.close_all(event.reason, send_disconnect=False)
                else:
                    self.conn.close(event.reason)
                return

    # -- connecting to a namespace ----------------------------------------------------------------

    def _submit_connect(self, request: ConnectRequested) -> None:
        run = self._connect(request)
        if self.tracer is None:  # a connect that waits for nothing needs no task
            self.runner.submit(run, eager=True)
        else:
            self.runner.submit(self.tracer.connect(self, request, run))

    def handshake(self, auth: dict[str, Any]) -> Handshake:
        """The `Handshake` of a socket whose CONNECT carried ``auth`` (made when it is read)."""
        request = self.conn.request
        return Handshake(
            headers=request.headers,
            query=request.query,
            auth=auth,
            address=request.address,
            secure=request.secure,
            url=request.url,
            issued=int(request.issued * 1000),
            time=time.strftime("%a %b %d %Y %H:%M:%S GMT", time.gmtime(request.issued)),
        )

    async def _connect(self, request: ConnectRequested) -> None:
        name = request.nsp
        cap = self.registry.guard.caps.max_namespaces_per_connection
        if cap is not None and len(self.sockets) >= cap and name not in self.sockets:
            refused(self.registry.guard.gate, "max_namespaces_per_connection", self.conn.sid)
            self.write(self.session.refuse(name, "Too many namespaces"))
            return
        namespace = self.registry.find_namespace(name, request.auth)
        if namespace is None:
            self.write(self.core.refuse_unknown_namespace(name))
            return
        session: SessionState | None = None
        if namespace.recovery:
            pid, offset = request.auth.get("pid"), request.auth.get("offset")
            if isinstance(pid, str) and isinstance(offset, str):
                await TASK_POINT
                session = await namespace.adapter.restore_session(pid, offset)
        sid = self.core.socket_id(name, session.sid if session is not None else new_socket_id())
        socket = Socket(self, namespace, sid, auth=request.auth)
        try:
            if session is None or not self.registry.recovery_skips_middlewares:
                for middleware in namespace.middlewares:
                    outcome = middleware(socket, request.auth)
                    if inspect.isawaitable(outcome):
                        await TASK_POINT
                        await outcome
            if self.conn.closed:
                return
            await self._register(socket, session)
            handler = namespace.handlers.get("connect")
            if handler is not None:
                wants_auth = namespace.handler_wants_arg.get("connect", True)
                verdict: Any = handler(socket, request.auth) if wants_auth else handler(socket)
                if inspect.isawaitable(verdict):
                    await TASK_POINT
                    verdict = await verdict
                if verdict is False:  # a python-socketio habit: refused, and said loudly
                    raise TypeError(NOT_FALSE)
        except ConnectionRefused as refusal:
            await self._unregister(socket)
            self.write(self.session.refuse(name, refusal.message, refusal.data))
            return
        except Exception as exc:
            await self._unregister(socket)
            self._report(exc, socket, "connect")
            self.write(self.session.refuse(name, "Internal server error"))
            return
        if not socket.connected:
            return  # disconnected by its own connect handler
        self.write(self.session.accept(name, socket.id, socket.pid))
        if session is not None:
            for data in session.missed_packets:
                self.write(self.session.event(name, data))
        socket.release()
        if self.observer is not None:
            self.observer.socket_connected(socket)

    async def _register(self, socket: Socket, session: SessionState | None) -> None:
        namespace = socket.namespace
        if self._connect_timer is not None:
            self._connect_timer.cancel()
            self._connect_timer = None
        if namespace.recovery:
            socket.pid = session.pid if session is not None else new_socket_id()
        if session is not None:
            socket.recovered = True
            socket.data = session.data
        namespace.attach(socket)
        self.sockets[namespace.name] = socket
        socket.connected = True
        rooms = [socket.id, *(session.rooms if session is not None else ())]
        adapter = namespace.adapter
        if not local_membership(adapter):
            await TASK_POINT
        await adapter.add_all(socket.id, rooms)

    async def _unregister(self, socket: Socket) -> None:
        namespace = socket.namespace
        socket.connected = False
        socket.drop_held()
        self._forget(socket)
        self.session.forget(namespace.name)
        if not local_membership(namespace.adapter):
            await TASK_POINT
        await namespace.adapter.delete_all(socket.id)
        namespace.left()

    def _forget(self, socket: Socket) -> None:
        namespace = socket.namespace
        namespace.detach(socket)
        if self.sockets.get(namespace.name) is socket:
            del self.sockets[namespace.name]

    # -- disconnecting ----------------------------------------------------------------------------

    def socket_closed(self, socket: Socket, reason: str) -> None:
        """``socket`` left its namespace: it gets no more packets, its handlers run after."""
        if not socket.connected:
            return
        socket.connected = False
        self._forget(socket)
        self.session.forget(socket.nsp)
        socket.fail_acks()
        if self.observer is not None:
            self.observer.socket_disconnected(socket, reason)
        self.runner.submit(self._close_sequence(socket, reason))

    def leave_namespace(self, socket: Socket) -> None:
        """Send DISCONNECT for ``socket``'s namespace, then close the socket."""
        self.write(self.session.disconnect(socket.nsp))
        self.socket_closed(socket, "server namespace disconnect")

    async def _close_later(self, socket: Socket) -> None:
        self.socket_closed(socket, "client namespace disconnect")

    async def _close_sequence(self, socket: Socket, reason: str) -> None:
        namespace = socket.namespace
        try:
            await self._call_with_reason(namespace, "disconnecting", socket, reason)
        finally:
            if namespace.recovery and reason in RECOVERABLE_REASONS and socket.pid:
                state = SessionState(socket.id, socket.pid, sorted(socket.rooms), socket.data)
                await namespace.adapter.persist_session(state)
            await namespace.adapter.delete_all(socket.id)
            namespace.left()
        await self._call_with_reason(namespace, "disconnect", socket, reason)

    async def _call_with_reason(
        self, namespace: Namespace, name: str, socket: Socket, reason: str
    ) -> None:
        handler = namespace.handlers.get(name)
        if handler is None:
            return
        try:
            wants_reason = namespace.handler_wants_arg.get(name, True)
            outcome = handler(socket, reason) if wants_reason else handler(socket)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as exc:
            self._report(exc, socket, name)

    def close_all(self, reason: str, *, send_disconnect: bool = True) -> None:
        """Disconnect every socket of this connection, then close it."""
        for socket in list(self.sockets.values()):
            if send_disconnect and socket.connected:
                self.write(self.session.disconnect(socket.nsp))
            self.socket_closed(socket, reason)
        self.conn.close(reason)

    def engine_closed(self, reason: str) -> None:
        """The Engine.IO connection ended."""
        if self._connect_timer is not None:
            self._connect_timer.cancel()
            self._connect_timer = None
        for socket in list(self.sockets.values()):
            self.socket_closed(socket, reason)
