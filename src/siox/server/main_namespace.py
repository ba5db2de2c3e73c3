"""`MainNamespaceShortcuts`: the main namespace's API on the server itself, as ``io`` has it.

``sio.to("room").emit(...)`` is ``sio.of("/").to("room").emit(...)``, and so on: each method
here hands over to the namespace ``"/"``. `siox.Server` inherits them; they live apart so the
server module keeps to what only the server does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

from ..adapters.base import FetchedSocket
from .namespace import Handler, Namespace
from .operators import AckResults, BroadcastOperator

__all__ = ["MainNamespaceShortcuts"]

F = TypeVar("F", bound=Callable[..., Any])


class MainNamespaceShortcuts:
    """Registration and broadcast shortcuts for the namespace ``"/"``."""

    def of(self, name: Any) -> Namespace:
        """The namespace ``name`` (the server defines it)."""
        raise NotImplementedError

    def use_event(self, middleware: F) -> F:
        """Event middleware on ``"/"`` (see `Namespace.use_event`)."""
        return self.of("/").use_event(middleware)

    @overload
    def once(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def once(self, event: str, handler: F) -> F: ...
    def once(self, event: str, handler: Handler | None = None) -> Any:
        """A handler on ``"/"`` removed before its first call (see `Namespace.once`)."""
        return self.of("/").once(event, handler)

    def off(self, event: str, handler: Handler | None = None) -> None:
        """Remove a handler of ``"/"`` (see `Namespace.off`)."""
        self.of("/").off(event, handler)

    def listeners(self, event: str) -> list[Handler]:
        """The handlers of ``event`` on ``"/"``."""
        return self.of("/").listeners(event)

    def off_any(self, listener: Handler | None = None) -> None:
        """Remove catch-all incoming listeners of ``"/"`` (see `Namespace.off_any`)."""
        self.of("/").off_any(listener)

    def off_any_outgoing(self, listener: Handler | None = None) -> None:
        """Remove catch-all outgoing listeners of ``"/"``."""
        self.of("/").off_any_outgoing(listener)

    def event(self, func: F) -> F:
        """Decorator: handler for the event named like the function, on ``"/"``."""
        return self.of("/").event(func)

    def use(self, middleware: F) -> F:
        """Connect middleware on ``"/"`` (see `Namespace.use`)."""
        return self.of("/").use(middleware)

    def on_any(self, listener: F) -> F:
        """Catch-all incoming listener on ``"/"``."""
        return self.of("/").on_any(listener)

    def on_any_outgoing(self, listener: F) -> F:
        """Catch-all outgoing listener on ``"/"``."""
        return self.of("/").on_any_outgoing(listener)

    def to(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Target ``room`` in ``"/"``."""
        return self.of("/").to(room)

    in_ = to

    def except_(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Everyone in ``"/"`` but ``room``."""
        return self.of("/").except_(room)

    @property
    def volatile(self) -> BroadcastOperator:
        """A volatile broadcast on ``"/"``."""
        return self.of("/").volatile

    @property
    def local(self) -> BroadcastOperator:
        """A broadcast to this server's sockets on ``"/"``."""
        return self.of("/").local

    def compress(self, value: bool = True) -> BroadcastOperator:
        """A broadcast on ``"/"`` with compression on or off."""
        return self.of("/").compress(value)

    def timeout(self, seconds: float) -> BroadcastOperator:
        """A broadcast on ``"/"`` whose acks are awaited for ``seconds``."""
        return self.of("/").timeout(seconds)

    async def emit_with_ack(self, event: str, *args: Any) -> AckResults:
        """Send ``event`` to everyone in ``"/"`` and collect the acks."""
        return await self.of("/").emit_with_ack(event, *args)

    async def fetch_sockets(self) -> list[FetchedSocket]:
        """Every socket of ``"/"``."""
        return await self.of("/").fetch_sockets()

    async def sockets_join(self, room: str | Iterable[str]) -> None:
        """Make every socket of ``"/"`` join ``room``."""
        await self.of("/").sockets_join(room)

    async def sockets_leave(self, room: str | Iterable[str]) -> None:
        """Make every socket of ``"/"`` leave ``room``."""
        await self.of("/").sockets_leave(room)

    async def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every socket of ``"/"``."""
        await self.of("/").disconnect_sockets(close)
