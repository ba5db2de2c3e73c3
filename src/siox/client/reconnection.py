"""`Reconnection`: a client's reconnection policy and the events of its connection.

Mixed into `siox.client.client.Client`, as socket.io-client 4.8's ``Manager`` does it: a
connection that fails to open, or drops, is tried again after exponential backoff with jitter
(`siox.client.backoff.Backoff`), up to ``reconnection_attempts``; every socket learns of each
failure (``connect_error``) and of the end (``give_up``). The connection's own events
(`CLIENT_EVENTS`), registered with `Reconnection.on`: ``reconnect_attempt(attempt)``,
``reconnect(attempt)``, ``reconnect_error(error)``, ``reconnect_failed()``, ``open()`` and
``close(reason, description)``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..errors import NotConnected, SioxError
from .backoff import Backoff
from .endpoint import Endpoint
from .engine import describe
from .listeners import Listener, run_listener

if TYPE_CHECKING:
    from .socket import ClientSocket

__all__ = ["CLIENT_EVENTS", "Reconnection"]

logger = logging.getLogger("siox.client")

F = TypeVar("F", bound=Callable[..., Any])
#: The events of the connection itself.
CLIENT_EVENTS = frozenset(
    {"open", "close", "reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed"}
)


class Reconnection:
    """The reconnection policy of a `siox.Client` and the handlers of its events."""

    endpoint: Endpoint
    reconnection: bool
    reconnection_attempts: int | None
    _sockets: dict[str, ClientSocket]
    _handlers: dict[str, Listener]
    _tasks: set[asyncio.Task[None]]
    _backoff: Backoff
    _reconnecting: bool  # a reconnection is scheduled or under way
    _attempting: bool  # the session being opened is a reconnection attempt
    _skip_reconnect: bool
    _reconnect_timer: asyncio.TimerHandle | None
    _last_error: SioxError | None

    def _open(self) -> None:  # pragma: no cover - the client's
        raise NotImplementedError

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, handler: F) -> F: ...
    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register the handler of a connection event; usable as a decorator."""
        if event not in CLIENT_EVENTS:
            raise ValueError(f"unknown client event {event!r} (one of {sorted(CLIENT_EVENTS)})")

        def register(func: F) -> F:
            self._handlers[event] = Listener(func)
            return func

        return register if handler is None else register(handler)

    def _open_failed(self, error: SioxError) -> None:
        self._last_error = error
        attempt = self._backoff.attempts
        logger.warning(
            "connection to %s failed%s: %s",
            self.endpoint.origin,
            f" (reconnection attempt {attempt})" if attempt else "",
            describe(error),
        )
        for socket in list(self._sockets.values()):
            if socket.active and not socket.connected:
                socket.on_connect_error(error)
        if self._attempting:
            self._attempting = self._reconnecting = False
            self._reconnect()
            self._emit("reconnect_error", error)
        elif self.reconnection and not self._reconnecting and self._backoff.attempts == 0:
            self._reconnect()
        else:
            self._give_up(error)

    def _closed(self, reason: str, description: str | None, error: SioxError | None = None) -> None:
        self._backoff.reset()
        self._emit("close", reason, description)
        if error is None:
            detail = f"{reason} ({description})" if description else reason
            error = NotConnected(f"connection closed: {detail}")
        for socket in list(self._sockets.values()):
            if socket.active or socket.connected:
                socket.on_closed(reason, description, error)
        if self.reconnection and not self._skip_reconnect:
            self._reconnect()
        else:
            self._give_up(error)

    def _give_up(self, error: BaseException) -> None:
        for socket in list(self._sockets.values()):
            socket.give_up(error)

    def _reconnect(self) -> None:
        if self._reconnecting or self._skip_reconnect:
            return
        limit = self.reconnection_attempts
        if limit is not None and self._backoff.attempts >= limit:
            self._backoff.reset()
            self._emit("reconnect_failed")
            error = NotConnected(f"reconnection failed after {limit} attempt(s)")
            error.__cause__ = self._last_error
            self._give_up(error)
            return
        delay = self._backoff.duration()
        self._reconnecting = True
        loop = asyncio.get_running_loop()
        self._reconnect_timer = loop.call_later(delay, self._reconnect_now)

    def _reconnect_now(self) -> None:
        self._reconnect_timer = None
        if self._skip_reconnect:
            return
        self._emit("reconnect_attempt", self._backoff.attempts)
        if self._stopped():  # a handler may have closed the client
            return
        self._attempting = True
        self._open()

    def _stopped(self) -> bool:
        return self._skip_reconnect

    def _emit(self, event: str, *args: Any) -> None:
        handler = self._handlers.get(event)
        if handler is not None:
            run_listener(handler, args, name=event, tasks=self._tasks)
