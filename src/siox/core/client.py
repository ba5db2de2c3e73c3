"""`ClientConnection`: a client's connection to a server, every protocol layer, sans-I/O.

It is the client's Engine.IO session (it *is* a `ClientEngineSession`: the polling, upgrade,
heartbeat and close verbs are the session's own, each taking ``now``) with the client-role
Socket.IO connection on top (`socketio`: namespaces asked for and joined, the decoder, the
encoders of what the client sends).

Inputs, one call each: ``receive_ws_message(frame, now)``, ``receive_polling_response(body,
content_type, now)``, ``polling_post_done(now)``, ``attach_websocket(now)``,
``transport_closed(transport, now)``, ``handle_timer(now)``. Outputs: ``drain()`` (the requests
to make, the frames to send, the Engine.IO events); each `MessageReceived` goes through
`decode` when the driver reports it, for the same reason as the server's
(`siox.core.server`). ``next_deadline()`` says when to call ``handle_timer``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engineio.client_session import ClientEngineSession
from ..engineio.handshake import HandshakeInfo
from ..errors import ProtocolError
from ..socketio.connection import SocketConnection
from ..socketio.events import SocketEvent
from ..socketio.parsers import ParserLike
from .events import ProtocolViolation
from .server import PARSE_ERROR

__all__ = ["ClientConnection", "ClientEvent"]

#: What `ClientConnection.decode` gives: Socket.IO events, or the violation that ends it all.
ClientEvent = SocketEvent | ProtocolViolation


class ClientConnection(ClientEngineSession):
    """A client's connection: its Engine.IO session and the Socket.IO connection on it.

    Args:
        parser: the Socket.IO parser of the protocol ``eio`` carries (5 over Engine.IO v4, 4
            over v3).
        **engine: the `ClientEngineSession` arguments (``now``, ``transport``, ``eio``...).
    """

    def __init__(self, *, parser: ParserLike, **engine: Any) -> None:
        super().__init__(**engine)
        #: The Socket.IO connection on this session.
        self.socketio = SocketConnection(parser, role="client", protocol=5 if self.eio >= 4 else 4)

    def _open(self, info: HandshakeInfo, now: float) -> None:
        super()._open(info, now)
        self.socketio.eio_sid = info.sid  # protocol 4 derives socket ids from it

    def join(self, nsp: str, auth: dict[str, Any] | None) -> list[str | bytes] | None:
        """The messages that ask to join ``nsp``; None when it is joined or asked for already.

        (Protocol 4 joins "/" when the session opens: that gives no message.)
        """
        socketio = self.socketio
        if nsp in socketio.pending or nsp in socketio.connected:
            return None
        return socketio.connect(nsp, auth)

    def receive_ws_message(self, frame: str | bytes, now: float) -> Sequence[ClientEvent] | None:
        """A message arrived on the WebSocket (text as str, binary as bytes).

        Returns:
            Its Socket.IO events, when the session's fast path delivered it with nothing else
            pending (the driver dispatches them; there is nothing to pump); otherwise None:
            what happened is queued for the driver's pump (``drain()``), as
            `siox.core.server.ServerConnection.receive_ws_message` does.
        """
        data = self.receive_ws_frame(frame, now, direct=True)
        if data is None:
            return None
        try:  # `decode`, inline: the per-message path
            return self.socketio.receive(data)
        except ProtocolError as exc:
            return [ProtocolViolation(PARSE_ERROR, exc, invalid_state=False)]

    def decode(self, data: str | bytes) -> Sequence[ClientEvent]:
        """The Socket.IO events of one Engine.IO message (a `MessageReceived`'s data).

        A malformed message gives one `ProtocolViolation` ("parse error"), never an exception.
        """
        try:
            return self.socketio.receive(data)
        except ProtocolError as exc:
            return [ProtocolViolation(PARSE_ERROR, exc, invalid_state=False)]
