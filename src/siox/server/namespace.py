"""`Namespace`: the handler table of one namespace, its local sockets and its adapter.

A namespace knows nothing of the server that holds it: what it needs (how to make its adapter,
whether recovery is on) is given at construction.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, overload

from ..adapters.base import Adapter, BroadcastOptions, FetchedSocket, LocalSockets
from ..adapters.memory import InMemoryAdapter
from ..callables import required_positional
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

#: Why a connect handler requiring three arguments is refused.
CONNECT_ARITY = (
    "a siox connect handler is handler(socket, auth) (or handler(socket)); python-socketio's "
    "connect(sid, environ, auth) has no equivalent: the request is socket.handshake"
)
#: Why ``on("*")`` is refused.
CATCH_ALL = (
    "siox has no '*' event (python-socketio's catch-all): register a catch-all with "
    "@sio.on_any, called as listener(socket, event, *args)"
)


def _check_callable(func: object, what: str) -> None:
    if not callable(func):
        raise TypeError(f"a {what} must be callable, not {type(func).__name__}")


def _unwrap(handler: Handler) -> Handler:
    inner: Handler = getattr(handler, "_siox_once", handler)
    return inner


def _remove(listeners: list[Handler], listener: Handler | None) -> None:
    # In place: the children of a dynamic namespace share these lists.
    if listener is None:
        listeners.clear()
    elif listener in listeners:
        listeners.remove(listener)


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

    handler_wrapper: Callable[[str, Handler], Handler] | None = None  # `siox.typed`, when on

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
        self._connecting: weakref.WeakSet[Socket] = weakref.WeakSet()
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

    def connecting(self, socket: Socket) -> None:
        """``socket`` is being connected: a dynamic child namespace is kept until it is done.

        Held weakly: a connection abandoned half-way is forgotten with its socket.
        """
        if self.parent is not None:  # (only a dynamic child is ever removed: `left`)
            self._connecting.add(socket)

    def attach(self, socket: Socket) -> None:
        """``socket`` is connected: one of this namespace's local sockets."""
        self._connecting.discard(socket)
        self.local_sockets.by_id[socket.id] = socket

    def detach(self, socket: Socket) -> None:
        """``socket`` is gone from this namespace's local sockets."""
        self._connecting.discard(socket)
        by_id = self.local_sockets.by_id
        if by_id.get(socket.id) is socket:
            del by_id[socket.id]

    def adapters(self) -> tuple[Adapter, ...]:
        """The adapters a broadcast on this namespace goes through: its own."""
        return (self.adapter,)

    def left(self) -> None:
        """A socket has left (and its rooms are emptied): an empty dynamic child may go.

        With ``cleanup_empty_child_namespaces`` (on by default), a child of a dynamic
        namespace rule that has no socket left is removed (`ParentNamespace.remove_child`).
        """
        if self.parent is not None and not self.local_sockets.by_id and not self._connecting:
            self.parent.remove_child(self)

    # -- registration -----------------------------------------------------------------------------

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, handler: F) -> F: ...
    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Register ``handler`` for ``event``; usable as a decorator (``@ns.on("chat")``).

        One handler per event: registering again replaces it.

        Raises:
            TypeError: ``handler`` is not callable (``sio.on("x")(42)``).
            ValueError: ``event`` is ``"*"`` (python-socketio's catch-all; siox's is
                `on_any`).
        """
        if event == "*":
            raise ValueError(CATCH_ALL)

        def register(func: F) -> F:
            _check_callable(func, "handler")
            name = "connect" if event == "connection" else event
            if name == "connect" and required_positional(_unwrap(func)) > 2:
                raise TypeError(CONNECT_ARITY)
            self.handlers[name] = self._typed(name, func)
            if name in _WITH_ARGUMENT:
                self.handler_wants_arg[name] = accepts_positional(func, 2)
            return func

        return register if handler is None else register(handler)

    @overload
    def once(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def once(self, event: str, handler: F) -> F: ...
    def once(self, event: str, handler: Handler | None = None) -> Any:
        """As `on`, but the handler is removed before its first call."""

        def register(func: F) -> F:
            _check_callable(func, "handler")
            name = "connect" if event == "connection" else event
            call = self._typed(name, func)

            def run_once(*args: Any) -> Any:
                if self.handlers.get(name) is run_once:
                    del self.handlers[name]
                return call(*args)

            run_once._siox_once = func  # type: ignore[attr-defined]
            self.on(event, run_once)
            if name in _WITH_ARGUMENT:
                self.handler_wants_arg[name] = accepts_positional(func, 2)
            return func

        return register if handler is None else register(handler)

    def _typed(self, name: str, func: Handler) -> Handler:
        wrap = self.handler_wrapper
        skip = wrap is None or name in _WITH_ARGUMENT or hasattr(func, "_siox_once")
        return func if skip or wrap is None else wrap(name, func)

    def off(self, event: str, handler: Handler | None = None) -> None:
        """Remove the handler of ``event`` (only if it is ``handler``, when given)."""
        name = "connect" if event == "connection" else event
        current = self.handlers.get(name)
        if current is None:
            return
        if handler is None or current is handler or _unwrap(current) is handler:
            del self.handlers[name]

    def listeners(self, event: str) -> list[Handler]:
        """The handlers of ``event`` (a list of zero or one: one handler per event)."""
        name = "connect" if event == "connection" else event
        current = self.handlers.get(name)
        return [] if current is None else [_unwrap(current)]

    def off_any(self, listener: Handler | None = None) -> None:
        """Remove an incoming catch-all listener, or all of them when none is given."""
        _remove(self.any_listeners, listener)

    def off_any_outgoing(self, listener: Handler | None = None) -> None:
        """Remove an outgoing catch-all listener, or all of them when none is given."""
        _remove(self.any_outgoing_listeners, listener)

    def listeners_any(self) -> list[Handler]:
        """The incoming catch-all listeners."""
        return list(self.any_listeners)

    def listeners_any_outgoing(self) -> list[Handler]:
        """The outgoing catch-all listeners."""
        return list(self.any_outgoing_listeners)

    def event(self, func: F) -> F:
        """Decorator registering ``func`` for the event named like the function."""
        self.on(func.__name__, func)
        return func

    def use(self, middleware: F) -> F:
        """Add a connect middleware ``(socket, auth)``; raise `siox.ConnectionRefused` to refuse.

        Middlewares run in the order they were added, before the connect handler.
        """
        _check_callable(middleware, "middleware")
        self.middlewares.append(middleware)
        return middleware

    def use_event(self, middleware: F) -> F:
        """Add an event middleware ``(socket, args)`` run before every event handler.

        ``args[0]`` is the event name; raising stops the event (the error goes to the
        server's error hook).
        """
        _check_callable(middleware, "middleware")
        self.event_middlewares.append(middleware)
        return middleware

    def on_any(self, listener: F) -> F:
        """Catch-all for incoming events: ``listener(socket, event, *args)``."""
        _check_callable(listener, "listener")
        self.any_listeners.append(listener)
        return listener

    def on_any_outgoing(self, listener: F) -> F:
        """Catch-all for outgoing events: ``listener(socket, event, *args)``."""
        _check_callable(listener, "listener")
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
        cleanup_empty_children: bool = True,
        forget: Callable[[Namespace], None] | None = None,
    ) -> None:
        # No socket ever joins the rule itself: its own adapter is a local one that stays empty
        # (a cluster adapter would otherwise subscribe to a namespace nobody uses).
        super().__init__(
            f"<dynamic {matcher!r}>", InMemoryAdapter, recovery=recovery, timers=timers
        )
        self._adapter_factory = adapter_factory
        self.matcher = matcher
        self.children: set[Namespace] = set()
        #: remove a child namespace once its last socket has left
        self.cleanup_empty_children = cleanup_empty_children
        self._forget = forget
        self._closing: set[asyncio.Task[None]] = set()

    def create_child(self, name: str) -> Namespace:
        """The namespace ``name`` created from this rule (sharing handlers and middlewares)."""
        child = Namespace(
            name,
            self._adapter_factory,
            recovery=self.recovery,
            timers=self.session_timers,
            parent=self,
        )
        child.handler_wrapper = self.handler_wrapper
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

    def remove_child(self, child: Namespace) -> None:
        """Remove an empty child (when ``cleanup_empty_children``) and close its adapter.

        The server forgets it too, so the next CONNECT to that name creates a new child.
        """
        if not self.cleanup_empty_children or child not in self.children:
            return
        self.children.discard(child)
        if self._forget is not None:
            self._forget(child)
        task = asyncio.get_running_loop().create_task(child.adapter.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
