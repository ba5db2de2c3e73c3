"""A sans-I/O RFC 6455 WebSocket connection, for the server and the client role.

Bytes in, events and bytes out; no I/O, no clocks.  The I/O layer drives it like this::

    conn = WebSocketConnection(Role.SERVER, deflate=upgrade.deflate)
    for event in conn.receive_data(chunk):
        ...                                  # TextMessage, BinaryMessage, Ping, Pong, ...
    transport.write(conn.data_to_send())     # automatic pongs, close replies, failure closes
    transport.write(conn.send_text("hello")) # send_* return the bytes to write

Rules of this file:

* `receive_data` never raises on any input.  A protocol violation queues a close frame with the
  right code (1002 framing, 1007 bad UTF-8 or deflate data, 1009 too big), emits one
  `ConnectionFailed` and moves to `_CO_CLOSED`; later input is ignored.  After a
  `ConnectionFailed` (or a `CloseReceived`) the I/O layer writes `data_to_send()` and closes the
  TCP connection (a server at once, a client after a short grace period, RFC 6455 section 7.1.1).
* Limits count bytes actually received: a frame whose header announces more than the message
  may still hold fails before its payload is buffered, and a compressed message fails as soon
  as it inflates past ``max_message_size``.
* Text is validated with an incremental UTF-8 decoder, so a code point split across fragments
  is accepted and an invalid one fails at the fragment that carries it.
* Misuse by the application (sending after the close) raises `RuntimeError`.

(Over the 400-line soft cap: the frame reader, its whole-frame fast path (which must sit inside
``receive_data``), fragments, UTF-8 and the close handshake of one connection.)
"""

from __future__ import annotations

import os
from collections.abc import Callable

from .. import fastpaths
from ..errors import ProtocolError
from ..options import DEFAULT_LIMITS
from ._mask import apply_mask, mask_join, unmask, unmask_text
from .deflate import DeflateParams, MessageCompressor, MessageDecompressor
from .frames import (
    CloseCode,
    FrameHeader,
    Opcode,
    encode_close_payload,
    parse_close_payload,
    read_frame_header,
)
from .reassembly import MessageAssembler
from .websocket_events import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    ConnectionState,
    Ping,
    Pong,
    Role,
    TextMessage,
    WebSocketEvent,
)
from .websocket_send import WebSocketSender

# Message events built without their frozen dataclass ``__init__`` (the slot filled through its
# descriptor costs 40% less), for the whole-frame fast path.
_new = object.__new__
_set_text = vars(TextMessage)["data"].__set__
_set_binary = vars(BinaryMessage)["data"].__set__

# The compiled `_whole_frames` loop (`siox.http._speedups.scan_frames`), when built and allowed.
scan_frames: Callable[[bytes, bool, int | None, list[WebSocketEvent]], int] | None = None
if not os.environ.get("SIOX_NO_EXTENSIONS"):
    try:
        from ._speedups import configure_messages, scan_frames

        configure_messages(TextMessage, BinaryMessage)
    except ImportError:
        scan_frames = None

# Enum attribute access is slow on CPython 3.11: the per-frame code uses these.
_CL_ABNORMAL = CloseCode.ABNORMAL
_CL_PROTOCOL_ERROR = CloseCode.PROTOCOL_ERROR
_CO_CLOSED = ConnectionState.CLOSED
_CO_CLOSING = ConnectionState.CLOSING
_CO_OPEN = ConnectionState.OPEN
_OP_BINARY = Opcode.BINARY
_OP_CLOSE = Opcode.CLOSE
_OP_CONTINUATION = Opcode.CONTINUATION
_OP_PING = Opcode.PING
_OP_PONG = Opcode.PONG
_OP_TEXT = Opcode.TEXT
_SERVER = Role.SERVER

#: A data frame whose payload is at least this long and not yet whole is collected read by
#: read and unmasked once, into its final bytes, rather than copied into the read buffer.
_LARGE_FRAME = 16384


__all__ = [
    "DEFAULT_MAX_FRAGMENTS",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "BinaryMessage",
    "CloseReceived",
    "ConnectionFailed",
    "ConnectionState",
    "Ping",
    "Pong",
    "Role",
    "TextMessage",
    "WebSocketConnection",
    "WebSocketEvent",
]

