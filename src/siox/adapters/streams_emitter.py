"""`RedisStreamsEmitter`: broadcast to a Redis streams cluster from a process that is no server.

It writes what `siox.adapters.streams.RedisStreamsAdapter` (and npm
``@socket.io/redis-streams-adapter`` 0.3) reads: broadcasts and bulk operations as stream entries
from uid ``emitter``, server-side emits as ``@msgpack/msgpack`` messages on ``prefix#nsp#``. npm
has no counterpart. Same API as `siox.adapters.redis.RedisEmitter`; no acknowledgements.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from ..parser import Packet, PacketType
from .emitter import _RESERVED, EMITTER_UID, Emitter, EmitterOperator
from .messages import MessageType, encode_entry, encode_msgpack
from .streams import stream_for
from .wire import options_to_wire, packet_to_wire

__all__ = ["RedisStreamsEmitter"]


@dataclass(frozen=True, slots=True)
class _Sink:
    client: aioredis.Redis
    stream_name: str
    max_len: int

    async def append(self, nsp: str, kind: MessageType, data: dict[str, Any]) -> None:
        message = {"uid": EMITTER_UID, "nsp": nsp, "type": int(kind), "data": data}
        fields: Any = encode_entry(message)
        await self.client.xadd(self.stream_name, fields, maxlen=self.max_len, approximate=True)


@dataclass(frozen=True, slots=True)
class StreamsEmitterOperator(EmitterOperator):
    """An `EmitterOperator` writing to the stream."""

    sink: _Sink | None = None

    def _selection(self) -> dict[str, Any]:
        opts = self.options
        return {"rooms": sorted(opts.rooms), "except": sorted(opts.except_rooms), "flags": {}}

    async def emit(self, event: str, *args: Any) -> None:
        """Send ``event`` to the targeted sockets of every server."""
        if event in _RESERVED:
            raise ValueError(f"{event!r} is a reserved event name")
        assert self.sink is not None
        packet = Packet(PacketType.EVENT, self.nsp, [event, *args])
        data = {"packet": packet_to_wire(packet), "opts": options_to_wire(self.options)}
        await self.sink.append(self.nsp, MessageType.BROADCAST, data)

    async def sockets_join(self, room: str | Iterable[str]) -> None:
        """Make the targeted sockets join ``room``."""
        assert self.sink is not None
        rooms = sorted((room,) if isinstance(room, str) else room)
        data = {"opts": self._selection(), "rooms": rooms}
        await self.sink.append(self.nsp, MessageType.SOCKETS_JOIN, data)

    async def sockets_leave(self, room: str | Iterable[str]) -> None:
        """Make the targeted sockets leave ``room``."""
        assert self.sink is not None
        rooms = sorted((room,) if isinstance(room, str) else room)
        data = {"opts": self._selection(), "rooms": rooms}
        await self.sink.append(self.nsp, MessageType.SOCKETS_LEAVE, data)

    async def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect the targeted sockets."""
        assert self.sink is not None
        data = {"opts": self._selection(), "close": close}
        await self.sink.append(self.nsp, MessageType.DISCONNECT_SOCKETS, data)


class RedisStreamsEmitter(Emitter):
    """The emitter of a Redis streams cluster, for one namespace; ``of("/other")`` gives another.

    ``await RedisStreamsEmitter(client).of("/chat").to("room").emit("ev", x)``.

    Args:
        client: a ``redis.asyncio.Redis`` returning bytes.
        stream_name: the stream the servers read (their ``stream_name``).
        channel_prefix: the servers' ``channel_prefix`` (server-side emits go there).
        nsp: the namespace (``"/"``).
        max_len: the stream is trimmed to about this many entries, as the servers do.
        stream_count: the servers' ``stream_count`` (the namespace's stream is chosen as they
            choose it).
        use_sharded_pubsub: the servers' ``use_sharded_pubsub`` (server-side emits go out
            with ``SPUBLISH``).
    """

    def __init__(
        self,
        client: aioredis.Redis,
        stream_name: str = "socket.io",
        *,
        channel_prefix: str = "socket.io",
        nsp: str = "/",
        max_len: int = 10_000,
        stream_count: int = 1,
        use_sharded_pubsub: bool = False,
    ) -> None:
        from .redis_bus import check_client

        check_client(client)
        if stream_count < 1:
            raise ValueError("stream_count must be >= 1")
        self.client = client
        self.stream_name = stream_name
        self.channel_prefix = channel_prefix
        self.max_len = max_len
        self.stream_count = stream_count
        self.use_sharded_pubsub = use_sharded_pubsub
        super().__init__(client.publish, channel_prefix, nsp)
        sink = _Sink(client, stream_for(self.nsp, stream_name, stream_count), max_len)
        self._all = StreamsEmitterOperator(client.publish, channel_prefix, self.nsp, sink=sink)

    def of(self, nsp: str) -> RedisStreamsEmitter:
        """The emitter of namespace ``nsp``."""
        return RedisStreamsEmitter(
            self.client,
            self.stream_name,
            channel_prefix=self.channel_prefix,
            nsp=nsp,
            max_len=self.max_len,
            stream_count=self.stream_count,
            use_sharded_pubsub=self.use_sharded_pubsub,
        )

    async def server_side_emit(self, event: str, *args: Any) -> None:
        """Send ``event`` to the ``on_server_side`` handlers of every server (no ack)."""
        message = {"uid": EMITTER_UID, "nsp": self.nsp, "type": int(MessageType.SERVER_SIDE_EMIT)}
        message["data"] = {"packet": [event, *args]}
        channel, payload = f"{self.channel_prefix}#{self.nsp}#", encode_msgpack(message)
        if self.use_sharded_pubsub:
            await self.client.execute_command("SPUBLISH", channel, payload)  # type: ignore[no-untyped-call]
        else:
            await self.client.publish(channel, payload)
