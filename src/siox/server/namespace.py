"""`Namespace`: handlers, connect middlewares, sockets and the adapter of one namespace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .adapter import Adapter, BroadcastOptions
from .operators import AckResults, BroadcastOperator
from .runner import accepts_positional

if TYPE_CHECKING:
    from .server import Server
    from .socket import Socket

__all__ = ["Handler", "Middleware", "Namespace"]

Handler = Callable[..., Any]
Middleware = Callable[..., Awaitable[None] | None]
F = TypeVar("F", bound=Callable[..., Any])

#: Handlers called with the socket and one more argument when they accept it.
_WITH_ARGUMENT = {
    "connect": "auth",
    "connection": "auth",
    "disconnect": "reason",
    "disconnecting": "reason",
}


class Namespace:
    """A namespace of a `siox.Server`; get one with ``sio.of("/name")``.

    Event handlers are called as ``handler(socket, *args)``; their return value is the ack.
    The ``connect`` handler gets ``(socket, auth)`` (or just ``(socket)``), ``disconnecting``
    and ``disconnect`` get ``(socket, reason)`` (or just ``(socket)``).
    """

    def __init__(self, server: Server, name: str, *, parent: Namespace | None = None) -> None:
        self.server = server
        self.name = name
        self.parent = parent
        self.sockets: dict[str, Socket] = {}
        self.handlers: dict[Any, Handler] = {}
        self.handler_wants_arg: dict[str, bool] = {}
        self.middlewares: list[Middleware] = []
        self.any_listeners: list[Handler] = []
        self.any_outgoing_listeners: list[Handler] = []
        self.event_middlewares: list[Middleware] = []
        self.adapter: Adapter = server.make_adapter(self)

    def __repr__(self) -> str:
        return f"<Namespace {self.name} sockets={len(self.sockets)}>"

    # -- registration -----------------------------------------------------------------------------

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, handler: F) -> F: ...
    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Register ``handler`` for ``event``; usable as a decorator (``@ns.on("chat")``)."""

        def register(func: F) -> F:
            name = "connect" if event == "connection" else event
            self.handlers[name] = func
            if name in _WITH_ARGUMENT:
                self.handler_wants_arg[name] = accepts_positional(func, 2)
            return func

        return register if handler is None else register(handler)

    def event(self, func: F) -> F:
        """Decorator registering ``func`` for the event named like the function."""
        self.on(func.__name__, func)
        return func

    def use(self, middleware: F) -> F:
        """Add a connect middleware ``(socket, auth)``; raise `siox.ConnectionRefused` to refuse.

        Middlewares run in the order they were added, before the connect handler.
        """
        self.middlewares.append(middleware)
        return middleware

    def use_event(self, middleware: F) -> F:
        """Add an event middleware ``(socket, args)`` run before every event handler.

        ``args[0]`` is the event name; raising stops the event (the error goes to the
        server's error hook).
        """
        self.event_middlewares.append(middleware)
        return middleware

    def on_any(self, listener: F) -> F:
        """Catch-all for incoming events: ``listener(socket, event, *args)``."""
        self.any_listeners.append(listener)
        return listener

    def on_any_outgoing(self, listener: F) -> F:
        """Catch-all for outgoing events: ``listener(socket, event, *args)``."""
        self.any_outgoing_listeners.append(listener)
        return listener

    def has_outgoing_listeners(self) -> bool:
        """Whether any outgoing catch-all listener is registered."""
        return bool(self.any_outgoing_listeners)

    # -- broadcasting -----------------------------------------------------------------------------

    def _operator(self) -> BroadcastOperator:
        return BroadcastOperator(self, BroadcastOptions())

    def to(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Target the sockets in ``room``."""
        return self._operator().to(room)

    in_ = to

    def except_(self, room: str | Iterable[str]) -> BroadcastOperator:
        """Target everyone but the sockets in ``room``."""
        return self._operator().except_(room)

    @property
    def volatile(self) -> BroadcastOperator:
        """A volatile broadcast to the whole namespace."""
        return self._operator().volatile

    @property
    def local(self) -> BroadcastOperator:
        """A broadcast to this server's sockets only."""
        return self._operator().local

    def compress(self, value: bool = True) -> BroadcastOperator:
        """A broadcast with compression on or off."""
        return self._operator().compress(value)

    def timeout(self, seconds: float) -> BroadcastOperator:
        """A broadcast whose acks are awaited for ``seconds``."""
        return self._operator().timeout(seconds)

    async def emit(self, event: str, *args: Any) -> None:
        """Send ``event`` to every socket of the namespace."""
        await self._operator().emit(event, *args)

    async def emit_with_ack(self, event: str, *args: Any) -> AckResults:
        """Send ``event`` to everyone and collect the acks."""
        return await self._operator().emit_with_ack(event, *args)

    async def fetch_sockets(self) -> list[Socket]:
        """Every socket of the namespace."""
        return await self._operator().fetch_sockets()

    async def sockets_join(self, room: str | Iterable[str]) -> None:
        """Make every socket join ``room``."""
        await self._operator().sockets_join(room)

    async def sockets_leave(self, room: str | Iterable[str]) -> None:
        """Make every socket leave ``room``."""
        await self._operator().sockets_leave(room)

    async def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every socket of the namespace."""
        await self._operator().disconnect_sockets(close)


class ParentNamespace(Namespace):
    """A dynamic namespace rule: its handlers and middlewares apply to every child."""

    def __init__(self, server: Server, matcher: Callable[[str, dict[str, Any]], bool]) -> None:
        super().__init__(server, f"<dynamic {matcher!r}>")
        self.matcher = matcher
        self.children: set[Namespace] = set()

    def create_child(self, name: str) -> Namespace:
        """The namespace ``name`` created from this rule (sharing handlers and middlewares)."""
        child = Namespace(self.server, name, parent=self)
        child.handlers = self.handlers
        child.handler_wants_arg = self.handler_wants_arg
        child.middlewares = self.middlewares
        child.any_listeners = self.any_listeners
        child.any_outgoing_listeners = self.any_outgoing_listeners
        child.event_middlewares = self.event_middlewares
        self.children.add(child)
        return child

    async def emit(self, event: str, *args: Any) -> None:
        """Send ``event`` to every socket of every child namespace."""
        for child in list(self.children):
            await child.emit(event, *args)
