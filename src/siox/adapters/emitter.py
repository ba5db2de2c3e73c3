"""`Emitter`: broadcast to a cluster from a process that is not a server (a worker, a cron job).

Wire-compatible with npm ``@socket.io/redis-emitter`` 5.1: broadcasts are notepack
``["emitter", packet, opts]`` on ``key#nsp#`` (``key#nsp#room#`` for exactly one room); bulk
operations and server-side emits are JSON requests on ``key-request#nsp#``. Acknowledgements
are not supported (an emitter does not listen). `siox.adapters.redis.RedisEmitter` is this
over a Redis client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..parser import Packet, PacketType
from .base import BroadcastOptions
from .wire import RequestType, encode_broadcast, encode_json

__all__ = ["EMITTER_UID", "Emitter", "EmitterOperator", "Publish"]

#: ``publish(channel, message)``.
Publish = Callable[[str, bytes], Awaitable[Any]]
#: The uid an emitter's messages carry (npm's).
EMITTER_UID = "emitter"
_RESERVED = frozenset(
    ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener")
)
_EVERYONE = BroadcastOptions()


def _rooms(room: str | Iterable[str]) -> frozenset[str]:
    return frozenset((room,)) if isinstance(room, str) else frozenset(room)


@dataclass(frozen=True, slots=True)
class EmitterOperator:
    """An immutable broadcast target of an `Emitter` (``to``/``except_``/``volatile``/...)."""

    publish: Publish
    key: str
    nsp: str
    options: BroadcastOptions = _EVERYONE

    def to(self, room: str | Iterable[str]) -> EmitterOperator:
        """Also target the sockets in ``room``."""
        return replace(self, options=replace(self.options, rooms=self.options.rooms | _rooms(room)))

    in_ = to

    def except_(self, room: str | Iterable[str]) -> EmitterOperator:
        """Leave out the sockets in ``room``."""
        rooms = self.options.except_rooms | _rooms(room)
        return replace(self, options=replace(self.options, except_rooms=rooms))

    @property
    def volatile(self) -> EmitterOperator:
        """The packets may be dropped for clients that are not ready."""
        return replace(self, options=replace(self.options, volatile=True))

    def compress(self, value: bool = True) -> EmitterOperator:
        """Whether the packets may be compressed."""
        return replace(self, options=replace(self.options, compress=value))

    async def emit(self, event: str, *args: Any) -> None:
        """Send ``event`` to the targeted sockets of every server."""
        if event in _RESERVED:
            raise ValueError(f"{event!r} is a reserved event name")
        packet = Packet(PacketType.EVENT, self.nsp, [event, *args])
        channel = f"{self.key}#{self.nsp}#"
        if len(self.options.rooms) == 1:
            channel += f"{next(iter(self.options.rooms))}#"
        await self.publish(channel, encode_broadcast(EMITTER_UID, packet, self.options))

    async def _request(self, kind: int, **fields: Any) -> None:
        opts = {"rooms": sorted(self.options.rooms), "except": sorted(self.options.except_rooms)}
        message = encode_json({"type": kind, "opts": opts, **fields})
        await self.publish(f"{self.key}-request#{self.nsp}#", message)

    async def sockets_join(self, room: str | Iterable[str]) -> None:
        """Make the targeted sockets join ``room``."""
        await self._request(RequestType.REMOTE_JOIN, rooms=sorted(_rooms(room)))

    async def sockets_leave(self, room: str | Iterable[str]) -> None:
        """Make the targeted sockets leave ``room``."""
        await self._request(RequestType.REMOTE_LEAVE, rooms=sorted(_rooms(room)))

    async def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect the targeted sockets."""
        await self._request(RequestType.REMOTE_DISCONNECT, close=close)


class Emitter:
    """The emitter of one namespace; ``of("/other")`` gives another's.

    Args:
        publish: ``publish(channel, message)`` on the cluster's bus.
        key: the channel prefix the servers use (``"socket.io"``).
        nsp: the namespace (``"/"``).
    """

    def __init__(self, publish: Publish, key: str = "socket.io", nsp: str = "/") -> None:
        self.publish = publish
        self.key = key
        self.nsp = nsp if nsp.startswith("/") else f"/{nsp}"
        self._all = EmitterOperator(publish, key, self.nsp)

    def of(self, nsp: str) -> Emitter:
        """The emitter of namespace ``nsp``."""
        return Emitter(self.publish, self.key, nsp)

    def to(self, room: str | Iterable[str]) -> EmitterOperator:
        """Target the sockets in ``room``."""
        return self._all.to(room)

    in_ = to

    def except_(self, room: str | Iterable[str]) -> EmitterOperator:
        """Target everyone but the sockets in ``room``."""
        return self._all.except_(room)

    @property
    def volatile(self) -> EmitterOperator:
        """A volatile broadcast."""
        return self._all.volatile

    def compress(self, value: bool = True) -> EmitterOperator:
        """A broadcast with compression on or off."""
        return self._all.compress(value)

    async def emit(self, event: str, *args: Any) -> None:
        """Send ``event`` to every socket of the namespace, on every server."""
        await self._all.emit(event, *args)

    async def sockets_join(self, room: str | Iterable[str]) -> None:
        """Make every socket of the namespace join ``room``."""
        await self._all.sockets_join(room)

    async def sockets_leave(self, room: str | Iterable[str]) -> None:
        """Make every socket of the namespace leave ``room``."""
        await self._all.sockets_leave(room)

    async def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every socket of the namespace."""
        await self._all.disconnect_sockets(close)

    async def server_side_emit(self, event: str, *args: Any) -> None:
        """Send ``event`` to the ``on_server_side`` handlers of every server (no ack)."""
        message = {"uid": EMITTER_UID, "type": RequestType.SERVER_SIDE_EMIT, "data": [event, *args]}
        await self.publish(f"{self.key}-request#{self.nsp}#", encode_json(message))
