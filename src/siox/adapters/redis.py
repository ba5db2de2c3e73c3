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

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from .base import LocalSockets
from .cluster import ClusterAdapter
from .collision import ChannelCollision, refuse_classic_collision
from .emitter import Emitter
from .pubsub import MessageHandler

try:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - the one place the extra is imported
    raise ImportError('siox.adapters.redis needs redis-py: pip install "siox[redis]"') from exc

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

logger = logging.getLogger("siox.cluster")

_POLL = 1.0  # seconds a read waits before checking again
_MAX_BACKOFF = 5.0


def _check_client(client: aioredis.Redis) -> None:
    if not isinstance(client, aioredis.Redis):
        raise TypeError("expected a redis.asyncio.Redis client")
    if client.connection_pool.connection_kwargs.get("decode_responses"):
        raise ValueError("the Redis client must return bytes (decode_responses=False)")


class RedisPubSub:
    """The Redis side of a `ClusterAdapter`: publish on ``client``, one shared subscriber.

    Args:
        client: a ``redis.asyncio.Redis`` returning bytes.
    """

    def __init__(self, client: aioredis.Redis) -> None:
        _check_client(client)
        self.client = client
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._patterns: dict[str, MessageHandler] = {}
        self._channels: dict[str, MessageHandler] = {}
        # One (un)subscription at a time: redis-py's PubSub opens its connection on its first
        # command, and two namespaces subscribing at once would each open one (the first
        # one's subscriptions then live on a connection nobody reads).
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, message: bytes) -> None:
        """``PUBLISH channel message``."""
        await self.client.publish(channel, message)

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
        async with self._lock:
            if pattern.endswith("#*") and pattern not in self._patterns:
                key, _, nsp = pattern[:-2].partition("#")
                await refuse_classic_collision(self.client, key, nsp)
            if self._pubsub is None:
                self._pubsub = self.client.pubsub()
            if pattern:
                self._patterns[pattern] = handler
            for channel in channels:
                self._channels[channel] = handler
            if pattern:
                await self._pubsub.psubscribe(pattern)
            await self._pubsub.subscribe(*channels)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.ensure_future(self._read())

    async def unsubscribe(self, pattern: str, channels: Sequence[str]) -> None:
        """Stop routing ``pattern`` and ``channels``; close the subscriber when none is left."""
        self._patterns.pop(pattern, None)
        for channel in channels:
            self._channels.pop(channel, None)
        if self._pubsub is None:
            return
        try:
            if pattern:
                await self._pubsub.punsubscribe(pattern)
            await self._pubsub.unsubscribe(*channels)
        except (RedisError, OSError) as exc:
            logger.warning("siox cluster: could not unsubscribe from Redis: %r", exc)
        if not self._patterns and not self._channels:
            await self.close()

    async def close(self) -> None:
        """Stop reading and release the subscriber connection."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    async def _read(self) -> None:
        backoff = 0.1
        while self._pubsub is not None:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=_POLL
                )
            except (RedisError, OSError) as exc:
                logger.warning("siox cluster: Redis subscriber failed (%r), retrying", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
                continue
            backoff = 0.1
            if message is not None:
                await self._dispatch(message)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        data = message.get("data")
        if not isinstance(channel, bytes) or not isinstance(data, bytes):
            return
        name = channel.decode("utf-8", "replace")
        if message.get("type") == "pmessage":
            pattern = message.get("pattern")
            key = pattern.decode("utf-8", "replace") if isinstance(pattern, bytes) else ""
            handler = self._patterns.get(key)
        else:
            handler = self._channels.get(name)
        if handler is not None:
            await handler(name, data)


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
        _check_client(client)
        self.client = client
        super().__init__(self._publish, key, nsp)

    async def _publish(self, channel: str, message: bytes) -> None:
        await self.client.publish(channel, message)
