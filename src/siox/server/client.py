"""`Client`: one Engine.IO connection seen by the Socket.IO server (namespace multiplexing).

The engine calls `Client.receive` for each message; the sans-I/O `SocketConnection` turns it
into events, which this module dispatches: namespace connections (middlewares, connect handler,
CONNECT reply), events to handlers (plain functions run inline, coroutines on the client's
ordered runner), acks to the sockets waiting for them, and disconnections.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import secrets
import time
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from ..errors import ConnectionRefused, ProtocolError
from ..socketio.connection import InvalidState, SocketConnection
from ..socketio.events import AckReceived, ConnectRequested, DisconnectRequested, EventReceived
from .adapter import SessionState
from .engine_api import EngineConnection
from .events import RECOVERABLE_REASONS
from .outgoing import Outgoing
from .runner import HandlerRunner, ack_args
from .socket import Handshake, Socket

if TYPE_CHECKING:
    from .namespace import Handler, Namespace
    from .server import Server

__all__ = ["Client"]

logger = logging.getLogger("siox")


def new_socket_id() -> str:
    """A random, URL-safe socket id of 20 characters (as the reference's base64id)."""
    return secrets.token_urlsafe(15)


class Client:
    """The Socket.IO side of one Engine.IO connection."""

    __slots__ = (
        "_connect_timer",
        "conn",
        "encode",
        "parser_key",
        "runner",
        "server",
        "session",
        "sockets",
    )

    def __init__(self, server: Server, conn: EngineConnection) -> None:
        self.server = server
        self.conn = conn
        protocol = 5 if conn.eio >= 4 else 4
        parser = server.parser_for(protocol)
        self.session = SocketConnection(parser, role="server", protocol=protocol, eio_sid=conn.sid)
        self.encode = parser.encode
        self.parser_key = (protocol, id(parser))
        self.sockets: dict[str, Socket] = {}
        loop = asyncio.get_running_loop()
        self.runner = HandlerRunner(loop, server.report_error, ordered=server.ordered_handlers)
        self._connect_timer: asyncio.TimerHandle | None = loop.call_later(
            server.connect_timeout, self._connect_timed_out
        )

    # -- plumbing ---------------------------------------------------------------------------------

    def write(self, messages: list[str | bytes], *, volatile: bool = False) -> None:
        """Send Engine.IO messages on this connection."""
        self.conn.write(messages, volatile=volatile)

    def write_outgoing(self, outgoing: Outgoing) -> None:
        """Send shared pre-encoded messages on this connection."""
        self.conn.write_outgoing(outgoing)

    def call_listener(self, listener: Handler, socket: Socket, args: list[Any]) -> None:
        """Call a catch-all listener (sync or async); errors go to the error hook."""
        try:
            result = listener(socket, *args)
            if inspect.iscoroutine(result):
                self.runner.submit(result)
        except Exception as exc:
            self.server.report_error(exc)

    def _connect_timed_out(self) -> None:
        self._connect_timer = None
        if not self.sockets:
            self.conn.close("connect timeout")

    # -- receiving --------------------------------------------------------------------------------

    def receive(self, data: str | bytes) -> None:
        """One Engine.IO message from the client."""
        try:
            events = self.session.receive(data)
        except InvalidState as exc:
            logger.debug("invalid state from %s: %s", self.conn.sid, exc)
            self.close_all("forced server close", send_disconnect=False)
            return
        except ProtocolError as exc:
            logger.debug("parse error from %s: %s", self.conn.sid, exc)
            self.conn.close("parse error")
            return
        for event in events:
            kind = type(event)
            if kind is EventReceived:
                self._on_event(event)  # type: ignore[arg-type]
            elif kind is AckReceived:
                socket = self.sockets.get(event.nsp)
                if socket is not None:
                    socket.receive_ack(event.ack_id, event.args)  # type: ignore[union-attr,arg-type]
            elif kind is ConnectRequested:
                self.runner.submit(self._connect(event))  # type: ignore[arg-type]
            elif kind is DisconnectRequested:
                socket = self.sockets.get(event.nsp)
                if socket is not None:
                    if self.runner.idle:
                        self.socket_closed(socket, "client namespace disconnect")
                    else:  # after the handlers of the events that came before it
                        self.runner.submit(self._close_later(socket))

    def _on_event(self, event: EventReceived) -> None:
        socket = self.sockets.get(event.nsp)
        if socket is None:
            return
        namespace = socket.namespace
        args = event.args
        if namespace.any_listeners:
            for listener in namespace.any_listeners:
                self.call_listener(listener, socket, args)
        if namespace.event_middlewares or not self.runner.idle:
            # Behind a middleware, or behind handlers still running: keep the order.
            self.runner.submit(self._run_event(socket, event))
            return
        handler = namespace.handlers.get(args[0])
        if handler is None:
            return  # no listener: dropped, as the reference drops it (P03)
        try:
            result = handler(socket, *args[1:])
        except Exception as exc:
            self.server.report_error(exc)
            return
        ack_id = event.ack_id
        if type(result) is CoroutineType:
            if ack_id is None:
                self.runner.submit(result)
            else:
                self.runner.submit(self._await_and_ack(socket, result, ack_id))
        elif ack_id is not None and socket.connected:
            self.conn.write(self.session.ack(event.nsp, ack_id, ack_args(result)))

    async def _await_and_ack(self, socket: Socket, coro: Any, ack_id: int) -> None:
        result = await coro
        if socket.connected:
            self.write(self.session.ack(socket.namespace.name, ack_id, ack_args(result)))

    async def _run_event(self, socket: Socket, event: EventReceived) -> None:
        namespace = socket.namespace
        for middleware in namespace.event_middlewares:
            outcome = middleware(socket, event.args)
            if inspect.isawaitable(outcome):
                await outcome
        handler = namespace.handlers.get(event.args[0])
        if handler is None:
            return
        result = handler(socket, *event.args[1:])
        if inspect.isawaitable(result):
            result = await result
        if event.ack_id is not None and socket.connected:
            self.write(self.session.ack(event.nsp, event.ack_id, ack_args(result)))

    # -- connecting to a namespace ----------------------------------------------------------------

    def _handshake(self, auth: dict[str, Any]) -> Handshake:
        request = self.conn.request
        issued = int(request.issued * 1000)
        return Handshake(
            headers=request.headers,
            query=request.query,
            auth=auth,
            address=request.address,
            secure=request.secure,
            url=request.url,
            issued=issued,
            time=time.strftime("%a %b %d %Y %H:%M:%S GMT", time.gmtime(request.issued)),
        )

    async def _connect(self, request: ConnectRequested) -> None:
        server = self.server
        name = request.nsp
        namespace = server.find_namespace(name, request.auth)
        if namespace is None:
            # socket.io 4.8 (allowEIO3) sends the object to 2.x clients too, where socket.io 2.x
            # sent the bare string "Invalid namespace": the pinned reference wins (issue 5).
            legacy = {"message": "Invalid namespace"} if self.session.protocol < 5 else None
            self.write(self.session.refuse(name, "Invalid namespace", legacy))
            return
        session: SessionState | None = None
        if server.recovery is not None:
            pid, offset = request.auth.get("pid"), request.auth.get("offset")
            if isinstance(pid, str) and isinstance(offset, str):
                session = await namespace.adapter.restore_session(pid, offset)
        if self.session.protocol < 5:
            sid = self.session.legacy_socket_id(name)
        else:
            sid = session.sid if session is not None else new_socket_id()
        socket = Socket(namespace, self, sid, self._handshake(request.auth))
        try:
            if session is None or not server.recovery_skips_middlewares():
                for middleware in namespace.middlewares:
                    outcome = middleware(socket, request.auth)
                    if inspect.isawaitable(outcome):
                        await outcome
            if self.conn.closed:
                return
            self._register(socket, session)
            handler = namespace.handlers.get("connect")
            if handler is not None:
                wants_auth = namespace.handler_wants_arg.get("connect", True)
                outcome = handler(socket, request.auth) if wants_auth else handler(socket)
                if inspect.isawaitable(outcome):
                    await outcome
        except ConnectionRefused as refusal:
            self._unregister(socket)
            self.write(self.session.refuse(name, refusal.message, refusal.data))
            return
        except Exception as exc:
            self._unregister(socket)
            server.report_error(exc)
            self.write(self.session.refuse(name, "Internal server error"))
            return
        if not socket.connected:
            return  # disconnected by its own connect handler
        self.write(self.session.accept(name, socket.id, socket.pid))
        if session is not None:
            for data in session.missed_packets:
                self.write(self.session.event(name, data))
        socket._flush_buffer()

    def _register(self, socket: Socket, session: SessionState | None) -> None:
        namespace = socket.namespace
        if self._connect_timer is not None:
            self._connect_timer.cancel()
            self._connect_timer = None
        if self.server.recovery is not None:
            socket.pid = session.pid if session is not None else new_socket_id()
        if session is not None:
            socket.recovered = True
            socket.data = session.data
        namespace.sockets[socket.id] = socket
        self.sockets[namespace.name] = socket
        socket.connected = True
        rooms = [socket.id, *(session.rooms if session is not None else ())]
        namespace.adapter.add_all_now(socket.id, rooms)

    def _unregister(self, socket: Socket) -> None:
        namespace = socket.namespace
        socket.connected = False
        socket._buffer = None
        if namespace.sockets.get(socket.id) is socket:
            del namespace.sockets[socket.id]
        if self.sockets.get(namespace.name) is socket:
            del self.sockets[namespace.name]
        namespace.adapter.delete_all_now(socket.id)
        self.session.forget(namespace.name)

    # -- disconnecting ----------------------------------------------------------------------------

    def socket_closed(self, socket: Socket, reason: str) -> None:
        """``socket`` left its namespace; run the handlers, clean up, keep recovery state."""
        if not socket.connected:
            return
        socket.connected = False
        namespace = socket.namespace
        if self.sockets.get(namespace.name) is socket:
            del self.sockets[namespace.name]
        self.session.forget(namespace.name)
        socket.fail_acks()
        handlers = namespace.handlers
        if (
            "disconnecting" in handlers
            or "disconnect" in handlers
            or (self.server.recovery is not None and reason in RECOVERABLE_REASONS)
        ):
            self.runner.submit(self._close_sequence(socket, reason))
        else:
            self._forget_socket(socket)

    async def _close_later(self, socket: Socket) -> None:
        self.socket_closed(socket, "client namespace disconnect")

    def _forget_socket(self, socket: Socket) -> None:
        namespace = socket.namespace
        namespace.adapter.delete_all_now(socket.id)
        if namespace.sockets.get(socket.id) is socket:
            del namespace.sockets[socket.id]

    async def _close_sequence(self, socket: Socket, reason: str) -> None:
        namespace = socket.namespace
        try:
            await self._call_with_reason(namespace, "disconnecting", socket, reason)
        finally:
            if self.server.recovery is not None and reason in RECOVERABLE_REASONS and socket.pid:
                state = SessionState(socket.id, socket.pid, sorted(socket.rooms), socket.data)
                await namespace.adapter.persist_session(state)
            self._forget_socket(socket)
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
            self.server.report_error(exc)

    def close_all(self, reason: str, *, send_disconnect: bool = True) -> None:
        """Disconnect every socket of this connection, then close it."""
        for socket in list(self.sockets.values()):
            if send_disconnect and socket.connected:
                self.write(self.session.disconnect(socket.namespace.name))
            self.socket_closed(socket, reason)
        self.conn.close(reason)

    def engine_closed(self, reason: str) -> None:
        """The Engine.IO connection ended."""
        if self._connect_timer is not None:
            self._connect_timer.cancel()
            self._connect_timer = None
        for socket in list(self.sockets.values()):
            self.socket_closed(socket, reason)
