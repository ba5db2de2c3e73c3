"""`RemoteSocket`: a socket held by another server of the cluster, as ``fetch_sockets`` gives it.

Its operations go through the adapter that fetched it, as broadcasts and requests targeting
the room named by the socket's id (what socket.io's ``RemoteSocket`` does), so they reach the
socket wherever it lives, siox or Node.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..parser import Packet, PacketType
from .base import BroadcastOptions
from .wire import WireError, check_data

if TYPE_CHECKING:
    from .base import Adapter

__all__ = ["RemoteSocket", "describe_socket"]


class RemoteSocket:
    """A socket of another server.

    Attributes:
        id: the socket id.
        rooms: the rooms it was in when fetched.
        data: its ``socket.data`` when fetched (a copy).
        handshake: its handshake as the other server described it (a plain dict:
            ``headers``, ``query``, ``auth``, ``address``, ``url``, ``issued``, ...).
    """

    __slots__ = ("_adapter", "data", "handshake", "id", "rooms")

    def __init__(
        self,
        adapter: Adapter,
        sid: str,
        rooms: frozenset[str],
        data: dict[str, Any],
        handshake: dict[str, Any],
    ) -> None:
        self._adapter = adapter
        self.id = sid
        self.rooms = rooms
        self.data = data
        self.handshake = handshake

    def __repr__(self) -> str:
        return f"<RemoteSocket {self.id} {self._adapter.nsp}>"

    def _only_me(self) -> BroadcastOptions:
        return BroadcastOptions(rooms=frozenset((self.id,)))

    async def emit(self, event: str, *args: Any) -> None:
        """Send it ``event`` (through the cluster)."""
        packet = Packet(PacketType.EVENT, self._adapter.nsp, [event, *args])
        await self._adapter.broadcast(packet, self._only_me())

    async def join(self, room: str | Iterable[str]) -> None:
        """Make it join ``room`` (a name or several)."""
        rooms = (room,) if isinstance(room, str) else tuple(room)
        await self._adapter.add_sockets(self._only_me(), rooms)

    async def leave(self, room: str) -> None:
        """Make it leave ``room``."""
        await self._adapter.del_sockets(self._only_me(), (room,))

    async def disconnect(self, close: bool = False) -> None:
        """Disconnect it (its whole connection when ``close``)."""
        await self._adapter.disconnect_sockets(self._only_me(), close)

    @classmethod
    def from_wire(cls, adapter: Adapter, value: Any) -> RemoteSocket:
        """The proxy of one entry of a ``REMOTE_FETCH`` response (checked)."""
        if not isinstance(value, dict):
            raise WireError("a fetched socket is not a map")
        sid, rooms = value.get("id"), value.get("rooms", [])
        data, handshake = value.get("data") or {}, value.get("handshake") or {}
        if not isinstance(sid, str) or not isinstance(rooms, list):
            raise WireError("a fetched socket without id or rooms")
        if not all(isinstance(room, str) for room in rooms):
            raise WireError("a fetched socket's room is not a string")
        if not isinstance(data, dict) or not isinstance(handshake, dict):
            raise WireError("a fetched socket's data or handshake is not a map")
        check_data(data)
        check_data(handshake)
        return cls(adapter, sid, frozenset(rooms), data, handshake)


def describe_socket(socket: Any) -> dict[str, Any]:
    """A local socket as a ``REMOTE_FETCH`` response describes it (JSON-ready)."""
    handshake = getattr(socket, "handshake", None)
    if dataclasses.is_dataclass(handshake) and not isinstance(handshake, type):
        shake: dict[str, Any] = dataclasses.asdict(handshake)
        shake.setdefault("xdomain", False)
    else:
        shake = {}
    return {
        "id": socket.id,
        "handshake": shake,
        "rooms": sorted(socket.rooms),
        "data": socket.data,
    }
