r"""The Engine.IO packet model and the codec for one packet (the content of one WebSocket frame).

Wire format of one packet (protocol.md sections 3.2 and 4)::

    text packet      "<type digit 0-6><text>"          both revisions, a text frame
    binary message   <raw bytes>                       v4, a binary frame
                     b"\x04" + <raw bytes>             v3, a binary frame (the type byte)
    base64 message   "b<base64>"                       v4, a text frame (``b64=True``)
                     "b4<base64>"                      v3, a text frame (``b64=True``)

The decoder follows npm engine.io-parser 5.2.3 (``eio=4``) and 2.2.1 (``eio=3``), except where a
strict answer is safer; every such difference raises `InvalidPacket` (HTTP 400, close 1002):

* base64 is strict: only the standard alphabet, correct ``=`` padding, nothing after the
  padding (Node's ``Buffer.from(s, "base64")`` skips garbage, accepts the URL-safe alphabet and
  missing padding);
* a bytes frame that is used as text (v3 payload records, bodies passed as bytes) must be valid
  UTF-8 (Node substitutes U+FFFD);
* v3: a binary packet (``b<digit>`` text or a binary frame) must be a MESSAGE (type byte 4);
  npm accepts any type and yields an undefined one for an empty frame or an unknown byte.

A text frame starting with ``b`` is a base64 binary MESSAGE in both revisions, as in npm: clients
started with ``forceBase64`` (or ``b64=1``) send binary that way over WebSocket too.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal, overload

from ..errors import InvalidPacket, PayloadTooLarge
from ..options import DEFAULT_LIMITS

__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "EnginePacket",
    "EnginePacketType",
    "decode_packet",
    "encode_message",
    "encode_packet",
]

#: Default for ``max_payload`` (bytes), engine.io's ``maxHttpBufferSize`` default.
DEFAULT_MAX_PAYLOAD = DEFAULT_LIMITS.max_http_buffer_size


class EnginePacketType(IntEnum):
    """Engine.IO packet types; the value is the digit that starts a text packet."""

    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


@dataclass(frozen=True, slots=True)
class EnginePacket:
    """One Engine.IO packet.

    Attributes:
        type: the packet type.
        data: the payload: ``str`` for a text packet (``""`` when there is none), ``bytes`` for
            a binary MESSAGE (the only packet that may carry binary).
        compress: whether the transport may compress it (a write option, as engine.io's
            ``options.compress``: gzip for a polling response, permessage-deflate for a
            WebSocket message); not part of the packet's value.
    """

    type: EnginePacketType
    data: str | bytes = ""
    compress: bool = field(default=True, compare=False)

    @property
    def binary(self) -> bool:
        """Whether this is a binary message (``data`` is bytes)."""
        return not isinstance(self.data, str)


# Enum hashing is a Python-level call on CPython 3.11; hot paths index tuples by the type value
# (an IntEnum indexes like an int) and look up str keys instead.
_MESSAGE = EnginePacketType.MESSAGE
_TYPES = tuple(EnginePacketType)
_DIGIT_OF_TYPE = tuple(str(t.value) for t in EnginePacketType)
_TYPE_OF_CHAR = {str(t.value): t for t in EnginePacketType}
_ERROR_SNIPPET = 40


def check_eio(eio: int) -> None:
    """Raise `ValueError` unless ``eio`` is a supported Engine.IO revision (3 or 4)."""
    if eio != 4 and eio != 3:
        raise ValueError(f"unsupported Engine.IO revision {eio!r} (3 or 4)")


def snippet(text: str | bytes) -> str:
    """A short printable excerpt of peer input for an error message."""
    if len(text) > _ERROR_SNIPPET:
        return f"{text[:_ERROR_SNIPPET]!r}... ({len(text)} in all)"
    return repr(text)


def type_digit(packet_type: int) -> str:
    """The type digit of ``packet_type``; `ValueError` when it is not a packet type."""
    if type(packet_type) is not EnginePacketType and not (
        type(packet_type) is int and 0 <= packet_type < len(_TYPES)
    ):
        raise ValueError(f"unknown Engine.IO packet type {packet_type!r}")
    return _DIGIT_OF_TYPE[packet_type]


def b64encode(data: bytes | bytearray | memoryview) -> str:
    """Standard base64 with padding, as Node's ``Buffer.toString("base64")``."""
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def b64decode_strict(text: str) -> bytes:
    """Decode strict standard base64 (padding required, nothing else allowed).

    Raises:
        InvalidPacket: ``text`` is not exactly a padded base64 string.
    """
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: a non-ASCII character
        raise InvalidPacket(f"invalid base64 in a binary packet ({exc}): {snippet(text)}") from exc


def text_of(body: str | bytes | bytearray | memoryview, what: str) -> str:
    """``body`` as text: a str as is, bytes decoded as strict UTF-8.

    Raises:
        InvalidPacket: the bytes are not valid UTF-8.
        TypeError: ``body`` is neither str nor bytes-like.
    """
    if isinstance(body, str):
        return body
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} must be str or bytes, not {type(body).__name__}")
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidPacket(f"{what} is not valid UTF-8: {exc.reason} at byte {exc.start}") from exc