DEFAULT_MAX_MESSAGE_SIZE = DEFAULT_LIMITS.max_http_buffer_size
DEFAULT_MAX_FRAGMENTS = DEFAULT_LIMITS.max_fragments


class WebSocketConnection(WebSocketSender):
    """One WebSocket connection's framing, reassembly, limits and closing handshake.

    Args:
        role: `Role.SERVER` expects masked frames and sends unmasked ones; `Role.CLIENT` the
            reverse.
        max_message_size: Largest message accepted, in bytes after decompression (default
            1,000,000); None for no limit.  Crossing it closes with 1009.
        max_fragments: Most frames one message may be split into (default 1024); crossing it
            closes with 1009.
        deflate: The permessage-deflate parameters agreed in the handshake, or None.
        random_bytes: Source of the client's masking keys (default `os.urandom`).
    """

    __slots__ = (
        "_assembler",
        "_buffer",
        "_chunk_key",
        "_chunk_need",
        "_chunks",
        "_compressor",
        "_decompressor",
        "_header",
        "_is_server",
        "_random_bytes",
        "_threshold",
        "close_code",
        "deflate",
        "max_fragments",
        "max_message_size",
        "outgoing",
        "role",
    )

    def __init__(
        self,
        role: Role,
        *,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        max_fragments: int = DEFAULT_MAX_FRAGMENTS,
        deflate: DeflateParams | None = None,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.role = role
        self.max_message_size = max_message_size
        self.max_fragments = max_fragments
        self.deflate = deflate
        self._random_bytes = random_bytes
        self._is_server = role is _SERVER
        self.state = _CO_OPEN
        self.close_code: int | None = None

        self._buffer = bytearray()
        #: frames the connection made by itself (pongs, close replies) that `data_to_send` has
        #: not taken yet: the I/O layer may test it (truthy) instead of calling after each read
        #: (the empty tuple while there are none: most connections never make one)
        self.outgoing: list[bytes] | tuple[()] = ()
        self._header: FrameHeader | None = None
        # A large frame whose payload is still arriving: the reads' parts as they came (no
        # reassembly buffer), its masking key and the bytes still missing (see `_collect`).
        self._chunks: list[bytes | memoryview] | None = None
        self._chunk_key: bytes | None = None
        self._chunk_need = 0
        self._compressor: MessageCompressor | None = None
        self._threshold = deflate.threshold if deflate is not None else 0
        self._decompressor: MessageDecompressor | None = None
        if deflate is not None:
            mine, theirs = (
                (deflate.server_max_window_bits, deflate.client_no_context_takeover)
                if self._is_server
                else (deflate.client_max_window_bits, deflate.server_no_context_takeover)
            )
            own_nct = (
                deflate.server_no_context_takeover
                if self._is_server
                else deflate.client_no_context_takeover
            )
            self._compressor = MessageCompressor(
                mine, no_context_takeover=own_nct, level=deflate.level, mem_level=deflate.mem_level
            )
            self._decompressor = MessageDecompressor(no_context_takeover=theirs)
        self._assembler = MessageAssembler(
            max_message_size=max_message_size,
            max_fragments=max_fragments,
            decompressor=self._decompressor,
        )

    # ------------------------------------------------------------------ receiving

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[WebSocketEvent]:
        """Feed bytes from the peer.

        Args:
            data: The next bytes read from the transport.

        Returns:
            The events completed by these bytes, in order.  Never raises.
        """
        if self.state is _CO_CLOSED:
            return []
        events: list[WebSocketEvent] = []
        if self._chunks is not None:
            rest = self._collect(data, events)
            if rest is None:
                return events
            data = rest
        if (
            fastpaths.ENABLED
            and self._decompressor is None
            and not self._buffer
            and self.state is _CO_OPEN
        ):
            consumed = self._whole_frames(data, events)
            if consumed == len(data):
                return events
            if consumed:
                data = memoryview(data)[consumed:]
        self._buffer += data
        try:
            while self._next_frame(events):
                pass
        except ProtocolError as exc:
            code = exc.ws_close_code or _CL_PROTOCOL_ERROR
            self._fail(code, exc.message, events)
        return events

    def _collect(
        self, data: bytes | bytearray | memoryview, events: list[WebSocketEvent]
    ) -> bytes | bytearray | memoryview | None:
        """Add a read to the large frame being collected; the bytes after it, if it completes.

        Returns None when the read is all payload (the frame may have completed exactly).
        """
        chunks = self._chunks
        assert chunks is not None
        need = self._chunk_need
        size = len(data)
        if size < need:
            chunks.append(data if type(data) is bytes else bytes(data))  # may change later
            self._chunk_need = need - size
            return None
        view = memoryview(data)
        chunks.append(view[:need])
        header, key = self._header, self._chunk_key
        assert header is not None
        self._chunks = self._chunk_key = self._header = None
        self._chunk_need = 0
        payload = mask_join(chunks, key) if key is not None else b"".join(chunks)
        try:
            self._payload(header, payload, events)
        except ProtocolError as exc:
            self._fail(exc.ws_close_code or _CL_PROTOCOL_ERROR, exc.message, events)
            return None
        if size == need or self.state is _CO_CLOSED:
            return None
        return view[need:]

    def _whole_frames(
        self, data: bytes | bytearray | memoryview, events: list[WebSocketEvent]
    ) -> int:
        """Fast path for reads made of whole, unfragmented data frames (the usual case).

        Handles only what needs no state: FIN frames with opcode TEXT or BINARY, masked as the
        peer's role requires (a client's frames masked, a server's not), no RSV bit, within
        ``max_message_size``, while no fragmented message is in progress. It stops as soon as
        anything else shows up (a frame masked the wrong way, a control frame, a partial frame,
        bad UTF-8...), before consuming that frame, and returns how many bytes it consumed: the
        general path then reads the rest exactly as it would have, and gives the error, if any.
        A large frame cut by the end of the read is taken too: its payload is collected read by
        read (`_collect`), as the general path does once it has read the header.
        `receive_data` tries it only while `siox.fastpaths.ENABLED`.
        """
        # (`MessageAssembler.idle`, read without the property's call: the per-read path)
        if self._header is not None or self._assembler._opcode is not None:
            return 0
        if type(data) is not bytes:
            data = bytes(data)  # slices of bytes are bytes: the masking keys need no copy
        masked = self._is_server  # the peer is a client: its frames are masked
        size = len(data)
        limit = self.max_message_size
        # The compiled loop takes the whole frames; this one the rest (or all, without it).
        position = 0 if scan_frames is None else scan_frames(data, masked, limit, events)
        if position == size:
            return position
        head = 6 if masked else 2
        mask_bit = 0x80 if masked else 0
        while position < size:
            if size - position < head:
                break
            first = data[position]
            second = data[position + 1]
            if (first != 0x81 and first != 0x82) or second & 0x80 != mask_bit:
                break
            length = second & 0x7F
            start = position + head
            if length > 125:  # an extended length
                if length == 126:
                    if size - position < head + 2:
                        break
                    length = (data[position + 2] << 8) | data[position + 3]
                    start += 2
                else:
                    if size - position < head + 8:
                        break
                    length = int.from_bytes(data[position + 2 : position + 10], "big")
                    start += 8
                    if length >> 63:
                        break  # the general path fails it with 1002
            end = start + length
            if limit is not None and length > limit:
                break
            if end > size:
                if length >= _LARGE_FRAME:
                    self._header = FrameHeader(
                        True, False, first & 0x0F, masked, length, start - position
                    )
                    self._chunk_key = data[start - 4 : start] if masked else None
                    self._chunks = [memoryview(data)[start:]] if start < size else []
                    self._chunk_need = end - size
                    position = size
                break
            if first == 0x81:
                try:  # unmasked (and decoded) straight out of the read, no slices first
                    text = unmask_text(data, start, end) if masked else data[start:end].decode()
                except UnicodeDecodeError:
                    break  # the general path fails it with 1007
                event: WebSocketEvent = _new(TextMessage)
                _set_text(event, text)
            else:
                event = _new(BinaryMessage)
                _set_binary(event, unmask(data, start, end) if masked else data[start:end])
            events.append(event)
            position = end
        return position

    def receive_eof(self) -> list[WebSocketEvent]:
        """Tell the connection the peer closed the TCP stream.

        Returns:
            ``[ConnectionFailed(1006, ...)]`` unless the closing handshake already finished.
        """
        if self.state is _CO_CLOSED:
            return []
        self.state = _CO_CLOSED
        self.close_code = _CL_ABNORMAL
        self._buffer.clear()
        self._chunks = self._chunk_key = None
        return [ConnectionFailed(_CL_ABNORMAL, "connection closed without a close frame")]

    def data_to_send(self) -> bytes:
        """Bytes the connection produced by itself (pongs, close replies); empties the queue.

        Returns:
            The bytes to write, possibly empty.
        """
        outgoing = self.outgoing
        if not outgoing:  # the usual answer, asked after every read
            return b""
        self.outgoing = ()
        return b"".join(outgoing)

    def _queue_own(self, frame: bytes) -> None:
        outgoing = self.outgoing
        if outgoing:
            outgoing.append(frame)
        else:
            self.outgoing = [frame]

    def _fail(self, code: int, reason: str, events: list[WebSocketEvent]) -> None:
        if self.state is _CO_OPEN:
            self._queue_own(self._frame(_OP_CLOSE, encode_close_payload(code, reason)))
        self.state = _CO_CLOSED
        self.close_code = code
        self._buffer.clear()
        self._chunks = self._chunk_key = None
        self._assembler.reset()
        events.append(ConnectionFailed(code, reason))

    def _read_header(self) -> FrameHeader | None:
        header = read_frame_header(
            self._buffer, masked=self._is_server, compression=self._decompressor is not None
        )
        if header is not None and header.opcode < _OP_CLOSE:
            self._assembler.check_header(header)
        return header

    def _next_frame(self, events: list[WebSocketEvent]) -> bool:
        if self.state is _CO_CLOSED:
            return False
        header = self._header or self._read_header()
        if header is None:
            return False
        self._header = header
        end = header.size + header.length
        if len(self._buffer) < end:
            if (
                header.length >= _LARGE_FRAME
                and header.opcode < _OP_CLOSE
                and len(self._buffer) >= header.size  # the masking key is there
            ):
                # A large data frame: its payload is collected read by read from now on
                # (`_collect`) and unmasked once, not gathered in this buffer first.
                buffer = self._buffer
                self._chunk_key = (
                    bytes(buffer[header.size - 4 : header.size]) if header.masked else None
                )
                self._chunks = [bytes(buffer[header.size :])] if len(buffer) > header.size else []
                self._chunk_need = end - len(buffer)
                buffer.clear()
            return False
        if header.masked:
            key = bytes(self._buffer[header.size - 4 : header.size])
            payload = apply_mask(memoryview(self._buffer)[header.size : end], key)
        else:
            payload = bytes(self._buffer[header.size : end])
        del self._buffer[:end]
        self._header = None
        self._payload(header, payload, events)
        return True

    def _payload(self, header: FrameHeader, payload: bytes, events: list[WebSocketEvent]) -> None:
        """A whole frame's unmasked payload: a control frame, or part of a message."""
        if header.opcode >= _OP_CLOSE:
            self._control_frame(header.opcode, payload, events)
        else:
            message = self._assembler.add_frame(header, payload)
            if message is not None:
                events.append(message)

    def _control_frame(self, opcode: int, payload: bytes, events: list[WebSocketEvent]) -> None:
        if opcode == _OP_PING:
            if self.state is _CO_OPEN:
                self._queue_own(self._frame(_OP_PONG, payload))
            events.append(Ping(payload))
        elif opcode == _OP_PONG:
            events.append(Pong(payload))
        else:
            code, reason = parse_close_payload(payload)
            if self.state is _CO_OPEN:
                # Echo the (validated) code and reason, as npm ws does.
                self._queue_own(self._frame(_OP_CLOSE, payload))
            self.state = _CO_CLOSED
            self.close_code = code
            self._buffer.clear()
            events.append(CloseReceived(code, reason))
