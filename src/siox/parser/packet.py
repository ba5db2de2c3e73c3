"""The Socket.IO packet model shared by every parser: `PacketType` and `Packet`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from types import ModuleType
from typing import Any, cast

__all__ = [
    "COMPILED",
    "RESERVED_EVENTS",
    "Packet",
    "PacketType",
    "make_packet",
    "pure_init",
    "pure_make_packet",
]


class PacketType(IntEnum):
    """Socket.IO packet types (protocol v5 names; type 4 is ERROR in revisions 1-4)."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self, type: PacketType, nsp: str = "/", data: Any = None, id: int | None = None
    ) -> None:
        # The generated frozen ``__init__`` pays ``object.__setattr__`` per field; emitting
        # builds a packet per message, so the slots are filled through their descriptors (in
        # one call when the optional compiled helper is built).
        _fill(self, type, nsp, data, id)


#: Event names a peer may not send (socket.io-parser 4.2.x refuses them on decode).
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


def _slot_setter(name: str) -> Callable[[Packet, Any], None]:
    return cast("Callable[[Packet, Any], None]", getattr(Packet, name).__set__)


_new = object.__new__
_set_type = _slot_setter("type")
_set_nsp = _slot_setter("nsp")
_set_data = _slot_setter("data")
_set_id = _slot_setter("id")


def pure_fill(packet: Packet, ptype: PacketType, nsp: str, data: Any, ack_id: int | None) -> None:
    """Fill the four slots of ``packet`` through their descriptors (the pure-Python fallback)."""
    _set_type(packet, ptype)
    _set_nsp(packet, nsp)
    _set_data(packet, data)
    _set_id(packet, ack_id)


def pure_make_packet(ptype: PacketType, nsp: str, data: Any, ack_id: int | None) -> Packet:
    """Build a `Packet` from already validated fields, about twice as fast as ``Packet(...)``.

    The frozen dataclass ``__init__`` goes through ``object.__setattr__`` for every field;
    decoders build one packet per message, so they set the slots directly instead.
    """
    packet: Packet = _new(Packet)
    _set_type(packet, ptype)
    _set_nsp(packet, nsp)
    _set_data(packet, data)
    _set_id(packet, ack_id)
    return packet


#: The Python ``Packet.__init__`` (the compiled one replaces it when the speedups are built).
pure_init = Packet.__init__
_fill: Callable[[Packet, PacketType, str, Any, int | None], None] = pure_fill
make_packet: Callable[[PacketType, str, Any, int | None], Packet] = pure_make_packet
#: The optional compiled helpers (`siox.parser._speedups`), or None: not built, or
#: ``SIOX_NO_EXTENSIONS`` set.
COMPILED: ModuleType | None = None
if not os.environ.get("SIOX_NO_EXTENSIONS"):
    try:
        from . import _speedups  # the compiled helpers, when they were built
    except ImportError:
        pass
    else:
        _speedups.configure(Packet, ("type", "nsp", "data", "id"))
        _fill = _speedups.fill
        make_packet = _speedups.new
        # The same __init__ compiled (no Python frame per packet), and ``Packet(...)`` calls
        # that go straight to it (no argument tuple, no slot lookups).
        _speedups.install_init()
        COMPILED = _speedups
