"""The HTTP shapes the front ends (native, ASGI) hand to the Engine.IO server, and get back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..http.http11 import Request

__all__ = ["HttpRequest", "HttpResponse", "Router", "WebSocketChannel"]


async def _no_body() -> bytes | None:
    return None


@dataclass(slots=True)
class HttpRequest:
    """One HTTP request on the Engine.IO path.

    Attributes:
        method: ``"GET"``, ``"POST"``, ...
        path: the URL path.
        query_string: the raw query string (without ``?``).
        headers: header names lower-cased; repeated headers joined with ``", "``.
        address: the client address.
        secure: TLS.
        receive: returns the next body chunk, ``None`` at the end (the engine pulls the body,
            so a limit stops reading as soon as it is crossed).
    """

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    address: str = ""
    secure: bool = False
    receive: Callable[[], Awaitable[bytes | None]] = _no_body


@dataclass(slots=True)
class HttpResponse:
    """An HTTP response the front end writes as is."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class WebSocketChannel(Protocol):
    """An accepted WebSocket, as the front end offers it to the engine."""

    def send(self, data: str | bytes, compress: bool = True) -> None:
        """Send one message (text for ``str``, binary for ``bytes``); never blocks.

        ``compress`` False: never compress it, even with permessage-deflate negotiated.
        """
        ...

    def send_framed(self, data: bytes) -> bool:
        """Write bytes that are already WebSocket frames; False if this channel cannot."""
        ...

    def close(self, code: int = 1000) -> None:
        """Close the WebSocket with ``code``."""
        ...


class Router(Protocol):
    """Decides from a request head whether another process serves the connection (workers)."""

    def route(self, transport: asyncio.Transport, request: Request, raw: bytes) -> bool:
        """Take the connection (True) or not; ``raw``: its bytes from ``request``'s start on."""
        ...
