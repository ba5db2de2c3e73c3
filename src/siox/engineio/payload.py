r"""Engine.IO polling payloads (several packets in one HTTP body): v4 framing and the entry points.

v4 payload (protocol.md section 3.5)::

    payload = record *( "\x1e" record )
    record  = "<type digit><text>"  /  "b<base64>"        (a "b" record is a binary MESSAGE)

Always text (``text/plain; charset=UTF-8``). `encode_payload` and `decode_payload` take ``eio=3``
for the v3 formats, implemented in `siox.engineio.payload_v3`.

Deliberate differences from npm engine.io-parser 5.2.3:

* decoding is all or nothing: one bad record refuses the whole body with `InvalidPacket`, where
  npm returns the packets before it followed by an error packet (and engine.io handles those
  packets before closing the session); base64 is strict (see `siox.engineio.packet`);
* a body given as bytes must be valid UTF-8 (Node substitutes U+FFFD);
* `encode_payload` refuses (`ValueError`) a text packet containing the separator ``"\x1e"``:
  npm writes it as is, and the peer then splits it into several packets, so application text
  could inject Engine.IO packets (e.g. ``"x\x1e1"`` would close the session);
* `encode_payload` refuses (`ValueError`) an empty v4 packet list: npm's encoder never calls its
  callback for one, and the obvious body ``""`` is a parse error for every v4 decoder (npm's
  included). Send a NOOP packet instead. (v3 has a real empty payload, ``"0:"``.)
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import fastpaths
from ..errors import InvalidPacket
from .packet import (
    DEFAULT_MAX_PAYLOAD,
    EnginePacket,
    EnginePacketType,
    b64decode_strict,
    check_eio,
    check_size,
    decode_text_packet,
    encode_message,
    text_of,
    type_digit,
)
from .payload_v3 import decode_payload_v3, encode_payload_v3

__all__ = ["SEPARATOR", "decode_payload", "encode_payload"]

#: The v4 record separator (ASCII RS).
SEPARATOR = "\x1e"

_MESSAGE = EnginePacketType.MESSAGE
_TYPE_OF_CHAR = {str(t.value): t for t in EnginePacketType}
# IntEnum members hash as their int (in C): a dict lookup, no Python-level call.
_DIGIT_OF = {t: str(t.value) for t in EnginePacketType}


def encode_payload(
    packets: Sequence[EnginePacket], *, eio: int = 4, b64: bool = False
) -> str | bytes:
    r"""Encode ``packets`` as one polling response body.

    Args:
        packets: the packets, in order (at least one for v4).
        eio: the Engine.IO revision, 4 or 3.
        b64: v3 only: the client asked for base64 (``b64=1``). Without it a v3 payload that holds
            a binary packet uses the binary payload format. v4 payloads always carry binary as
            ``b<base64>`` records, so v4 ignores this flag.

    Returns:
        v4: ``str``, the records joined with ``"\x1e"``. v3: see `encode_payload_v3`
        (``"0:"`` for no packets; ``bytes`` in the binary format, served as
        ``application/octet-stream``).

    Raises:
        ValueError: an empty v4 list, a v4 text packet containing ``"\x1e"``, binary data on a
            packet other than MESSAGE, an unknown packet type or an unsupported ``eio``.
    """
    if eio == 3:
        return encode_payload_v3(packets, b64=b64)
    check_eio(eio)
    if not packets:
        raise ValueError("a v4 payload holds at least one packet (send a NOOP packet instead)")
    if fastpaths.ENABLED:
        # Fast path: text packets only, joined at once; the separators counted afterwards
        # prove that no packet held one (binary data or an unknown type: the general path).
        try:
            body = SEPARATOR.join([_DIGIT_OF[packet.type] + packet.data for packet in packets])  # type: ignore[operator]
        except (KeyError, TypeError):
            pass
        else:
            if body.count(SEPARATOR) == len(packets) - 1:
                return body
    records = []
    for packet in packets:
        data = packet.data
        if isinstance(data, str):
            if SEPARATOR in data:
                raise ValueError(
                    "a text packet sent over v4 polling must not contain the record separator "
                    "'\\x1e' (the peer would split it into several packets)"
                )
            records.append(type_digit(packet.type) + data)
        elif packet.type == _MESSAGE:
            records.append(encode_message(data, 4, True))  # "b<base64>"
        else:
            raise ValueError(f"only a MESSAGE packet can carry binary data, not {packet.type!r}")
    return SEPARATOR.join(records)


def decode_payload(
    body: str | bytes,
    *,
    eio: int = 4,
    binary: bool = False,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
) -> list[EnginePacket]:
    """Decode one polling request body.

    Args:
        body: the body, as str or as the bytes received (text bodies must be UTF-8).
        eio: the Engine.IO revision, 4 or 3.
        binary: the request's Content-Type was ``application/octet-stream``: the v3 binary
            payload format. A v4 body is never binary, so this is an `InvalidPacket` for v4.
        max_payload: the largest body accepted, in bytes (UTF-8 bytes for a str body); the I/O
            layer should also stop reading at this size.

    Returns:
        The packets, in order (never empty for v4; ``"0:"`` gives ``[]`` in v3).

    Raises:
        PayloadTooLarge: the body is more than ``max_payload`` bytes (HTTP 413).
        InvalidPacket: the body is malformed (HTTP 400); no packet of it is returned.
        TypeError: ``body`` is neither str nor bytes.
        ValueError: an unsupported ``eio`` or a negative ``max_payload``.
    """
    check_eio(eio)
    check_size(body, max_payload)
    if eio == 3:
        return decode_payload_v3(body, binary=binary)
    if binary:
        raise InvalidPacket("a v4 payload is never binary (Content-Type application/octet-stream)")
    records = text_of(body, "payload").split(SEPARATOR)
    type_of_char = _TYPE_OF_CHAR
    try:
        # One pass over the records, no per-character Python work.
        return [
            EnginePacket(type_of_char[record[0]], record[1:])
            if record[0] != "b"
            else EnginePacket(_MESSAGE, b64decode_strict(record[1:]))
            for record in records
        ]
    except (KeyError, IndexError):  # an unknown type or an empty record: find it and say so
        for index, record in enumerate(records):
            try:
                decode_text_packet(record, 4)
            except InvalidPacket as exc:
                raise InvalidPacket(f"record {index} of the payload: {exc.message}") from None
        raise InvalidPacket("malformed v4 payload") from None  # not reached: a record failed