def check_size(body: str | bytes | bytearray | memoryview, max_payload: int) -> None:
    """Raise `PayloadTooLarge` when ``body`` is more than ``max_payload`` bytes (UTF-8 for str)."""
    if max_payload < 0:
        raise ValueError(f"max_payload must be >= 0, not {max_payload!r}")
    if isinstance(body, str):
        size = len(body)
        # One character is 1 to 4 bytes: only measure when the answer is in doubt.
        if size <= max_payload < 4 * size and not body.isascii():
            size = len(body.encode("utf-8", "surrogatepass"))
    elif isinstance(body, memoryview):
        size = body.nbytes
    elif isinstance(body, (bytes, bytearray)):
        size = len(body)
    else:
        raise TypeError(f"a payload must be str or bytes, not {type(body).__name__}")
    if size > max_payload:
        raise PayloadTooLarge(f"payload of {size} bytes exceeds max_payload={max_payload}")


def decode_text_packet(text: str, eio: int) -> EnginePacket:
    """Decode one text packet (a text frame or one payload record) of revision ``eio``.

    Raises:
        InvalidPacket: empty, unknown type, or a bad base64 packet.
    """
    head = text[:1]
    packet_type = _TYPE_OF_CHAR.get(head)
    if packet_type is not None:
        return EnginePacket(packet_type, text[1:])
    if head == "b":
        if eio == 4:
            return EnginePacket(_MESSAGE, b64decode_strict(text[1:]))
        if text[1:2] != "4":
            raise InvalidPacket(
                f"a v3 base64 packet must be a message ('b4...'), got {snippet(text)}"
            )
        return EnginePacket(_MESSAGE, b64decode_strict(text[2:]))
    if not text:
        raise InvalidPacket("empty Engine.IO packet")
    raise InvalidPacket(f"unknown Engine.IO packet type {head!r} in {snippet(text)}")


def encode_packet(packet: EnginePacket, *, eio: int = 4, b64: bool = False) -> str | bytes:
    r"""Encode ``packet`` as the content of one WebSocket frame.

    Args:
        packet: the packet; only a MESSAGE may carry bytes.
        eio: the Engine.IO revision, 4 or 3.
        b64: send a binary message as base64 text (``"b<base64>"``, v3 ``"b4<base64>"``), for
            clients that asked for it with ``b64=1``. Text packets are unaffected.

    Returns:
        ``str`` (a text frame) for text packets and with ``b64``; otherwise ``bytes`` (a binary
        frame): the raw data in v4, ``b"\x04"`` + data in v3.

    Raises:
        ValueError: unknown packet type, binary data on a packet other than MESSAGE, or an
            unsupported ``eio``.
    """
    check_eio(eio)
    data = packet.data
    if packet.type == _MESSAGE:
        return encode_message(data, eio, b64)
    if isinstance(data, str):
        return type_digit(packet.type) + data
    raise ValueError(f"only a MESSAGE packet can carry binary data, not {packet.type!r}")


@overload
def encode_message(data: str, eio: int, b64: bool) -> str: ...
@overload
def encode_message(data: bytes, eio: int, b64: Literal[True]) -> str: ...
@overload
def encode_message(data: bytes, eio: int, b64: Literal[False]) -> bytes: ...
@overload
def encode_message(data: str | bytes, eio: int, b64: bool) -> str | bytes: ...
def encode_message(data: str | bytes, eio: int, b64: bool) -> str | bytes:
    r"""Frame one MESSAGE: the only place siox writes the ``"4"`` / ``b"\x04"`` / base64 forms.

    The session's outbox (`encode_packet`), its direct writes on a steady WebSocket
    (`siox.engineio.machine.SessionCore.send_direct`) and the broadcast frame cache
    (`siox.core.outgoing.build_frames`) all call this.

    Args:
        data: ``str`` for a text message, ``bytes`` for a binary one.
        eio: the Engine.IO revision, 4 or 3 (not checked here: the callers have checked it).
        b64: binary as base64 text (``"b<base64>"``, v3 ``"b4<base64>"``).

    Returns:
        ``"4" + data`` for text; for binary the raw bytes (v4), ``b"\x04" + data`` (v3), or the
        base64 text with ``b64``.
    """
    if isinstance(data, str):
        return "4" + data
    if b64:
        return ("b" if eio == 4 else "b4") + b64encode(data)
    return bytes(data) if eio == 4 else b"\x04" + data


def decode_packet(frame: str | bytes, *, eio: int = 4) -> EnginePacket:
    """Decode the content of one WebSocket frame.

    Args:
        frame: a text frame as ``str``, a binary frame as ``bytes`` (or another bytes-like).
        eio: the Engine.IO revision, 4 or 3.

    Returns:
        The packet. A binary frame is always a binary MESSAGE (v4: all of its bytes; v3: the
        bytes after the type byte, which must be 4).

    Raises:
        InvalidPacket: the frame is not a valid packet (empty text, unknown type, bad base64,
            v3 binary frame without the message type byte).
        TypeError: ``frame`` is neither str nor bytes-like.
        ValueError: unsupported ``eio``.
    """
    check_eio(eio)
    if isinstance(frame, str):
        return decode_text_packet(frame, eio)
    if not isinstance(frame, (bytes, bytearray, memoryview)):
        raise TypeError(f"a frame must be str or bytes, not {type(frame).__name__}")
    if eio == 4:
        return EnginePacket(_MESSAGE, bytes(frame))
    data = bytes(frame)
    if not data:
        raise InvalidPacket("empty v3 binary frame (the packet type byte is missing)")
    if data[0] != _MESSAGE:
        raise InvalidPacket(f"a v3 binary frame must be a message (type byte 4), got {data[0]}")
    return EnginePacket(_MESSAGE, data[1:])
