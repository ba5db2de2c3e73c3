"""The Socket.IO packet model shared by every parser: `PacketType` and `Packet`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

__all__ = ["RESERVED_EVENTS", "Packet", "PacketType"]


class PacketType(IntEnum):
    """Socket.IO packet types (protocol v5 names; type 4 is ERROR in revisions 1-4)."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


@dataclass(frozen=True, slots=True)
class Packet:
    """One Socket.IO packet.

    Attributes:
        type: the packet type.
        nsp: the namespace, ``"/"`` for the main one.
        data: the payload; ``bytes``, ``bytearray`` or ``memoryview`` values anywhere inside it
            are binary attachments.
        id: the acknowledgement id, or None.
    """

    type: PacketType
    nsp: str = "/"
    data: Any = None
    id: int | None = None


#: Event names a peer may not send (socket.io-parser 4.2.x refuses them on decode).
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
