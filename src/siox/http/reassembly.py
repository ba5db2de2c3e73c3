"""Reassemble data frames into WebSocket messages: fragments, inflation, UTF-8, size limits.

One `MessageAssembler` per connection and direction.  It checks each data frame header against
the message in progress (`check_header`, before the payload is buffered) and turns payloads
into complete messages (`add_frame`).  Errors are `InvalidPacket` / `PayloadTooLarge` carrying the
close code; the connection turns them into a close.
"""

from __future__ import annotations

import codecs

from ..errors import InvalidPacket, PayloadTooLarge
from .deflate import MessageDecompressor
from .frames import FrameHeader, Opcode
from .websocket_events import BinaryMessage, TextMessage

# Enum attribute access is slow on CPython 3.11: the per-frame code uses these.
_OP_CONTINUATION = Opcode.CONTINUATION
_OP_TEXT = Opcode.TEXT


__all__ = ["MessageAssembler"]

_Utf8Decoder = codecs.getincrementaldecoder("utf-8")


class MessageAssembler:
    """Builds messages out of data frames, enforcing the size limits.

    Args:
        max_message_size: Largest message, in bytes after decompression; None for no limit.
        max_fragments: Most frames per message.
        decompressor: The permessage-deflate inflater, or None without compression.
    """

    __slots__ = (
        "_compressed",
        "_decompressor",
        "_fragments",
        "_limit",
        "_max_fragments",
        "_opcode",
        "_parts",
        "_size",
        "_text_parts",
        "_utf8",
        "_wire_limit",
        "_wire_size",
    )

    def __init__(
        self,
        *,
        max_message_size: int | None,
        max_fragments: int,
        decompressor: MessageDecompressor | None,
    ) -> None:
        self._limit = max_message_size if max_message_size is not None else 1 << 62
        # Compressed bytes may slightly exceed the inflated size (stored blocks): allow slack.
        self._wire_limit = self._limit + self._limit // 1024 + 1024
        self._max_fragments = max_fragments
        self._decompressor = decompressor
        self._opcode: int | None = None  # of the message in progress, None between messages
        self._compressed = False
        # The fragments of the message in progress (created by its first fragment: most
        # connections only ever see whole single-frame messages, which need none).
        self._parts: list[bytes] | None = None
        self._text_parts: list[str] | None = None
        self._utf8: codecs.IncrementalDecoder | None = None
        self._size = 0
        self._wire_size = 0
        self._fragments = 0

    def check_header(self, header: FrameHeader) -> None:
        """Check a data frame's header against the message in progress and the limits.

        Args:
            header: The header of a TEXT, BINARY or CONTINUATION frame.

        Raises:
            InvalidPacket: A continuation outside a message, or a new message inside one (1002).
            PayloadTooLarge: The frame would take the message past the limit (1009).
        """
        if (header.opcode == _OP_CONTINUATION) is (self._opcode is None):
            raise InvalidPacket("continuation outside a message or data frame inside one")
        if header.rsv1 or (header.opcode == _OP_CONTINUATION and self._compressed):
            if self._wire_size + header.length > self._wire_limit:
                raise PayloadTooLarge("compressed message too big", ws_close_code=1009)
        elif self._size + header.length > self._limit:
            raise PayloadTooLarge("message too big", ws_close_code=1009)

    def add_frame(self, header: FrameHeader, payload: bytes) -> TextMessage | BinaryMessage | None:
        """Take a data frame whose header `check_header` accepted.

        Args:
            header: The frame's header.
            payload: The unmasked payload.

        Returns:
            The message this frame completes, or None while it is still fragmented.

        Raises:
            InvalidPacket: Invalid UTF-8 or deflate data (1007).
            PayloadTooLarge: Too many fragments, or too big once inflated (1009).
        """
        if header.fin and header.opcode != _OP_CONTINUATION and not header.rsv1:
            # The common case, a whole uncompressed message in one frame: nothing to keep.
            if header.opcode == _OP_TEXT:
                return TextMessage(_decode_utf8(payload))
            return BinaryMessage(payload)
        if header.opcode != _OP_CONTINUATION:
            self._opcode = header.opcode
            self._compressed = header.rsv1
        self._fragments += 1
        if self._fragments > self._max_fragments:
            raise PayloadTooLarge("too many fragments", ws_close_code=1009)
        self._wire_size += len(payload)
        if self._compressed and self._decompressor is not None:
            payload = self._decompressor.feed(payload, self._limit - self._size, final=header.fin)
        self._size += len(payload)
        message: TextMessage | BinaryMessage
        if self._opcode == _OP_TEXT:
            if header.fin and self._utf8 is None:
                message = TextMessage(_decode_utf8(payload))  # a compressed single frame
            else:
                if self._utf8 is None:
                    self._utf8 = _Utf8Decoder()
                text_parts = self._text_parts
                if text_parts is None:
                    text_parts = self._text_parts = []
                text_parts.append(_decode_utf8(payload, self._utf8, final=header.fin))
                if not header.fin:
                    return None
                message = TextMessage("".join(text_parts))
        elif header.fin and not self._parts:
            message = BinaryMessage(payload)
        else:
            parts = self._parts
            if parts is None:
                parts = self._parts = []
            parts.append(payload)
            if not header.fin:
                return None
            message = BinaryMessage(b"".join(parts))
        self.reset()
        return message

    @property
    def idle(self) -> bool:
        """Whether no fragmented message is in progress."""
        return self._opcode is None

    def reset(self) -> None:
        """Forget the message in progress (after it completed, or when the connection failed)."""
        self._opcode = None
        self._compressed = False
        self._parts = None
        self._text_parts = None
        self._utf8 = None
        self._size = self._wire_size = self._fragments = 0


def _decode_utf8(
    payload: bytes, decoder: codecs.IncrementalDecoder | None = None, *, final: bool = True
) -> str:
    try:
        if decoder is None:
            return payload.decode("utf-8")
        return decoder.decode(payload, final)
    except UnicodeDecodeError as exc:
        raise InvalidPacket("text message is not valid UTF-8", ws_close_code=1007) from exc
