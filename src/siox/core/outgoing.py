"""Encoded Socket.IO messages ready for many connections: encode once, frame once per kind.

A broadcast encodes its packet once (`Outgoing`), and each engine connection asks it for the
form its transport needs. The WebSocket form (Engine.IO MESSAGE framing, then the WebSocket
frame header) is built the first time a WebSocket connection of a kind (Engine.IO revision,
base64 or not) asks, and then reused for every other recipient of that kind. (A core concern:
`siox.server.outgoing` re-exports it for the server's modules.)
"""

from __future__ import annotations

from ..engineio.packet import encode_message
from ..http.frames import frame_binary, frame_text

__all__ = ["Outgoing", "build_frames"]


def build_frames(messages: list[str | bytes], eio: int, b64: bool) -> bytes:
    """Server WebSocket frames (unmasked, uncompressed) of Engine.IO messages.

    The Engine.IO framing is `siox.engineio.packet.encode_message`, as for every other
    message a session sends; the bytes suit any server-side connection of that kind.
    """
    parts = []
    for message in messages:
        frame = encode_message(message, eio, b64)
        parts.append(frame_text(frame.encode()) if isinstance(frame, str) else frame_binary(frame))
    return b"".join(parts)


class Outgoing:
    """Engine.IO message payloads (Socket.IO encoded packets) shared by several recipients."""

    __slots__ = ("_ws", "compress", "messages", "volatile")

    def __init__(
        self, messages: list[str | bytes], *, volatile: bool = False, compress: bool = True
    ) -> None:
        self.messages = messages
        self.volatile = volatile
        #: whether the messages may be compressed (the broadcast's ``compress`` flag)
        self.compress = compress
        self._ws: dict[tuple[int, bool], bytes] = {}

    def ws_bytes(self, eio: int, b64: bool = False) -> bytes:
        """The WebSocket bytes for these messages on an Engine.IO ``eio`` session (cached)."""
        key = (eio, b64)
        cached = self._ws.get(key)
        if cached is None:
            cached = self._ws[key] = build_frames(self.messages, eio, b64)
        return cached
