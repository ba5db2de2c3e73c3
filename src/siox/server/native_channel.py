"""`NativeChannel`: the engine's view of a WebSocket on the native front end.

It frames outgoing messages itself when no per-connection state is needed (no
permessage-deflate, or a message sent with ``compress`` False) and hands the bytes to the
connection's write queue; a large binary payload goes out after its header, never copied into
its frame.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from ..http.frames import TEXT_HEADERS, binary_header, frame_binary, frame_text
from ..http.websocket import WebSocketConnection
from ..http.websocket_events import ConnectionState

__all__ = ["NativeChannel", "WebSocketOwner"]

_OPEN = ConnectionState.OPEN
_VECTORED_SIZE = 16384  # binary payloads this large are not copied into their frame


class WebSocketOwner(Protocol):
    """What a `NativeChannel` needs of its connection (`siox.server.native.HttpProtocol`)."""

    ws: WebSocketConnection | None
    transport: asyncio.Transport | None

    def queue_write(self, data: bytes, large: bool = False) -> None:
        """Write ``data`` with the rest of this loop turn's writes (``large``: unjoined)."""
        ...

    def close_websocket(self, code: int) -> None:
        """Close the WebSocket with ``code``."""
        ...


class NativeChannel:
    """A native connection's WebSocket, as the engine sees it (a `WebSocketChannel`)."""

    __slots__ = ("deflates", "plain", "protocol", "supports_framed")

    def __init__(self, protocol: WebSocketOwner, supports_framed: bool) -> None:
        self.protocol = protocol
        self.supports_framed = supports_framed
        ws = protocol.ws
        # Without permessage-deflate a server frame needs no per-connection state.
        self.plain = ws is not None and ws.deflate is None
        #: whether messages are compressed (permessage-deflate was agreed)
        self.deflates = ws is not None and ws.deflate is not None

    def send(self, data: str | bytes, compress: bool = True) -> None:
        """Frame and queue one message (text for ``str``); nothing once the socket is gone."""
        protocol = self.protocol
        ws = protocol.ws
        if ws is None or protocol.transport is None:
            return
        # An uncompressed frame (RSV1 clear) is valid with or without permessage-deflate.
        if (self.plain or not compress) and ws.state is _OPEN:
            if isinstance(data, str):
                payload = data.encode()
                size = len(payload)  # `frame_text`, inline for a small message
                protocol.queue_write(
                    TEXT_HEADERS[size] + payload if size < 126 else frame_text(payload)
                )
            elif type(data) is bytes and len(data) >= _VECTORED_SIZE:
                protocol.queue_write(binary_header(len(data)))
                protocol.queue_write(data, large=True)
            else:
                protocol.queue_write(frame_binary(data))
            return
        try:
            payload = ws.send_text(data) if type(data) is str else ws.send_binary(data)  # type: ignore[arg-type]
        except RuntimeError:
            return  # closing
        protocol.queue_write(payload)

    def send_framed(self, data: bytes) -> bool:
        """Queue bytes that are already frames; False once the connection is gone."""
        if self.protocol.transport is None:
            return False
        self.protocol.queue_write(data)
        return True

    def close(self, code: int = 1000) -> None:
        """Close the WebSocket with ``code``."""
        self.protocol.close_websocket(code)
