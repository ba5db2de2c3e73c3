r"""Engine.IO v4 and v3 codecs: packets (WebSocket frames) and polling payloads (sans-I/O).

The public API::

    from siox.engineio import EnginePacket, EnginePacketType, encode_packet, decode_packet
    from siox.engineio import encode_payload, decode_payload

    MESSAGE = EnginePacketType.MESSAGE
    encode_packet(EnginePacket(MESSAGE, "hi"))                     # '4hi'
    encode_packet(EnginePacket(MESSAGE, b"\x01"), eio=3)           # b'\x04\x01'
    encode_payload([EnginePacket(MESSAGE, "hi"), EnginePacket(MESSAGE, b"\x01")])
                                                                  # '4hi\x1ebAQ=='
    decode_payload("6:4hello2:4€", eio=3)                         # two MESSAGE packets

Wire compatible with npm engine.io-parser 5.2.3 (``eio=4``) and 2.2.1 (``eio=3``); the
deliberate (stricter) differences are listed in `siox.engineio.packet`, `siox.engineio.payload`
and `siox.engineio.payload_v3`. Decoders raise only `siox.errors.InvalidPacket` (HTTP 400, close
1002) and `siox.errors.PayloadTooLarge` (HTTP 413, close 1009) on peer input.

`EnginePacket` and `EnginePacketType` were ``Packet`` and ``PacketType`` (the names of the
Socket.IO packet classes of `siox.parser`); the old names still work, with a
``DeprecationWarning``.
"""

from __future__ import annotations

import warnings
from typing import Any

from .packet import (
    DEFAULT_MAX_PAYLOAD,
    EnginePacket,
    EnginePacketType,
    decode_packet,
    encode_packet,
)
from .payload import SEPARATOR, decode_payload, encode_payload
from .payload_v3 import EMPTY_PAYLOAD, utf16_length

__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "EMPTY_PAYLOAD",
    "SEPARATOR",
    "EnginePacket",
    "EnginePacketType",
    "decode_packet",
    "decode_payload",
    "encode_packet",
    "encode_payload",
    "utf16_length",
]

_RENAMED = {"Packet": "EnginePacket", "PacketType": "EnginePacketType"}


def __getattr__(name: str) -> Any:
    """The deprecated names of the renamed classes."""
    new = _RENAMED.get(name)
    if new is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"siox.engineio.{name} is now siox.engineio.{new}", DeprecationWarning, stacklevel=2
    )
    return globals()[new]
