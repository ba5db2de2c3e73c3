"""`EventHandlers`: a client socket's handler table (``on``, ``once``, ``off``, catch-alls)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from .listeners import Listener

__all__ = ["EventHandlers"]

F = TypeVar("F", bound=Callable[..., Any])


def _remove_listener(listeners: list[Listener], func: Callable[..., Any] | None) -> None:
    if func is None:
        listeners.clear()
        return
    for listener in listeners:
        if listener.func is func:
            listeners.remove(listener)
            return


class EventHandlers:
    """One handler per event, plus catch-all listeners, as socket.io-client's ``Socket``.

    The names are socket.io-client's in Python style: `on`, `once`, `off`, `listeners`,
    `on_any`, `off_any`, `on_any_outgoing`, `off_any_outgoing`.
    """

    _handlers: dict[Any, Listener]
    _once: set[Any]
    _any: list[Listener]
    _any_outgoing: list[Listener]

    def init_handlers(self) -> None:
        """Start with no handler."""
        self._handlers = {}
        self._once = set()
        self._any = []
        self._any_outgoing = []

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def on(self, event: str, handler: F) -> F: ...
    def on(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """Register the handler of ``event`` (replacing any); usable as a decorator.

        The handler gets the event's arguments (surplus ones dropped if it declares fewer);
        its return value (awaited for a coroutine) acknowledges the event when the server
        asked for an ack. ``connect`` gets nothing, ``connect_error`` the exception,
        ``disconnect`` ``(reason, description)``.
        """

        def register(func: F) -> F:
            self._handlers[event] = Listener(func)
            self._once.discard(event)
            return func

        return register if handler is None else register(handler)

    def _handler(self, event: Any) -> Listener | None:
        """The handler of ``event``, removed first when it was registered with `once`."""
        if event in self._once:
            self._once.discard(event)
            return self._handlers.pop(event, None)
        return self._handlers.get(event)

    @overload
    def once(self, event: str, handler: None = None) -> Callable[[F], F]: ...
    @overload
    def once(self, event: str, handler: F) -> F: ...
    def once(self, event: str, handler: Callable[..., Any] | None = None) -> Any:
        """As `on`, but the handler is removed before its first call."""

        def register(func: F) -> F:
            self._handlers[event] = Listener(func)
            self._once.add(event)
            return func

        return register if handler is None else register(handler)

    def off(self, event: str, handler: Callable[..., Any] | None = None) -> None:
        """Remove the handler of ``event`` (only if it is ``handler``, when given)."""
        current = self._handlers.get(event)
        if current is not None and (handler is None or current.func is handler):
            del self._handlers[event]
            self._once.discard(event)

    def listeners(self, event: str) -> list[Callable[..., Any]]:
        """The handlers of ``event`` (zero or one: one handler per event)."""
        current = self._handlers.get(event)
        return [] if current is None else [current.func]

    def off_any(self, listener: Callable[..., Any] | None = None) -> None:
        """Remove an incoming catch-all listener, or all of them when none is given."""
        _remove_listener(self._any, listener)

    def off_any_outgoing(self, listener: Callable[..., Any] | None = None) -> None:
        """Remove an outgoing catch-all listener, or all of them when none is given."""
        _remove_listener(self._any_outgoing, listener)

    def listeners_any(self) -> list[Callable[..., Any]]:
        """The incoming catch-all listeners."""
        return [listener.func for listener in self._any]

    def listeners_any_outgoing(self) -> list[Callable[..., Any]]:
        """The outgoing catch-all listeners."""
        return [listener.func for listener in self._any_outgoing]

    def on_any(self, listener: F) -> F:
        """Call ``listener(event, *args)`` for every event received (before its handler)."""
        self._any.append(Listener(listener))
        return listener

    def on_any_outgoing(self, listener: F) -> F:
        """Call ``listener(event, *args)`` for every event sent."""
        self._any_outgoing.append(Listener(listener))
        return listener
