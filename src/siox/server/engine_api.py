"""The seam between the Engine.IO layer and what runs on top of it (Socket.IO or a bare app).

The Engine.IO driver hands each application an `EngineConnection` per session and calls the
application's `EngineApp` methods as things happen; the application writes back through the
connection. Nothing below this seam knows about namespaces, and nothing above it about
transports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..engineio.handshake import ExistingSession, NewSession
from ..engineio.session import EngineSession
from .http_types import HttpRequest
from .outgoing import Outgoing

__all__ = ["EngineApp", "EngineConnection", "RequestInfo", "Timers", "WebSocketPlan"]


class Timers(Protocol):
    """The clock and timers the server's sessions run on: the event loop, or a manual clock.

    `siox.testing.ManualClock` implements it to drive heartbeats and timeouts by hand.
    """

    def time(self) -> float:
        """Now, in the clock's seconds."""
        ...

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> Any:
        """Call ``callback(*args)`` at ``when``; the result has ``cancel()``."""
        ...

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Any:
        """Call ``callback(*args)`` after ``delay`` seconds; the result has ``cancel()``."""
        ...

    def create_future(self) -> asyncio.Future[Any]:
        """A future of the running event loop."""
        ...


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What the handshake request told us about the client."""

    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    address: str = ""
    secure: bool = False
    url: str = ""
    issued: float = 0.0  # unix time, seconds


class EngineConnection(Protocol):
    """One Engine.IO session as the application sees it."""

    @property
    def sid(self) -> str:
        """The Engine.IO session id (a secret: never show it to other clients)."""
        ...

    @property
    def eio(self) -> int:
        """Engine.IO revision: 4, or 3 for socket.io 2.x clients."""
        ...

    @property
    def transport(self) -> str:
        """``"polling"`` or ``"websocket"``."""
        ...

    @property
    def request(self) -> RequestInfo:
        """The handshake request."""
        ...

    @property
    def closed(self) -> bool:
        """Whether the session has ended."""
        ...

    def write(
        self, messages: list[str | bytes], *, volatile: bool = False, compress: bool = True
    ) -> None:
        """Queue Engine.IO messages (never blocks; a volatile write may be dropped).

        With ``compress`` False they are never compressed (gzip, permessage-deflate).
        """
        ...

    def write_outgoing(self, outgoing: Outgoing) -> None:
        """Queue pre-encoded messages shared with other connections."""
        ...

    def close(self, reason: str = "forced close") -> None:
        """End the session (idempotent); the app's ``engine_closed`` follows."""
        ...


class EngineApp(Protocol):
    """What an Engine.IO server drives."""

    def engine_opened(self, conn: EngineConnection) -> None:
        """A new session is open."""
        ...

    def engine_message(self, conn: EngineConnection, data: str | bytes) -> None:
        """One message arrived (text or binary)."""
        ...

    def engine_closed(self, conn: EngineConnection, reason: str) -> None:
        """The session ended, with the reference's reason string."""
        ...


class WebSocketPlan:
    """A WebSocket request the engine agreed to take (`EngineServer.check_websocket`)."""

    __slots__ = ("decision", "headers", "query", "request", "sid")

    def __init__(
        self,
        request: HttpRequest,
        decision: NewSession | ExistingSession[EngineSession] | None,
        sid: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        query: dict[str, str] | None = None,
    ) -> None:
        self.request = request
        self.decision = decision
        #: the sid a new session will get (chosen early so the 101 can carry the cookie)
        self.sid = sid
        #: extra headers for the 101 response
        self.headers = headers or []
        #: the request's query parameters, when already parsed
        self.query = query
