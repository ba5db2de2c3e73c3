"""Revision 1 of the Socket.IO protocol: the seed's parser API, as a codec only.

The seed (the revision 1 text of the socket.io-protocol repository) defines::

    encode(packet) -> str            "Encodes a Packet object as a string."
    decode(str) -> Packet            "If a parsing error occurs the returned packet is an
                                     error object."
    types                            "Array of packet type keys."

with five packet types, CONNECT 0, DISCONNECT 1, EVENT 2, ACK 3 and ERROR 4, JSON-only payloads
and no binary. siox represents ERROR with `PacketType.CONNECT_ERROR` (the same number 4, renamed
in revision 5). No server or client speaks revision 1: nothing shipped it.

Differences from revision 5 this codec keeps (protocol.md section 2.1):

* the encoder writes the ``,`` after a namespace only when an id or data follows
  (``1/admin``, ``2/admin,["x"]``); the decoder accepts both forms;
* any JSON payload is accepted for any type (no per-type checks, no reserved event names);
* a bare number payload right after the header reads back as an ack id (``2`` + ``0`` is
  ``20``), an ambiguity of the revision-1 grammar that the original decoder had too;
* a parse failure never raises: `decode` returns ``Packet(CONNECT_ERROR, "/", "parser error")``.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidPacket
from ..jsonbackend import JsonBackend, default_backend
from .packet import Packet, PacketType, make_packet

__all__ = ["ERROR", "decode", "encode", "parser_error", "protocol", "types"]

#: The revision this module implements.
protocol = 1
#: Packet type keys, indexed by type number.
types = ["CONNECT", "DISCONNECT", "EVENT", "ACK", "ERROR"]
#: Revision 1's ERROR type (named CONNECT_ERROR from revision 5 on).
ERROR = PacketType.CONNECT_ERROR

_TYPE_OF_CHAR = {str(number): PacketType(number) for number in range(len(types))}
_DIGITS = re.compile(r"[0-9]+")
_MAX_ID = 2**53 - 1


def parser_error() -> Packet:
    """The error packet `decode` returns for input it cannot parse."""
    return Packet(ERROR, "/", "parser error")


def encode(packet: Packet, *, json: JsonBackend | None = None) -> str:
    """Encode a revision-1 packet as a string.

    Raises:
        ValueError: a type outside 0-4, a namespace not starting with ``/`` or holding a ``,``,
            or an ack id that is not a non-negative integer.
        TypeError: data that is not JSON data (revision 1 has no binary).
    """
    ptype: Any = packet.type
    if type(ptype) is bool or not isinstance(ptype, int) or not 0 <= ptype < len(types):
        raise ValueError(f"revision 1 has no packet type {ptype!r}")
    text = str(int(ptype))
    pending_comma = False
    nsp: Any = packet.nsp
    if nsp != "/":
        if not isinstance(nsp, str) or not nsp.startswith("/") or "," in nsp:
            raise ValueError(f"invalid namespace {nsp!r}")
        text += nsp
        pending_comma = True
    if packet.id is not None:
        if type(packet.id) is not int or not 0 <= packet.id <= _MAX_ID:
            raise ValueError(f"invalid ack id {packet.id!r}")
        if pending_comma:
            text += ","
            pending_comma = False
        text += str(packet.id)
    if packet.data is not None:
        if pending_comma:
            text += ","
        text += (json or default_backend()).dumps(packet.data)
    return text


def decode(text: str, *, json: JsonBackend | None = None) -> Packet:
    """Decode a revision-1 packet; never raises.

    Returns:
        The packet, or ``Packet(PacketType.CONNECT_ERROR, "/", "parser error")`` (ERROR) when
        ``text`` is not a valid revision-1 packet.
    """
    if type(text) is not str:
        return parser_error()
    ptype = _TYPE_OF_CHAR.get(text[:1])
    if ptype is None:
        return parser_error()
    size = len(text)
    index = 1
    nsp = "/"
    if index < size and text[index] == "/":
        comma = text.find(",", index)
        end = size if comma < 0 else comma
        nsp = text[index:end]
        index = end + 1 if comma >= 0 else size
    ack_id = None
    if index < size and "0" <= text[index] <= "9":
        match = _DIGITS.match(text, index)
        assert match is not None
        if len(match.group()) > 16 or int(match.group()) > _MAX_ID:
            return parser_error()
        ack_id = int(match.group())
        index = match.end()
    data = None
    if index < size:
        try:
            data = (json or default_backend()).loads(text[index:])
        except InvalidPacket:
            return parser_error()
    return make_packet(ptype, nsp, data, ack_id)
