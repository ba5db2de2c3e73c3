"""The events a `siox.http.websocket.WebSocketConnection` emits, and its role and state enums."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "BinaryMessage",
    "CloseReceived",
    "ConnectionFailed",
    "ConnectionState",
    "Ping",
    "Pong",
    "Role",
    "TextMessage",
    "WebSocketEvent",
]


class Role(Enum):
    """Which end of the connection this side is."""

    SERVER = "server"
    CLIENT = "client"


class ConnectionState(Enum):
    """Where the closing handshake stands."""

    OPEN = "open"
    CLOSING = "closing"  # this side sent a close frame and waits for the peer's
    CLOSED = "closed"  # both close frames exchanged, the connection failed, or EOF


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A complete text message."""

    data: str


@dataclass(frozen=True, slots=True)
class BinaryMessage:
    """A complete binary message."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Ping:
    """A ping; the matching pong is already queued in `WebSocketConnection.data_to_send`."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    """A pong."""

    data: bytes


@dataclass(frozen=True, slots=True)
class CloseReceived:
    """The peer's close frame; 1005 means it carried no code.  The reply is already queued."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """The connection failed (a protocol violation, a limit, or EOF before the close: 1006).

    A close frame with ``code`` is already queued when one may still be sent.
    """

    code: int
    reason: str


WebSocketEvent = TextMessage | BinaryMessage | Ping | Pong | CloseReceived | ConnectionFailed
