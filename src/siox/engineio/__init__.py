r"""Engine.IO v4 and v3 codecs: packets (WebSocket frames) and polling payloads (sans-I/O).

The public API::

    from siox.engineio import Packet, PacketType, encode_packet, decode_packet
    from siox.engineio import encode_payload, decode_payload

    encode_packet(Packet(PacketType.MESSAGE, "hi"))               # '4hi'
    encode_packet(Packet(PacketType.MESSAGE, b"\x01"), eio=3)      # b'\x04\x01'
    encode_payload([Packet(PacketType.MESSAGE, "hi"), Packet(PacketType.MESSAGE, b"\x01")])
                                                                  # '4hi\x1ebAQ=='
    decode_payload("6:4hello2:4€", eio=3)                         # two MESSAGE packets

Wire compatible with npm engine.io-parser 5.2.3 (``eio=4``) and 2.2.1 (``eio=3``); the
deliberate (stricter) differences are listed in `siox.engineio.packet`, `siox.engineio.payload`
and `siox.engineio.payload_v3`. Decoders raise only `siox.errors.InvalidPacket` (HTTP 400, close
1002) and `siox.errors.PayloadTooLarge` (HTTP 413, close 1009) on peer input.
"""

from __future__ import annotations

from .packet import DEFAULT_MAX_PAYLOAD, Packet, PacketType, decode_packet, encode_packet
from .payload import SEPARATOR, decode_payload, encode_payload
from .payload_v3 import EMPTY_PAYLOAD, utf16_length

__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "EMPTY_PAYLOAD",
    "SEPARATOR",
    "Packet",
    "PacketType",
    "decode_packet",
    "decode_payload",
    "encode_packet",
    "encode_payload",
    "utf16_length",
]
