"""The core connection objects: one per peer, sans-I/O, composing every protocol layer.

`ServerConnection` is one client's connection on a server: its Engine.IO session
(`siox.engineio.session.EngineSession`) with the Socket.IO connection
(`siox.socketio.connection.SocketConnection`) and its decoder on top. Each input is one call
taking ``now`` (a WebSocket message, a polling GET or POST, a timer); Socket.IO events come out
of `ServerConnection.receive_ws_message` and `ServerConnection.decode`, bytes and polling
responses out of ``drain()``, and ``next_deadline()`` says when to call ``handle_timer``.
`ClientConnection` is the same for a client (`siox.engineio.client_session.ClientEngineSession`
with a client-role `SocketConnection`). `Pump` is the loop every driver (server and client)
runs after an input: perform the outputs, report the events, arm one timer at the next
deadline.
"""

from __future__ import annotations

from .client import ClientConnection
from .events import ProtocolViolation
from .pump import Pump
from .server import ServerConnection

__all__ = ["ClientConnection", "ProtocolViolation", "Pump", "ServerConnection"]
