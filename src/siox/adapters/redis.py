"""The Redis adapters and emitters (the sharded and streams ones are re-exported here).

The classic adapter and emitter, defined here, are wire-compatible with npm
``@socket.io/redis-adapter`` 8.3 and ``@socket.io/redis-emitter`` 5.1; Valkey works the same.

    import redis.asyncio
    from siox.adapters.redis import redis_adapter

    client = redis.asyncio.Redis.from_url("redis://localhost:6379")
    sio = siox.Server(adapter=redis_adapter(client, key="socket.io", requests_timeout=5.0))

The client must return bytes (``decode_responses=False``, redis-py's default): broadcasts are
binary. The adapter takes one extra connection from the client's pool for its subscriptions,
shared by every namespace. Needs the ``redis`` extra: ``pip install "siox[redis]"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .base import LocalSockets
from .cluster import ClusterAdapter
from .collision import ChannelCollision, refuse_classic_collision
from .emitter import Emitter
from .pubsub import MessageHandler

try:
    import redis.asyncio as aioredis
except ImportError as exc:  # pragma: no cover - the one place the extra is imported
    raise ImportError('siox.adapters.redis needs redis-py: pip install "siox[redis]"') from exc

from .redis_bus import RedisSubscriber, check_client, redis_publisher
from .sharded import ShardedPubSubUnsupported, sharded_redis_adapter
from .streams import redis_streams_adapter
from .streams_emitter import RedisStreamsEmitter

__all__ = [
    "ChannelCollision",
    "RedisEmitter",
    "RedisPubSub",
    "RedisStreamsEmitter",
    "ShardedPubSubUnsupported",
    "redis_adapter",
    "redis_streams_adapter",
    "sharded_redis_adapter",
]


class RedisPubSub(RedisSubscriber):
    """The Redis side of a `ClusterAdapter`: one shared subscriber, pipelined publishes.

    Publishes go through an `siox.adapters.pubsub.OrderedPublisher`: in order, without
    waiting for each ``PUBLISH`` to come back (as npm's adapter does with node-redis).

    Args:
        client: a ``redis.asyncio.Redis`` returning bytes.
    """

    def __init__(self, client: aioredis.Redis) -> None:
        super().__init__(client)
        self.publisher = redis_publisher(client)

    async def publish(self, channel: str, message: bytes) -> None:
        """Queue ``PUBLISH channel message`` (after what this node published before)."""
        await self.publisher.publish(channel, message)

    async def numsub(self, channel: str) -> int:
        """``PUBSUB NUMSUB channel``."""
        reply = await self.client.pubsub_numsub(channel)
        return int(reply[0][1]) if reply else 0

    async def subscribe(
        self, pattern: str, channels: Sequence[str], handler: MessageHandler
    ) -> None:
        """Route ``pattern`` (none when empty) and ``channels`` to ``handler``.

        Raises:
            ChannelCollision: with a pattern ``key#nsp#*`` (a classic adapter), when sharded or
                streams nodes use ``key`` as their prefix on this Redis.
        """
        if pattern.endswith("#*") and pattern not in self._patterns:
            key, _, nsp = pattern[:-2].partition("#")
            await refuse_classic_collision(self.client, key, nsp)
        await super().subscribe(pattern, channels, handler)

    async def close(self) -> None:
        """Send what is queued (for 5 s at most), stop reading, release the connection."""
        await self.publisher.flush(5.0)
        await super().close()


def redis_adapter(
    client: aioredis.Redis,
    *,
    key: str = "socket.io",
    requests_timeout: float = 5.0,
    max_message_size: int = 8_000_000,
    max_disconnection_duration: float | None = None,
) -> Callable[[LocalSockets], ClusterAdapter]:
    """The adapter factory for ``siox.Server(adapter=...)``: the classic Redis adapter.

    Args:
        client: a ``redis.asyncio.Redis`` returning bytes.
        key: the channel prefix (npm's ``key``; the same on every server of the cluster).
        requests_timeout: seconds requests to other servers wait; then they give partial
            results (npm's ``requestsTimeout``, in seconds).
        max_message_size: larger messages from Redis are logged and dropped (bytes).
        max_disconnection_duration: connection state recovery window on this node (seconds).
    """
    pubsub = RedisPubSub(client)

    def factory(local: LocalSockets) -> ClusterAdapter:
        return ClusterAdapter(
            local,
            pubsub,
            key=key,
            requests_timeout=requests_timeout,
            max_message_size=max_message_size,
            max_disconnection_duration=max_disconnection_duration,
        )

    return factory


class RedisEmitter(Emitter):
    """An `siox.adapters.emitter.Emitter` publishing with a Redis client.

    ``await RedisEmitter(client).of("/chat").to("room").emit("ev", x)``.
    """

    def __init__(self, client: aioredis.Redis, key: str = "socket.io", nsp: str = "/") -> None:
        check_client(client)
        self.client = client
        super().__init__(self._publish, key, nsp)

    async def _publish(self, channel: str, message: bytes) -> None:
        await self.client.publish(channel, message)
