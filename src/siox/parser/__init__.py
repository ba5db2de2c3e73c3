r"""Socket.IO packet parser (sans-I/O, standard library only; orjson used when installed).

The public API api.md fixes::

    from siox.parser import Packet, PacketType, encode, decode, Decoder
    encode(Packet(PacketType.EVENT, data=["hi", b"\\x00"]))
    # -> ['51-["hi",{"_placeholder":true,"num":0}]', b'\\x00']
    decoder = Decoder()
    decoder.feed('2["hi"]')                                    # [Packet(EVENT, "/", ["hi"], None)]

``protocol=5`` (default) is the current revision, ``protocol=4`` the socket.io 1.x/2.x one.
`siox.parser.rev1` is the seed's revision 1 and `siox.parser.msgpack` the msgpack parser.
For a configuration other than the defaults (JSON backend, limits), build a `Parser`.
"""

from __future__ import annotations

from .default import DEFAULT_MAX_ATTACHMENTS, MAX_ACK_ID, Decoder, Parser
from .packet import RESERVED_EVENTS, Packet, PacketType

__all__ = [
    "DEFAULT_MAX_ATTACHMENTS",
    "MAX_ACK_ID",
    "RESERVED_EVENTS",
    "Decoder",
    "Packet",
    "PacketType",
    "Parser",
    "decode",
    "encode",
    "protocol",
    "types",
]

#: The current protocol revision.
protocol = 5
#: Packet type names, indexed by type number.
types = [t.name for t in PacketType]

_PARSERS: dict[int, Parser] = {}


def _parser(revision: int) -> Parser:
    parser = _PARSERS.get(revision)
    if parser is None:
        parser = _PARSERS[revision] = Parser(protocol=revision)
    return parser


_CURRENT = Parser(protocol=5)
_encode_current = _CURRENT.encode
_decode_current = _CURRENT.decode
_PARSERS[5] = _CURRENT


def encode(packet: Packet, *, protocol: int = 5) -> list[str | bytes]:
    """Encode ``packet``: the text header first, then its binary attachments as ``bytes``.

    Raises:
        TypeError: the data holds values that are neither JSON data nor binary.
        ValueError: the packet cannot be valid on the wire.
    """
    if protocol == 5:
        return _encode_current(packet)
    return _parser(protocol).encode(packet)


def decode(text: str, *, protocol: int = 5) -> Packet:
    """Decode one text packet without attachments.

    Raises:
        siox.errors.InvalidPacket: the text is not a valid packet (or announces attachments).
    """
    if protocol == 5:
        return _decode_current(text)
    return _parser(protocol).decode(text)
