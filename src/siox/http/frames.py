"""Encode RFC 6455 frames and close payloads, and validate what a peer sends in them.

Everything here is a pure function of its arguments.  The stateful reading side (buffering,
reassembly, limits) lives in `siox.http.websocket`.

`frame_text` / `frame_binary` build the unmasked, uncompressed frames a *server* sends.  Those
bytes do not depend on the connection, so a broadcast frames a message once and writes the same
bytes to every server-side WebSocket, whether or not it negotiated permessage-deflate (RFC 7692
lets a sender leave any message uncompressed).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from ..errors import InvalidPacket
from ._mask import apply_mask

__all__ = [
    "MAX_CLOSE_REASON_BYTES",
    "MAX_CONTROL_PAYLOAD",
    "TEXT_HEADERS",
    "CloseCode",
    "FrameHeader",
    "Opcode",
    "binary_header",
    "encode_close_payload",
    "encode_frame",
    "frame_binary",
    "frame_text",
    "parse_close_payload",
    "read_frame_header",
    "truncate_close_reason",
]

MAX_CONTROL_PAYLOAD = 125
"""Largest payload of a control frame (RFC 6455 section 5.5)."""

MAX_CLOSE_REASON_BYTES = MAX_CONTROL_PAYLOAD - 2
"""Largest close reason, in UTF-8 bytes: a control payload less the two-byte code."""

_FIN = 0x80
_RSV1 = 0x40
_MASK_BIT = 0x80
_LEN16 = struct.Struct("!BBH")
_LEN64 = struct.Struct("!BBQ")
_U16 = struct.Struct("!H")
_U64 = struct.Struct("!Q")


class Opcode(IntEnum):
    """Frame opcodes (RFC 6455 section 5.2); every other value is reserved."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class CloseCode(IntEnum):
    """Close status codes registered by RFC 6455 section 7.4 and the IANA registry."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS = 1005
    ABNORMAL = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


# Codes a peer may put on the wire: the registered ones except those reserved for local use
# (1005, 1006, 1015), and the 3000-4999 ranges for libraries and applications.
_WIRE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})


#: Headers of unmasked FIN text frames with a 7-bit length, by length (the common case).
#: The header of an unmasked final text frame of ``size`` < 126 bytes: ``TEXT_HEADERS[size]``.
TEXT_HEADERS = tuple(bytes((0x81, size)) for size in range(126))

# Enum attribute access is slow on CPython 3.11: the per-frame code uses these.
_CL_NO_STATUS = CloseCode.NO_STATUS
_OP_BINARY = Opcode.BINARY
_OP_CLOSE = Opcode.CLOSE
_OP_TEXT = Opcode.TEXT


def _is_wire_code(code: int) -> bool:
    return code in _WIRE_CODES or 3000 <= code <= 4999


def encode_frame(
    opcode: int,
    payload: bytes | bytearray | memoryview,
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask_key: bytes | None = None,
) -> bytes:
    """Serialise one frame.

    Args:
        opcode: The frame opcode (`Opcode`).
        payload: The payload, already compressed when ``rsv1`` is set.
        fin: Whether this is the last frame of its message.
        rsv1: The "compressed" bit of permessage-deflate, set on a message's first frame only.
        mask_key: Four bytes to mask the payload with (a client must), or None to send it
            unmasked (a server must).

    Returns:
        The frame's bytes.
    """
    first = opcode | (_FIN if fin else 0) | (_RSV1 if rsv1 else 0)
    mask_bit = _MASK_BIT if mask_key is not None else 0
    size = len(payload)
    if size < 126:
        header = bytes((first, mask_bit | size))
    elif size < 65536:
        header = _LEN16.pack(first, mask_bit | 126, size)
    else:
        header = _LEN64.pack(first, mask_bit | 127, size)
    if mask_key is None:
        return header + payload
    return header + mask_key + apply_mask(payload, mask_key)


def frame_text(payload: bytes) -> bytes:
    """Frame already-encoded UTF-8 text as one unmasked, uncompressed server frame.

    The caller guarantees ``payload`` is valid UTF-8 (it came from ``str.encode()``); the
    result can be written unchanged to any number of server-side connections.

    Args:
        payload: UTF-8 text.

    Returns:
        The frame's bytes.
    """
    size = len(payload)
    if size < 126:
        return TEXT_HEADERS[size] + payload
    return encode_frame(_OP_TEXT, payload)


def frame_binary(payload: bytes | bytearray | memoryview) -> bytes:
    """Frame binary data as one unmasked, uncompressed server frame (see `frame_text`).

    Args:
        payload: The message.

    Returns:
        The frame's bytes.
    """
    return binary_header(len(payload)) + payload


def binary_header(size: int) -> bytes:
    """The header of an unmasked, uncompressed server BINARY frame of ``size`` payload bytes.

    Written before the payload itself (a vectored write), it frames a large message without
    copying it; ``binary_header(len(p)) + p`` is `frame_binary` of ``p``.

    Args:
        size: The payload's length.

    Returns:
        The header's bytes (2, 4 or 10).
    """
    if size < 126:
        return bytes((0x82, size))
    if size < 65536:
        return _LEN16.pack(0x82, 126, size)
    return _LEN64.pack(0x82, 127, size)


def truncate_close_reason(reason: str) -> bytes:
    """Encode a close reason as UTF-8 cut to at most 123 bytes, at a character boundary.

    Lone surrogates (which UTF-8 cannot carry) become ``?``.

    Args:
        reason: The reason text.

    Returns:
        At most `MAX_CLOSE_REASON_BYTES` bytes of valid UTF-8.

    Raises:
        TypeError: ``reason`` is not a ``str`` (bytes-like reasons are refused so that no
            unchecked bytes ever reach the wire).
    """
    if not isinstance(reason, str):
        raise TypeError(f"close reason must be str, not {type(reason).__name__}")
    encoded = reason.encode("utf-8", "replace")
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return encoded
    # Cutting may split the last character; decoding with "ignore" drops just that fragment.
    return encoded[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore").encode("utf-8")


def encode_close_payload(code: int | None = CloseCode.NORMAL, reason: str = "") -> bytes:
    """Build the payload of a close frame this side sends.

    Args:
        code: The status code, or None for an empty payload (which the peer reads as 1005).
        reason: Human-readable text, truncated as `truncate_close_reason` does.

    Returns:
        The payload: empty, or the two-byte code followed by the reason.

    Raises:
        TypeError: ``reason`` is not a ``str``, or ``code`` is not an ``int``.
        ValueError: ``code`` may not be sent (1005, 1006, 1015, or unassigned), or a reason
            was given without a code.
    """
    if code is None:
        if reason:
            raise ValueError("a close reason needs a close code")
        return b""
    checked: object = code  # the annotation is a promise the caller may break
    if not isinstance(checked, int) or isinstance(checked, bool):
        raise TypeError(f"close code must be int, not {type(checked).__name__}")
    if not _is_wire_code(code):
        raise ValueError(f"close code {code} may not be sent")
    return _U16.pack(code) + truncate_close_reason(reason)


def parse_close_payload(payload: bytes) -> tuple[int, str]:
    """Read the payload of a close frame a peer sent.

    Args:
        payload: At most 125 bytes.

    Returns:
        ``(code, reason)``; an empty payload gives ``(1005, "")``.

    Raises:
        InvalidPacket: a one-byte payload or a code that may not appear on the wire (close
            1002), or a reason that is not UTF-8 (close 1007).
    """
    if not payload:
        return _CL_NO_STATUS, ""
    if len(payload) == 1:
        raise InvalidPacket("close frame with a one-byte payload", ws_close_code=1002)
    (code,) = _U16.unpack_from(payload)
    if not _is_wire_code(code):
        raise InvalidPacket(f"close frame with invalid code {code}", ws_close_code=1002)
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidPacket("close reason is not valid UTF-8", ws_close_code=1007) from exc
    return code, reason


_KNOWN_OPCODES = frozenset(int(op) for op in Opcode)


@dataclass(slots=True)  # not frozen: built once per frame, on the hot path
class FrameHeader:
    """A decoded frame header.

    Attributes:
        fin: Last frame of its message.
        rsv1: The permessage-deflate "compressed" bit.
        opcode: The opcode (one of `Opcode`).
        masked: A masking key follows the length.
        length: Payload length in bytes.
        size: Header length in bytes, masking key included.
    """

    fin: bool
    rsv1: bool
    opcode: int
    masked: bool
    length: int
    size: int


def read_frame_header(
    buffer: bytes | bytearray, *, masked: bool, compression: bool
) -> FrameHeader | None:
    """Decode and check the header at the start of ``buffer``.

    Checks what the header alone decides (RFC 6455 section 5.2, RFC 7692 section 6): reserved
    bits and opcodes, the mask bit for the sender's role, control-frame rules, and the 64-bit
    length's top bit.  Whether a continuation fits, and size limits, are the caller's checks.
    Non-minimal length encodings are tolerated, as npm ``ws`` and browsers do.

    Args:
        buffer: Received bytes, starting at a frame boundary.
        masked: Whether frames must be masked (true when reading a client's frames).
        compression: Whether permessage-deflate was agreed (RSV1 allowed on a message's
            first frame).

    Returns:
        The header, or None until enough bytes arrived to decode it.

    Raises:
        InvalidPacket: The header breaks the protocol (close 1002).
    """
    if len(buffer) < 2:
        return None
    first, second = buffer[0], buffer[1]
    fin, rsv1, opcode = bool(first & 0x80), bool(first & 0x40), first & 0x0F
    mask_bit, length = bool(second & 0x80), second & 0x7F
    if first & 0x30:
        raise InvalidPacket("RSV2 or RSV3 set")
    if opcode not in _KNOWN_OPCODES:
        raise InvalidPacket(f"reserved opcode {opcode:#x}")
    if mask_bit is not masked:
        raise InvalidPacket("client frames must be masked and server frames must not be")
    if opcode >= _OP_CLOSE and (not fin or length > MAX_CONTROL_PAYLOAD):
        raise InvalidPacket("fragmented or oversized control frame")
    if rsv1 and (not compression or opcode not in (_OP_TEXT, _OP_BINARY)):
        raise InvalidPacket("RSV1 set without permessage-deflate or not on a message start")
    size = 2
    if length == 126:
        if len(buffer) < 4:
            return None
        (length,) = _U16.unpack_from(buffer, 2)
        size = 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        (length,) = _U64.unpack_from(buffer, 2)
        size = 10
        if length >> 63:
            raise InvalidPacket("frame length with the most significant bit set")
    return FrameHeader(fin, rsv1, opcode, mask_bit, length, size + 4 if mask_bit else size)
