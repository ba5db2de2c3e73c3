"""Encoded Socket.IO messages ready for many connections: encode once, frame once per kind.

A broadcast encodes its packet once (`Outgoing`), and each engine connection asks it for the
form its transport needs. The WebSocket form (Engine.IO packet + WebSocket frame header) is
built the first time a WebSocket connection asks and then reused for every other recipient.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["FrameBuilder", "Outgoing"]

#: Builds the WebSocket bytes of a list of Engine.IO messages for one Engine.IO revision.
FrameBuilder = Callable[[list[str | bytes], int], bytes]


class Outgoing:
    """Engine.IO message payloads (Socket.IO encoded packets) shared by several recipients."""

    __slots__ = ("_ws", "messages", "volatile")

    def __init__(self, messages: list[str | bytes], *, volatile: bool = False) -> None:
        self.messages = messages
        self.volatile = volatile
        self._ws: dict[int, bytes] = {}

    def ws_bytes(self, eio: int, build: FrameBuilder) -> bytes:
        """The WebSocket bytes for these messages on an Engine.IO ``eio`` session (cached)."""
        cached = self._ws.get(eio)
        if cached is None:
            cached = self._ws[eio] = build(self.messages, eio)
        return cached
