"""Span names and attribute keys (OpenTelemetry messaging conventions where they fit)."""

from __future__ import annotations

__all__ = [
    "ACK",
    "CLIENT_ADDRESS",
    "CLIENT_ID",
    "CONNECT",
    "CONNECT_RESULT",
    "DESTINATION",
    "ENGINE_PROTOCOL",
    "ENGINE_TRANSPORT",
    "EVENT",
    "HANDSHAKE",
    "OPERATION_NAME",
    "OPERATION_TYPE",
    "SYSTEM",
    "SYSTEM_NAME",
]

#: ``messaging.system``'s value.
SYSTEM_NAME = "socket.io"

SYSTEM = "messaging.system"
OPERATION_NAME = "messaging.operation.name"
OPERATION_TYPE = "messaging.operation.type"
#: the namespace
DESTINATION = "messaging.destination.name"
#: the socket id
CLIENT_ID = "messaging.client.id"
#: the event name
EVENT = "socket.io.event"
#: ``"none"`` (not asked for), ``"sent"``, or ``"not sent"`` (the handling failed, or the
#: socket left first)
ACK = "socket.io.ack"
#: ``"accepted"``, ``"refused"`` (a middleware or handler refused, no such namespace...) or
#: ``"error"`` (application code raised)
CONNECT_RESULT = "socket.io.connect.result"
ENGINE_TRANSPORT = "engine.io.transport"
ENGINE_PROTOCOL = "engine.io.protocol"
CLIENT_ADDRESS = "client.address"

#: The handshake span's name.
HANDSHAKE = "handshake"
#: The namespace connect span's name.
CONNECT = "connect"
