"""`Namespace`: the handler table of one namespace, its local sockets and its adapter.

A namespace knows nothing of the server that holds it: what it needs (how to make its adapter,
whether recovery is on) is given at construction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, overload

from ..adapters.base import Adapter, BroadcastOptions, FetchedSocket, LocalSockets
from ..adapters.memory import InMemoryAdapter
from .engine_api import Timers
from .local import LocalSocketSet
from .operators import AckResults, BroadcastOperator
from .runner import accepts_positional
from .socket import Socket

__all__ = ["AdapterFactory", "Handler", "Middleware", "Namespace", "ParentNamespace"]

Handler = Callable[..., Any]
Middleware = Callable[..., Awaitable[None] | None]
AdapterFactory = Callable[[LocalSockets], Adapter]
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

    def __init__(
        self,
        name: str,
        adapter_factory: AdapterFactory,
        *,
        recovery: bool = False,
        timers: Callable[[], Timers] = asyncio.get_running_loop,
        parent: ParentNamespace | None = None,
    ) -> None:
        self.name = name
        self.parent = parent
        #: the clock broadcast ack timeouts run on (the server's)
        self.session_timers = timers
        #: whether emits go through the adapter to be kept for connection state recovery
        self.recovery = recovery
        self._adapter_factory = adapter_factory
        self.local_sockets = LocalSocketSet(name)
        self.handlers: dict[Any, Handler] = {}
        self.handler_wants_arg: dict[str, bool] = {}
        self.middlewares: list[Middleware] = []
        self.any_listeners: list[Handler] = []
        self.any_outgoing_listeners: list[Handler] = []
        self.event_middlewares: list[Middleware] = []
        self.adapter: Adapter = adapter_factory(self.local_sockets)

    def __repr__(self) -> str:
        return f"<Namespace {self.name} sockets={len(self.local_sockets)}>"

    @property
    def sockets(self) -> dict[str, Socket]:
        """The connected sockets of this namespace held by this process, by id."""
        return self.local_sockets.by_id

    def attach(self, socket: Socket) -> None:
        """``socket`` is connected: one of this namespace's local sockets."""
        self.local_sockets.by_id[socket.id] = socket

    def detach(self, socket: Socket) -> None:
        """``socket`` is gone from this namespace's local sockets."""
        by_id = self.local_sockets.by_id
        if by_id.get(socket.id) is socket:
            del by_id[socket.id]

    def adapters(self) -> tuple[Adapter, ...]:
        """The adapters a broadcast on this namespace goes through: its own."""
        return (self.adapter,)

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

    async def fetch_sockets(self) -> list[FetchedSocket]:
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
    """A dynamic namespace rule: its handlers and middlewares apply to every child.

    Broadcasts and bulk operations on the rule act on every child namespace it created.
    """

    def __init__(
        self,
        matcher: Callable[[str, dict[str, Any]], bool],
        adapter_factory: AdapterFactory,
        *,
        recovery: bool = False,
        timers: Callable[[], Timers] = asyncio.get_running_loop,
    ) -> None:
        # No socket ever joins the rule itself: its own adapter is a local one that stays empty
        # (a cluster adapter would otherwise subscribe to a namespace nobody uses).
        super().__init__(
            f"<dynamic {matcher!r}>", InMemoryAdapter, recovery=recovery, timers=timers
        )
        self._adapter_factory = adapter_factory
        self.matcher = matcher
        self.children: set[Namespace] = set()

    def create_child(self, name: str) -> Namespace:
        """The namespace ``name`` created from this rule (sharing handlers and middlewares)."""
        child = Namespace(
            name,
            self._adapter_factory,
            recovery=self.recovery,
            timers=self.session_timers,
            parent=self,
        )
        child.handlers = self.handlers
        child.handler_wants_arg = self.handler_wants_arg
        child.middlewares = self.middlewares
        child.any_listeners = self.any_listeners
        child.any_outgoing_listeners = self.any_outgoing_listeners
        child.event_middlewares = self.event_middlewares
        self.children.add(child)
        return child

    def adapters(self) -> tuple[Adapter, ...]:
        """The adapters of every child namespace."""
        return tuple(child.adapter for child in self.children)
