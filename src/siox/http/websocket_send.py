"""The sending half of `siox.http.websocket.WebSocketConnection`: messages, pings, the close.

Each ``send_*`` returns the bytes to write: frames masked in the client role, compressed when
permessage-deflate was agreed and the message is long enough, fragmented on request.
"""

from __future__ import annotations

from collections.abc import Callable

from .deflate import MessageCompressor
from .frames import CloseCode, Opcode, encode_close_payload, encode_frame
from .websocket_events import ConnectionState

__all__ = ["WebSocketSender"]

_CO_CLOSING = ConnectionState.CLOSING
_CO_OPEN = ConnectionState.OPEN
_OP_BINARY = Opcode.BINARY
_OP_CLOSE = Opcode.CLOSE
_OP_CONTINUATION = Opcode.CONTINUATION
_OP_PING = Opcode.PING
_OP_PONG = Opcode.PONG
_OP_TEXT = Opcode.TEXT


class WebSocketSender:
    """Framing of outgoing messages, over the connection's state (a mixin: only the state slot)."""

    __slots__ = ("state",)

    #: `ConnectionState.OPEN`, then CLOSING once a close is sent, then CLOSED
    state: ConnectionState
    _is_server: bool
    _random_bytes: Callable[[int], bytes]
    _compressor: MessageCompressor | None
    _threshold: int

    def _frame(self, opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False) -> bytes:
        mask_key = None if self._is_server else self._random_bytes(4)
        return encode_frame(opcode, payload, fin=fin, rsv1=rsv1, mask_key=mask_key)

    def _check_open(self) -> None:
        if self.state is not _CO_OPEN:
            raise RuntimeError(f"cannot send on a WebSocket that is {self.state.value}")

    def _message(
        self, opcode: Opcode, payload: bytes | bytearray | memoryview, fragment_size: int | None
    ) -> bytes:
        self._check_open()
        compressor = self._compressor
        if compressor is not None and len(payload) >= self._threshold:
            rsv1, data = True, compressor.compress(payload)
        else:
            rsv1, data = False, payload if isinstance(payload, bytes) else bytes(payload)
        if fragment_size is None or len(data) <= fragment_size:
            return self._frame(opcode, data, rsv1=rsv1)
        if fragment_size < 1:
            raise ValueError("fragment_size must be positive")
        frames = []
        for start in range(0, len(data), fragment_size):
            last = start + fragment_size >= len(data)
            frames.append(
                self._frame(
                    opcode if start == 0 else _OP_CONTINUATION,
                    data[start : start + fragment_size],
                    fin=last,
                    rsv1=rsv1 and start == 0,
                )
            )
        return b"".join(frames)

    def send_text(self, text: str, *, fragment_size: int | None = None) -> bytes:
        """Frame a text message (compressed when deflate was agreed and it is long enough).

        Args:
            text: The message.
            fragment_size: Split the (compressed) payload into frames of at most this many
                bytes; None sends one frame.

        Returns:
            The bytes to write.

        Raises:
            TypeError: ``text`` is not a ``str``.
            RuntimeError: This side already sent or received a close frame.
        """
        if not isinstance(text, str):
            raise TypeError(f"send_text needs str, not {type(text).__name__}")
        return self._message(_OP_TEXT, text.encode("utf-8"), fragment_size)

    def send_binary(
        self, data: bytes | bytearray | memoryview, *, fragment_size: int | None = None
    ) -> bytes:
        """Frame a binary message; see `send_text`.

        Args:
            data: The message.
            fragment_size: As for `send_text`.

        Returns:
            The bytes to write.

        Raises:
            RuntimeError: This side already sent or received a close frame.
        """
        return self._message(_OP_BINARY, data, fragment_size)

    def frame_text(self, payload: bytes) -> bytes:
        """Frame already-encoded UTF-8 text (no re-encoding, no validation).

        For a broadcast to many server-side connections, `siox.http.frames.frame_text` builds
        bytes that every one of them can write; this method also compresses and masks.

        Args:
            payload: Valid UTF-8.

        Returns:
            The bytes to write.

        Raises:
            RuntimeError: This side already sent or received a close frame.
        """
        return self._message(_OP_TEXT, payload, None)

    def frame_binary(self, payload: bytes | bytearray | memoryview) -> bytes:
        """Frame binary data; the same as `send_binary` without fragmentation.

        Args:
            payload: The message.

        Returns:
            The bytes to write.

        Raises:
            RuntimeError: This side already sent or received a close frame.
        """
        return self._message(_OP_BINARY, payload, None)

    def send_ping(self, data: bytes = b"") -> bytes:
        """Frame a ping.

        Args:
            data: At most 125 bytes of application data.

        Returns:
            The bytes to write.

        Raises:
            ValueError: ``data`` is longer than 125 bytes.
            RuntimeError: This side already sent or received a close frame.
        """
        return self._control(_OP_PING, data)

    def send_pong(self, data: bytes = b"") -> bytes:
        """Frame an unsolicited pong (pings are answered automatically); see `send_ping`.

        Args:
            data: At most 125 bytes of application data.

        Returns:
            The bytes to write.

        Raises:
            ValueError: ``data`` is longer than 125 bytes.
            RuntimeError: This side already sent or received a close frame.
        """
        return self._control(_OP_PONG, data)

    def _control(self, opcode: Opcode, data: bytes) -> bytes:
        self._check_open()
        if len(data) > 125:
            raise ValueError("control frame payloads are limited to 125 bytes")
        return self._frame(opcode, bytes(data))

    def send_close(self, code: int | None = CloseCode.NORMAL, reason: str = "") -> bytes:
        """Start the closing handshake.

        The reason is cut to 123 UTF-8 bytes at a character boundary.  After this, the peer's
        close frame arrives as `CloseReceived` and the state becomes `_CO_CLOSED`.

        Args:
            code: The status code (1000 by default); None sends an empty close payload.
            reason: Text for the peer; must be ``str``.

        Returns:
            The bytes to write.

        Raises:
            TypeError: ``reason`` is not a ``str`` (bytes-like reasons are refused).
            ValueError: ``code`` may not be sent (1005, 1006, 1015, unassigned ranges).
            RuntimeError: This side already sent or received a close frame.
        """
        payload = encode_close_payload(code, reason)
        self._check_open()
        self.state = _CO_CLOSING
        return self._frame(_OP_CLOSE, payload)
