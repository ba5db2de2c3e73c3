"""The adapter contract: `Adapter`, what it is given (`LocalSockets`) and what it passes around.

The contract is socket.io-adapter's, in Python style, async throughout so that a cluster adapter
can do I/O in any of its methods:

* membership: ``add_all``, ``delete``, ``delete_all``;
* broadcasting: ``broadcast`` (with `BroadcastOptions`), ``broadcast_with_ack``;
* bulk operations: ``fetch_sockets``, ``add_sockets``, ``del_sockets``, ``disconnect_sockets``;
* between servers: ``server_side_emit``, ``server_side_emit_with_ack``, ``server_count``;
* connection state recovery: ``persist_session``, ``restore_session``.

The server performs every one of these operations through the adapter and never reaches around
it. In return it hands each adapter the namespace's `LocalSockets`: the sockets this process
holds, their room index (sans-I/O, `siox.socketio.rooms.RoomIndex`), and the three things only
the server can do with them — send one packet to many (encoded once per protocol), send with
acks, disconnect. An adapter never touches a socket's connection itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..parser import Packet
from ..socketio.rooms import RoomIndex

__all__ = [
    "AckCount",
    "AckReply",
    "Adapter",
    "BroadcastOptions",
    "FetchedSocket",
    "LocalSockets",
    "SessionState",
]

#: ``on_reply(socket_id, args)``: one reply to a broadcast with acks; ``args`` is None when the
#: socket disconnected before answering. The id is ``""`` where it is not known.
AckReply = Callable[[str, "list[Any] | None"], None]
#: ``on_count(n, socket_ids)``: ``n`` more replies are expected (from these ids, when known).
AckCount = Callable[[int, Iterable[str]], None]


@dataclass(frozen=True, slots=True)
class BroadcastOptions:
    """Who a broadcast goes to and how.

    Attributes:
        rooms: the rooms targeted (none: the whole namespace).
        except_rooms: rooms whose members are left out.
        volatile: the packet may be dropped for a client that is not ready for it.
        compress: whether the packet may be compressed.
        local: only this server's sockets (matters in a cluster).
        timeout: how long a broadcast with acks waits (seconds; None: until every reply).
    """

    rooms: frozenset[str] = frozenset()
    except_rooms: frozenset[str] = frozenset()
    volatile: bool = False
    compress: bool = True
    local: bool = False
    timeout: float | None = None


@dataclass(slots=True)
class SessionState:
    """What recovery keeps of a disconnected socket, and the packets it missed."""

    sid: str
    pid: str
    rooms: list[str]
    data: dict[str, Any]
    disconnected_at: float = 0.0
    missed_packets: list[list[Any]] = field(default_factory=list)


class FetchedSocket(Protocol):
    """A socket as ``fetch_sockets`` returns it: local, or a proxy of a remote one."""

    @property
    def id(self) -> str:
        """The socket id."""
        ...

    @property
    def rooms(self) -> frozenset[str]:
        """The rooms it is in."""
        ...

    @property
    def data(self) -> dict[str, Any]:
        """Its ``socket.data``."""
        ...

    async def emit(self, event: str, *args: Any) -> None:
        """Send it an event."""
        ...

    async def join(self, room: str | Iterable[str]) -> None:
        """Make it join ``room``."""
        ...

    async def leave(self, room: str) -> None:
        """Make it leave ``room``."""
        ...

    async def disconnect(self, close: bool = False) -> None:
        """Disconnect it."""
        ...


class LocalSockets(Protocol):
    """The sockets of one namespace that this process holds: the server's side of the contract."""

    @property
    def name(self) -> str:
        """The namespace name."""
        ...

    @property
    def rooms(self) -> RoomIndex:
        """The local room index; adapters change it only from their membership methods."""
        ...

    def send(self, sids: Iterable[str], packet: Packet, opts: BroadcastOptions) -> None:
        """Write ``packet`` to each connected socket of ``sids``, encoded once per protocol."""
        ...

    def send_with_ack(
        self,
        sids: Iterable[str],
        packet: Packet,
        on_reply: AckReply,
        timeout: float | None = None,
    ) -> list[str]:
        """Send ``packet`` with a fresh ack id to each connected socket; return their ids.

        With ``timeout`` (seconds), acks still awaited then are forgotten.
        """
        ...

    def disconnect(self, sids: Iterable[str], close: bool) -> None:
        """Disconnect each socket (its whole connection too when ``close``)."""
        ...

    def sockets(self, sids: Iterable[str]) -> list[FetchedSocket]:
        """The socket handles of ``sids`` (unknown ids are skipped)."""
        ...

    def server_side_event(self, args: list[Any], ack: Callable[[Any], None] | None) -> None:
        """Deliver an event from another server to this namespace's server-side handlers.

        ``args`` has the event name first; ``ack(value)`` sends the handler's return value back
        when the sender asked for one (None: it did not).
        """
        ...


