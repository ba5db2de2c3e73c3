"""Events a `SocketConnection` reports upward: frozen, slotted, named for what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeVar

_T = TypeVar("_T")

__all__ = [
    "AckReceived",
    "ConnectRefused",
    "ConnectRequested",
    "Connected",
    "DisconnectRequested",
    "Disconnected",
    "EventReceived",
    "SocketEvent",
]


@dataclass(frozen=True, slots=True)
class ConnectRequested:
    """Server role: the client asks to join ``nsp`` with ``auth`` (``{}`` when none was sent)."""

    nsp: str
    auth: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Connected:
    """Client role: the server accepted ``nsp``.

    ``sid`` is the socket id, ``pid`` the private id for connection state recovery (None when
    recovery is off).
    """

    nsp: str
    sid: str
    pid: str | None


@dataclass(frozen=True, slots=True)
class ConnectRefused:
    """Client role: the server refused ``nsp`` (CONNECT_ERROR / ERROR)."""

    nsp: str
    message: str
    data: Any


@dataclass(frozen=True, slots=True)
class EventReceived:
    """An event for ``nsp``: ``args[0]`` is the event name; ``ack_id`` asks for an ACK."""

    nsp: str
    args: list[Any]
    ack_id: int | None


@dataclass(frozen=True, slots=True)
class AckReceived:
    """The peer acknowledged our event ``ack_id`` with ``args``."""

    nsp: str
    ack_id: int
    args: list[Any]


@dataclass(frozen=True, slots=True)
class DisconnectRequested:
    """Server role: the client left ``nsp``."""

    nsp: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    """Client role: the server disconnected us from ``nsp``."""

    nsp: str


def _fast_init3(cls: type[_T]) -> Callable[[Any, Any, Any], _T]:
    """A constructor for a three-field slotted class that fills the slots directly.

    A frozen dataclass ``__init__`` goes through ``object.__setattr__`` per field, which costs
    as much as decoding a small packet; this is for the per-message path.
    """
    first, second, third = (getattr(cls, f.name).__set__ for f in fields(cls))  # type: ignore[arg-type]
    new = object.__new__

    def build(a: Any, b: Any, c: Any) -> _T:
        instance: _T = new(cls)
        first(instance, a)
        second(instance, b)
        third(instance, c)
        return instance

    return build


#: Fast constructors used on the per-message path.
new_event_received = _fast_init3(EventReceived)
new_ack_received = _fast_init3(AckReceived)

SocketEvent = (
    ConnectRequested
    | Connected
    | ConnectRefused
    | EventReceived
    | AckReceived
    | DisconnectRequested
    | Disconnected
)
