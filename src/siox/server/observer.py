"""`ServerObserver`: what a server tells the tools that watch it (the Admin UI, metrics).

A `siox.Server` has no observer until one is added (`siox.Server.add_observer`); then it calls
the observer's methods as connections open, carry messages and close, as sockets join and leave
namespaces, and as application code fails. Without an observer nothing of this runs: the server
checks one attribute at each of these places, and the connections are not wrapped.

Every method of the base class does nothing; an observer overrides what it needs. An observer
must not raise (what it raises is logged and swallowed) and must not block: it runs inline,
on the event loop, in the middle of the server's work.

Room membership is observed where it changes, in the namespace's room index
(`siox.socketio.rooms.RoomIndex.listener`), and events through the namespace's catch-all
listeners (``on_any``/``on_any_outgoing``): an observer installs those itself.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .outgoing import Outgoing

if TYPE_CHECKING:
    from ..errors import ProtocolError
    from .engine_api import EngineConnection, RequestInfo
    from .runner import ErrorContext
    from .socket import Socket

__all__ = ["ObservedConnection", "ObserverGroup", "ServerObserver"]

logger = logging.getLogger("siox")


class ServerObserver:
    """The hooks a server calls; every one does nothing here (override what you need)."""

    def connection_opened(self, conn: EngineConnection) -> None:
        """A new Engine.IO session (``conn.transport`` is the transport it started on)."""

    def connection_upgraded(self, conn: EngineConnection) -> None:
        """The session moved to WebSocket."""

    def connection_closed(self, conn: EngineConnection, reason: str) -> None:
        """The session ended, for ``reason`` (the reference's reason strings).

        ``conn.close_description`` (when the connection has one) says more: which limit or
        rule, e.g. a slow consumer's outgoing buffer overflowing.
        """

    def message_received(self, conn: EngineConnection, data: str | bytes) -> None:
        """One Engine.IO message arrived from the client."""

    def request_refused(self, error: ProtocolError) -> None:
        """The Engine.IO layer refused a request (a handshake, an unknown session...)."""

    def messages_sent(self, conn: EngineConnection, messages: list[str | bytes]) -> None:
        """Engine.IO messages were queued for the client."""

    def socket_connected(self, socket: Socket) -> None:
        """``socket`` joined its namespace (its CONNECT reply is out)."""

    def socket_disconnected(self, socket: Socket, reason: str) -> None:
        """``socket`` left its namespace, for ``reason``."""

    def handler_error(self, exc: BaseException, context: ErrorContext) -> None:
        """Application code raised ``exc`` (it also goes to the error hooks)."""

    def ack_received(self, socket: Socket, seconds: float) -> None:
        """The client acknowledged an event ``socket`` sent ``seconds`` ago."""

    def server_closed(self) -> None:
        """The server shut down (`siox.Server.shutdown`)."""


def _safely(method: str, observer: ServerObserver, *args: Any) -> None:
    try:
        getattr(observer, method)(*args)
    except Exception:
        logger.exception("error in the %s hook of %r", method, observer)


class ObserverGroup(ServerObserver):
    """Several observers called in turn; one that raises does not stop the others."""

    def __init__(self, observers: list[ServerObserver]) -> None:
        self.observers = observers

    def connection_opened(self, conn: EngineConnection) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("connection_opened", observer, conn)

    def connection_upgraded(self, conn: EngineConnection) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("connection_upgraded", observer, conn)

    def connection_closed(self, conn: EngineConnection, reason: str) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("connection_closed", observer, conn, reason)

    def message_received(self, conn: EngineConnection, data: str | bytes) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("message_received", observer, conn, data)

    def request_refused(self, error: ProtocolError) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("request_refused", observer, error)

    def messages_sent(self, conn: EngineConnection, messages: list[str | bytes]) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("messages_sent", observer, conn, messages)

    def socket_connected(self, socket: Socket) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("socket_connected", observer, socket)

    def socket_disconnected(self, socket: Socket, reason: str) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("socket_disconnected", observer, socket, reason)

    def handler_error(self, exc: BaseException, context: ErrorContext) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("handler_error", observer, exc, context)

    def ack_received(self, socket: Socket, seconds: float) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("ack_received", observer, socket, seconds)

    def server_closed(self) -> None:
        """Fan out."""
        for observer in self.observers:
            _safely("server_closed", observer)


class ObservedConnection:
    """An `EngineConnection` that reports what is written to it; everything else passes through.

    The server wraps a connection in one only while an observer is installed, so a server
    nobody observes writes straight to its connections.
    """

    __slots__ = ("_conn", "_observer")

    def __init__(self, conn: EngineConnection, observer: ServerObserver) -> None:
        self._conn = conn
        self._observer = observer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __repr__(self) -> str:
        return f"<observed {self._conn!r}>"

    @property
    def wrapped(self) -> EngineConnection:
        """The connection itself."""
        return self._conn

    @property
    def sid(self) -> str:
        """The Engine.IO session id."""
        return self._conn.sid

    @property
    def eio(self) -> int:
        """The Engine.IO revision."""
        return self._conn.eio

    @property
    def transport(self) -> str:
        """The current transport."""
        return self._conn.transport

    @property
    def request(self) -> RequestInfo:
        """The handshake request."""
        return self._conn.request

    @property
    def closed(self) -> bool:
        """Whether the session has ended."""
        return self._conn.closed

    def close(self, reason: str = "forced close") -> None:
        """End the session."""
        self._conn.close(reason)

    def write(
        self, messages: list[str | bytes], *, volatile: bool = False, compress: bool = True
    ) -> None:
        """Report, then write."""
        if not self._conn.closed:
            _safely("messages_sent", self._observer, self._conn, messages)
        self._conn.write(messages, volatile=volatile, compress=compress)

    def write_outgoing(self, outgoing: Outgoing) -> None:
        """Report, then write."""
        if not self._conn.closed:
            _safely("messages_sent", self._observer, self._conn, outgoing.messages)
        self._conn.write_outgoing(outgoing)
