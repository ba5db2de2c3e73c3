"""`ServerConnection`: one client's connection on a server, every protocol layer, sans-I/O.

It is the client's Engine.IO session (it *is* an `EngineSession`: the polling, upgrade,
heartbeat and close verbs are the session's own, each taking ``now``) with the Socket.IO
connection of that session on top (`socketio`: namespaces joined and pending, the packet
decoder, the protocol-state rules, the encoders of what the server sends).

Inputs, one call each: ``receive_ws_message(frame, now)`` (a WebSocket message),
``polling_get(now)`` / ``receive_polling_post(body, content_type, now)`` (or the streamed
``begin/feed/end_polling_post``), ``handle_timer(now)``, ``transport_closed``. Outputs:
``drain()`` gives the outputs to perform (`WebSocketSend`, `PollingResponse`, `WebSocketClose`)
and the Engine.IO events; each `MessageReceived` among them goes through `decode` when the
driver reports it (not before: a handler of an earlier message may change what the next one is
allowed to be, a CONNECT answered at once, say). ``next_deadline()`` says when to call
``handle_timer``.

The per-message path on a steady WebSocket is ``receive_ws_message``: the session's fast branch
(`EngineSession.receive_ws_frame`, after the deadlines due at ``now``) hands the message back
when nothing else is pending, and the Socket.IO fast branch (`SocketConnection.receive`) turns
it into its event; the driver dispatches the events without pumping. Every other case leaves
the message queued for the pump, which decodes it through the same `decode`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engineio.session import EngineSession
from ..errors import ProtocolError
from ..socketio.connection import InvalidState, SocketConnection
from ..socketio.events import ConnectRequested, SocketEvent
from ..socketio.parsers import ParserLike
from .events import ProtocolViolation

__all__ = ["FORCED_SERVER_CLOSE", "PARSE_ERROR", "ServerConnection", "ServerEvent"]

#: The reason a connection ends with when a packet breaks the protocol state.
FORCED_SERVER_CLOSE = "forced server close"
#: The reason a connection ends with when a packet is malformed.
PARSE_ERROR = "parse error"

#: What `ServerConnection.decode` gives: Socket.IO events, or the violation that ends it all.
ServerEvent = SocketEvent | ProtocolViolation


class ServerConnection(EngineSession):
    """One client's connection: its Engine.IO session and the Socket.IO connection on it.

    Args:
        sid: the Engine.IO session id.
        parser: the Socket.IO parser of this connection's protocol (5 for Engine.IO v4
            sessions, 4 for v3 ones; see `protocol_for`).
        **engine: the `EngineSession` arguments (``transport``, ``now``, ``eio``...).
    """

    __slots__ = ("socketio",)

    def __init__(self, sid: str, *, parser: ParserLike, **engine: Any) -> None:
        super().__init__(sid, **engine)
        #: The Socket.IO connection on this session.
        self.socketio = SocketConnection(
            parser, role="server", protocol=self.protocol_for(self.eio), eio_sid=sid
        )

    @staticmethod
    def protocol_for(eio: int) -> int:
        """The Socket.IO revision an Engine.IO revision carries: 5 on v4, 4 on v3."""
        return 5 if eio >= 4 else 4

    def receive_ws_message(self, frame: str | bytes, now: float) -> Sequence[ServerEvent] | None:
        """A message arrived on the WebSocket (text as str, binary as bytes).

        Returns:
            Its Socket.IO events, when the session's fast path delivered it with nothing else
            pending (the driver dispatches them; there is nothing to pump); otherwise None:
            what happened is queued, for the driver's pump (``drain()``).
        """
        data = self.receive_ws_frame(frame, now, direct=True)
        if data is None:
            return None
        try:  # `decode`, inline: the per-message path
            return self.socketio.receive(data)
        except ProtocolError as exc:
            return [_violation(exc)]

    def implicit_connect(self) -> ConnectRequested | None:
        """Protocol 4: the CONNECT to the main namespace its opening stands for (None in 5).

        socket.io 4.8 passes ``auth={}``: a 2.x client's query for "/" is in the handshake URL
        (``socket.handshake.query``), not in a namespace of its own.
        """
        return self.socketio.open_implicit({}) if self.socketio.protocol < 5 else None

    def socket_id(self, nsp: str, fresh: str) -> str:
        """The id of the socket joining ``nsp``.

        ``fresh`` (a new or restored id), except in protocol 4, where it derives from the
        Engine.IO sid.
        """
        socketio = self.socketio
        return socketio.legacy_socket_id(nsp) if socketio.protocol < 5 else fresh

    def refuse_unknown_namespace(self, nsp: str) -> list[str | bytes]:
        """Answer a CONNECT for a namespace nobody serves.

        socket.io 4.8 (allowEIO3) sends the object to 2.x clients too, where socket.io 2.x sent
        the bare string "Invalid namespace": the pinned reference wins.
        """
        socketio = self.socketio
        legacy = {"message": "Invalid namespace"} if socketio.protocol < 5 else None
        return socketio.refuse(nsp, "Invalid namespace", legacy)

    def decode(self, data: str | bytes) -> Sequence[ServerEvent]:
        """The Socket.IO events of one Engine.IO message (a `MessageReceived`'s data).

        A message that breaks the protocol gives one `ProtocolViolation`, never an exception:
        a malformed packet ("parse error"), or one the connection's state does not allow
        ("forced server close").
        """
        try:
            return self.socketio.receive(data)
        except ProtocolError as exc:
            return [_violation(exc)]


def _violation(exc: ProtocolError) -> ProtocolViolation:
    if isinstance(exc, InvalidState):
        return ProtocolViolation(FORCED_SERVER_CLOSE, exc, invalid_state=True)
    return ProtocolViolation(PARSE_ERROR, exc, invalid_state=False)
