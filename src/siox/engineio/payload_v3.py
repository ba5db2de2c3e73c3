"""Engine.IO v3 polling payloads: length-prefixed text and the XHR2 binary payload format.

Text payload (protocol.md section 4)::

    payload = 1*( length ":" packet )          e.g. "6:4hello2:4€10:b4AQIDBA=="
    length  = the packet's length in UTF-16 code units, as JavaScript's String.length

An astral character (outside the BMP) counts 2, so Python's ``len()`` is wrong; lengths are
measured on the UTF-16 encoding (in C, linear) unless the text is ASCII. The empty payload is
``"0:"``; a zero-length record stands for no packet, as in npm. (hostile-inputs.md row E04 lists
``"0:"`` among the parser errors; npm encodes an empty list as ``"0:"`` and decodes it to no
packets, and the reference behaviour wins, so ``"0:"`` decodes to ``[]``. An empty body ``""``
is an error, as in npm.)

Binary payload (request/response ``Content-Type: application/octet-stream``)::

    record = flag 1*digit 0xFF bytes           flag 0 = text, 1 = binary; each digit one byte 0-9
                                               giving the byte length of what follows
    text   = UTF-8 of "<type digit><text>"     binary = 0x04 + the message bytes

Deliberate differences from npm engine.io-parser 2.2.1 (each raises `InvalidPacket`):

* a length prefix is 1-15 ASCII digits (npm's ``Number()`` also takes ``" 1"``, ``"1e1"``,
  ``"0x1"``, ``"+1"``; fifteen digits exceed any payload size limit);
* a v3 text payload must not contain lone surrogates (npm counts one as a unit and passes it
  on); a length that ends inside a surrogate pair is refused as such (npm fails on the next
  length prefix, which then starts with the pair's low half);
* binary payload: the flag byte is 0 or 1 (npm takes any non-zero byte as binary); each length
  digit is a byte 0-9 (npm joins the decimal values of whatever bytes precede the next 0xFF, so
  ``0a`` reads as "10"); the whole record must be present (npm silently truncates a short one);
  a record is never empty, and a binary one is a MESSAGE (first byte 4; npm yields an undefined
  or other type); a text record is strict UTF-8, encoded surrogates included (npm's utf8.js
  turns those into U+FFFD).

Encoding follows npm exactly; text containing lone surrogates is refused with `ValueError`
(npm counts them as one unit, or replaces them with U+FFFD in the binary format).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import InvalidPacket
from .packet import (
    EnginePacket,
    EnginePacketType,
    decode_text_packet,
    encode_message,
    snippet,
    type_digit,
)

__all__ = ["EMPTY_PAYLOAD", "decode_payload_v3", "encode_payload_v3", "utf16_length"]

#: The v3 encoding of an empty packet list (npm sends it; it decodes to no packets).
EMPTY_PAYLOAD = "0:"

_MESSAGE = EnginePacketType.MESSAGE
_TYPE_OF_CHAR = {str(t.value): t for t in EnginePacketType}
_TEXT_LENGTH = re.compile(r"([0-9]{1,15}):")
_UTF16_LENGTH = re.compile(rb"((?:[0-9]\x00){1,15}):\x00")
_BINARY_HEADER = re.compile(rb"([\x00\x01])([\x00-\x09]{1,15})\xff")
_DIGITS_TO_ASCII = bytes.maketrans(bytes(range(10)), b"0123456789")
_ASCII_TO_DIGITS = bytes.maketrans(b"0123456789", bytes(range(10)))


def utf16_length(text: str) -> int:
    """``text``'s length in UTF-16 code units (JavaScript's ``String.length``).

    Raises:
        ValueError: ``text`` holds a lone surrogate (it cannot be sent as UTF-8).
    """
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-16-le")) >> 1
    except UnicodeEncodeError as exc:
        raise ValueError(f"text holds a lone surrogate at index {exc.start}") from None


def _text_record(packet: EnginePacket) -> str:
    data = packet.data
    if isinstance(data, str):
        return type_digit(packet.type) + data
    if packet.type != _MESSAGE:
        raise ValueError(f"only a MESSAGE packet can carry binary data, not {packet.type!r}")
    return encode_message(data, 3, True)  # "b4<base64>"


def _binary_record(packet: EnginePacket) -> bytes:
    data = packet.data
    if isinstance(data, str):
        try:
            body = (type_digit(packet.type) + data).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"text holds a lone surrogate at index {exc.start - 1}") from None
        flag = b"\x00"
    else:
        if packet.type != _MESSAGE:
            raise ValueError(f"only a MESSAGE packet can carry binary data, not {packet.type!r}")
        body = encode_message(data, 3, False)  # b"\x04" + data
        flag = b"\x01"
    length = str(len(body)).encode("ascii").translate(_ASCII_TO_DIGITS)
    return flag + length + b"\xff" + body


def encode_payload_v3(packets: Sequence[EnginePacket], *, b64: bool = False) -> str | bytes:
    """Encode ``packets`` as one v3 polling body.

    Args:
        packets: the packets, in order.
        b64: the client asked for base64 (``b64=1``, no XHR2 binary support).

    Returns:
        ``"0:"`` for no packets; the binary payload format (``bytes``, to be served as
        ``application/octet-stream``) when a packet is binary and ``b64`` is false; otherwise
        length-prefixed text, binary messages as ``b4<base64>`` records.

    Raises:
        ValueError: a packet cannot be encoded (see `encode_packet`), or text holds a lone
            surrogate.
    """
    if not packets:
        return EMPTY_PAYLOAD
    if not b64 and any(not isinstance(packet.data, str) for packet in packets):
        return b"".join([_binary_record(packet) for packet in packets])
    parts = []
    for packet in packets:
        record = _text_record(packet)
        parts.append(f"{utf16_length(record)}:{record}")
    return "".join(parts)


def decode_payload_v3(body: str | bytes, *, binary: bool = False) -> list[EnginePacket]:
    """Decode one v3 polling body (no size check: `decode_payload` does it).

    Args:
        body: the body; text may be given as str or as UTF-8 bytes (a binary body given as
            str is taken as its UTF-8 bytes).
        binary: the body is in the binary payload format (``application/octet-stream``).

    Returns:
        The packets, in order.

    Raises:
        InvalidPacket: the body is malformed (any record: the whole body is refused).
        TypeError: ``binary`` with a str body, or a body that is neither str nor bytes.
    """
    if binary:
        if isinstance(body, str):  # the bytes it stands for (it cannot hold the 0xFF markers)
            try:
                body = body.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InvalidPacket(
                    f"binary payload holds a lone surrogate at {exc.start}"
                ) from exc
        elif not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(f"a binary payload must be bytes, not {type(body).__name__}")
        return _decode_binary(bytes(body))
    if not isinstance(body, str):
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(f"a payload must be str or bytes, not {type(body).__name__}")
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidPacket(
                f"payload is not valid UTF-8: {exc.reason} at byte {exc.start}"
            ) from exc
    if not body:
        raise InvalidPacket("empty v3 payload (an empty packet list is '0:')")
    if body.isascii():
        return _decode_text(body)
    try:
        utf16 = body.encode("utf-16-le")
    except UnicodeEncodeError as exc:
        raise InvalidPacket(f"v3 payload holds a lone surrogate at index {exc.start}") from exc
    if len(utf16) == 2 * len(body):  # no astral character: code points are code units
        return _decode_text(body)
    return _decode_utf16(utf16)


def _bad_length(excerpt: str, pos: int) -> InvalidPacket:
    return InvalidPacket(f"bad v3 length prefix at code unit {pos}: {snippet(excerpt)}")


def _overrun(length: int, available: int) -> InvalidPacket:
    return InvalidPacket(f"v3 record length {length} overruns the payload ({available} left)")


def _decode_text(body: str) -> list[EnginePacket]:
    """Decode a text payload in which every character is one UTF-16 code unit."""
    packets = []
    end_of_body = len(body)
    pos = 0
    match_length = _TEXT_LENGTH.match
    type_of_char = _TYPE_OF_CHAR
    while pos < end_of_body:
        match = match_length(body, pos)
        if match is None:
            raise _bad_length(body[pos : pos + 20], pos)
        start = match.end()
        end = start + int(match.group(1))
        if end > end_of_body:
            raise _overrun(end - start, end_of_body - start)
        if end > start:
            # The common case inline (a type digit); decode_text_packet for the rest.
            packet_type = type_of_char.get(body[start])
            if packet_type is not None:
                packets.append(EnginePacket(packet_type, body[start + 1 : end]))
            else:
                packets.append(decode_text_packet(body[start:end], 3))
        pos = end
    return packets


def _decode_utf16(utf16: bytes) -> list[EnginePacket]:
    """Decode a text payload given as its UTF-16-LE encoding (offsets are 2 bytes per unit)."""
    packets = []
    end_of_body = len(utf16)
    pos = 0
    match_length = _UTF16_LENGTH.match
    type_of_char = _TYPE_OF_CHAR
    while pos < end_of_body:
        match = match_length(utf16, pos)
        if match is None:
            raise _bad_length(utf16[pos : pos + 40].decode("utf-16-le", "replace"), pos >> 1)
        start = match.end()
        end = start + 2 * int(match.group(1)[::2])
        if end > end_of_body:
            raise _overrun((end - start) >> 1, (end_of_body - start) >> 1)
        try:
            record = utf16[start:end].decode("utf-16-le")
        except UnicodeDecodeError:
            raise InvalidPacket(
                f"v3 record at unit {start >> 1} cuts a surrogate pair (bad length)"
            ) from None
        if record:
            packet_type = type_of_char.get(record[0])
            if packet_type is not None:
                packets.append(EnginePacket(packet_type, record[1:]))
            else:
                packets.append(decode_text_packet(record, 3))
        pos = end
    return packets


def _decode_binary(body: bytes) -> list[EnginePacket]:
    """Decode the v3 binary payload format."""
    packets = []
    end_of_body = len(body)
    pos = 0
    match_header = _BINARY_HEADER.match
    while pos < end_of_body:
        match = match_header(body, pos)
        if match is None:
            raise InvalidPacket(
                f"bad v3 binary payload record header at byte {pos}: "
                f"{snippet(body[pos : pos + 20])}"
            )
        start = match.end()
        end = start + int(match.group(2).translate(_DIGITS_TO_ASCII))
        if end > end_of_body:
            raise _overrun(end - start, end_of_body - start)
        record = body[start:end]
        if match.group(1) == b"\x00":
            try:
                text = record.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidPacket(
                    f"v3 binary payload text record at byte {start} is not valid UTF-8: "
                    f"{exc.reason}"
                ) from None
            packets.append(decode_text_packet(text, 3))
        elif record[:1] == b"\x04":
            packets.append(EnginePacket(_MESSAGE, record[1:]))
        else:
            raise InvalidPacket(
                f"v3 binary payload record at byte {start} is not a message "
                f"(type byte {record[:1]!r})"
            )
        pos = end
    return packets