class Adapter(ABC):
    """The adapter contract. Subclass `siox.adapters.InMemoryAdapter` to add a cluster half.

    Args:
        local: the namespace's local sockets, handed over by the server.
    """

    def __init__(self, local: LocalSockets) -> None:
        self.local = local

    @property
    def nsp(self) -> str:
        """The namespace this adapter serves."""
        return self.local.name

    # -- membership -------------------------------------------------------------------------------

    @abstractmethod
    async def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        """Put socket ``sid`` in ``rooms`` (the server calls it with the socket's own id first)."""

    @abstractmethod
    async def delete(self, sid: str, room: str) -> None:
        """Take socket ``sid`` out of ``room``."""

    @abstractmethod
    async def delete_all(self, sid: str) -> None:
        """Take socket ``sid`` out of every room: it is gone."""

    # -- broadcasting -----------------------------------------------------------------------------

    @abstractmethod
    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Send ``packet`` to every socket ``opts`` selects."""

    @abstractmethod
    async def broadcast_with_ack(
        self, packet: Packet, opts: BroadcastOptions, on_count: AckCount, on_reply: AckReply
    ) -> None:
        """Send ``packet`` asking each selected socket for an ack.

        ``on_count`` reports how many replies to expect (it may be called more than once, e.g.
        once per server of a cluster); ``on_reply`` then reports each reply.
        """

    # -- bulk operations --------------------------------------------------------------------------

    @abstractmethod
    async def fetch_sockets(self, opts: BroadcastOptions) -> list[FetchedSocket]:
        """The selected sockets."""

    @abstractmethod
    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the selected sockets join ``rooms``."""

    @abstractmethod
    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make the selected sockets leave ``rooms``."""

    @abstractmethod
    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        """Disconnect the selected sockets (their whole connection when ``close``)."""

    # -- between servers (defaults: a single server) ----------------------------------------------

    async def server_side_emit(self, args: list[Any]) -> None:  # noqa: B027
        """Send ``args`` (event name first) to the other servers; alone, there is none."""

    async def server_side_emit_with_ack(
        self, args: list[Any], on_count: AckCount, on_reply: AckReply
    ) -> None:
        """`server_side_emit` asking each other server for a reply; alone, none is expected."""
        on_count(0, ())

    async def server_count(self) -> int:
        """How many servers share this namespace."""
        return 1

    # -- connection state recovery (defaults: nothing kept) ---------------------------------------

    def configure_recovery(self, max_disconnection_duration: float) -> None:  # noqa: B027
        """The server has recovery on with this window (seconds); called once, at creation."""

    async def persist_session(self, session: SessionState) -> None:  # noqa: B027
        """Keep a disconnected socket's state for recovery."""

    async def restore_session(self, pid: str, offset: str) -> SessionState | None:
        """The state of a socket that comes back, with what it missed (None: start afresh)."""
        return None

    # -- lifecycle --------------------------------------------------------------------------------

    async def close(self) -> None:  # noqa: B027
        """Release what the adapter holds (the server is shutting down)."""
