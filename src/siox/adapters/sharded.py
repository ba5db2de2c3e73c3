"""The sharded Redis adapter (Redis 7 sharded Pub/Sub), wire-compatible with npm 8.3's.

npm ``@socket.io/redis-adapter`` 8.3 ``createShardedAdapter``: socket.io-adapter's cluster
messages (`siox.adapters.messages`) published with ``SPUBLISH`` on ``prefix#nsp#``; responses on
``prefix#nsp#<requester uid>#``; the server count is ``PUBSUB SHARDNUMSUB prefix#nsp#``. In
``dynamic`` mode (the default) a broadcast to exactly one room goes to that room's own channel
``prefix#nsp#room#`` unless the room name is 20 characters long (a socket id), and a node
subscribes to a room's channel only while one of its sockets is in the room: a node with no
member in a room is not sent that room's broadcasts. ``dynamic-private`` does the same for
socket-id rooms too; ``static`` uses the namespace channel only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from .base import LocalSockets
from .collision import refuse_message_collision
from .message_cluster import MessageClusterAdapter
from .messages import MessageType, decode_any, encode_sharded
from .pubsub import MessageHandler, settle
from .redis_bus import RedisSubscriber, check_client, redis_publisher
from .wire import WireError

__all__ = [
    "ShardedPubSubUnsupported",
    "ShardedRedisAdapter",
    "SubscriptionMode",
    "sharded_redis_adapter",
]

logger = logging.getLogger("siox.cluster")

SubscriptionMode = Literal["static", "dynamic", "dynamic-private"]
_MODES = ("static", "dynamic", "dynamic-private")


class ShardedPubSubUnsupported(RuntimeError):
    """The Redis server has no sharded Pub/Sub (``SSUBSCRIBE``, Redis 7.0+)."""


class ShardedSubscriber(RedisSubscriber):
    """The ``SSUBSCRIBE`` connection and the ``SPUBLISH`` queue shared by a factory's namespaces."""

    def __init__(self, client: aioredis.Redis) -> None:
        super().__init__(client, sharded=True)
        self.publisher = redis_publisher(client, "SPUBLISH")
        self._checked = False

    async def check(self) -> None:
        """Raise `ShardedPubSubUnsupported` unless the server knows ``PUBSUB SHARDNUMSUB``."""
        if self._checked:
            return
        try:
            await self.client.execute_command(  # type: ignore[no-untyped-call]
                "PUBSUB", "SHARDNUMSUB", "siox-probe"
            )
        except ResponseError as exc:
            raise ShardedPubSubUnsupported(
                "this Redis server has no sharded Pub/Sub (SSUBSCRIBE/SPUBLISH, Redis 7.0+; "
                f"it answered {exc}): use redis_adapter or redis_streams_adapter instead"
            ) from exc
        self._checked = True

    async def numsub(self, channel: str) -> int:
        """``PUBSUB SHARDNUMSUB channel``."""
        reply = await self.client.execute_command(  # type: ignore[no-untyped-call]
            "PUBSUB", "SHARDNUMSUB", channel
        )
        return int(reply[1]) if isinstance(reply, list) and len(reply) > 1 else 0

    async def subscribe(
        self, pattern: str, channels: Sequence[str], handler: MessageHandler
    ) -> None:
        """``SSUBSCRIBE channels`` (no pattern), routing their messages to ``handler``."""
        await self.check()
        await super().subscribe(pattern, channels, handler)

    async def close(self) -> None:
        """Send what is queued (for 5 s at most), stop reading, release the connection."""
        await self.publisher.flush(5.0)
        await super().close()


class ShardedRedisAdapter(MessageClusterAdapter):
    """socket.io-adapter's cluster protocol over Redis sharded Pub/Sub (see the module)."""

    def __init__(
        self,
        local: LocalSockets,
        subscriber: ShardedSubscriber,
        *,
        channel_prefix: str = "socket.io",
        subscription_mode: SubscriptionMode = "dynamic",
        **options: Any,
    ) -> None:
        super().__init__(local, **options)
        self.subscriber = subscriber
        self.client = subscriber.client
        self.mode = subscription_mode
        self.prefix = channel_prefix
        self.channel = f"{channel_prefix}#{self.nsp}#"
        self.response_channel = f"{self.channel}{self.uid}#"
        self._room_channels: set[str] = set()
        self._started: asyncio.Task[None] | None = None
        with contextlib.suppress(RuntimeError):  # no loop yet: the first operation subscribes
            asyncio.get_running_loop()
            self._started = asyncio.ensure_future(self._subscribe())

    async def _subscribe(self) -> None:
        await refuse_message_collision(self.client, self.prefix, self.nsp)
        await self.subscriber.subscribe("", (self.channel, self.response_channel), self._on_raw)

    async def ready(self) -> None:
        """Subscribe if not done yet (raises `ShardedPubSubUnsupported` on Redis < 7)."""
        started = self._started
        if started is None or (started.done() and started.exception() is not None):
            started = self._started = asyncio.ensure_future(self._subscribe())
        await started

    async def close(self) -> None:
        """Unsubscribe every channel of this namespace (once a subscription under way is done)."""
        await settle(self._started)
        channels = [self.channel, self.response_channel]
        channels += [self._room_channel(room) for room in self._room_channels]
        self._room_channels.clear()
        await self.subscriber.unsubscribe("", channels)
        self._started = None
        self._requests.clear()

    async def _on_raw(self, channel: str, data: bytes) -> None:
        try:
            message = decode_any(data, self.max_message_size)
            if channel == self.response_channel:
                self.on_response(message)
            else:
                await self.on_message(message)
        except WireError as exc:
            logger.warning("siox cluster: dropped a message on %s: %s", channel, exc)
        except Exception:
            logger.exception("siox cluster: error on a message on %s (dropped)", channel)

    def _room_channel(self, room: str) -> str:
        return f"{self.channel}{room}#"

    def _channel_for(self, message: dict[str, Any]) -> str:
        data = message["data"]
        if message["type"] != MessageType.BROADCAST or "requestId" in data:
            return self.channel  # acks count every server, so they use the namespace channel
        rooms = data["opts"]["rooms"]
        if len(rooms) == 1 and (
            (self.mode == "dynamic" and len(rooms[0]) != 20) or self.mode == "dynamic-private"
        ):
            return self._room_channel(rooms[0])
        return self.channel

    async def _send(self, message: dict[str, Any]) -> str:
        await self.subscriber.publisher.publish(self._channel_for(message), encode_sharded(message))
        return ""

    async def _send_response(self, requester: str, message: dict[str, Any]) -> None:
        await self.subscriber.publisher.publish(
            f"{self.channel}{requester}#", encode_sharded(message)
        )

    async def server_count(self) -> int:
        """``PUBSUB SHARDNUMSUB`` on the namespace channel (at least 1)."""
        await self.ready()
        self._servers = max(1, await self.subscriber.numsub(self.channel))
        return self._servers

    # -- per-room subscriptions (dynamic modes) ---------------------------------------------------

    def _separate(self, room: str) -> bool:
        if self.mode == "dynamic-private":
            return True
        return self.mode == "dynamic" and not self.local.rooms.rooms_of(room)

    async def add_all(self, sid: str, rooms: Iterable[str]) -> None:
        """Put ``sid`` in ``rooms``; subscribe to the channel of each room new here."""
        rooms = tuple(rooms)
        await super().add_all(sid, rooms)
        if self.mode == "static":
            return
        new = [r for r in rooms if r not in self._room_channels and self._separate(r)]
        if new:
            self._room_channels.update(new)
            await self._change([self._room_channel(room) for room in new], subscribe=True)

    async def delete(self, sid: str, room: str) -> None:
        """Take ``sid`` out of ``room``; unsubscribe from its channel when it is empty here."""
        await super().delete(sid, room)
        await self._drop_empty((room,))

    async def delete_all(self, sid: str) -> None:
        """Take ``sid`` out of every room; unsubscribe from the rooms left empty here."""
        rooms = self.local.rooms.rooms_of(sid)
        await super().delete_all(sid)
        await self._drop_empty(rooms)

    async def _drop_empty(self, rooms: Iterable[str]) -> None:
        gone = [
            r
            for r in rooms
            if r in self._room_channels
            and not self.local.rooms.select((r,))
            and not self._kept_room(r)  # a socket that may come back (recovery) is in it
        ]
        if gone:
            self._room_channels.difference_update(gone)
            await self._change([self._room_channel(room) for room in gone], subscribe=False)

    def _rooms_released(self, rooms: list[str]) -> None:
        self._spawn(self._drop_empty(rooms))

    async def _change(self, channels: list[str], subscribe: bool) -> None:
        try:
            if subscribe:
                await self.ready()
                await self.subscriber.subscribe("", channels, self._on_raw)
            else:
                await self.subscriber.unsubscribe("", channels)
        except Exception as exc:
            logger.warning("siox cluster: room channels %s not (un)subscribed: %r", channels, exc)


def sharded_redis_adapter(
    client: aioredis.Redis,
    *,
    channel_prefix: str = "socket.io",
    subscription_mode: SubscriptionMode = "dynamic",
    requests_timeout: float = 5.0,
    max_message_size: int = 8_000_000,
    max_disconnection_duration: float | None = None,
) -> Callable[[LocalSockets], ShardedRedisAdapter]:
    """The adapter factory for ``siox.Server(adapter=...)``: the sharded Redis adapter.

    Args:
        client: a ``redis.asyncio.Redis`` returning bytes, on Redis/Valkey 7.0 or later.
        channel_prefix: the channel prefix (npm's ``channelPrefix``; the same on every server).
        subscription_mode: ``"dynamic"`` (per-room channels for rooms that are not socket
            ids), ``"dynamic-private"`` (for every room) or ``"static"`` (none).
        requests_timeout: seconds requests to other servers wait; then partial results.
        max_message_size: larger messages from Redis are logged and dropped (bytes).
        max_disconnection_duration: connection state recovery window on this node (seconds).

    Raises:
        ValueError: an unknown ``subscription_mode``.
    """
    check_client(client)
    if subscription_mode not in _MODES:
        raise ValueError(f"subscription_mode must be one of {_MODES}, not {subscription_mode!r}")
    subscriber = ShardedSubscriber(client)

    def factory(local: LocalSockets) -> ShardedRedisAdapter:
        return ShardedRedisAdapter(
            local,
            subscriber,
            channel_prefix=channel_prefix,
            subscription_mode=subscription_mode,
            requests_timeout=requests_timeout,
            max_message_size=max_message_size,
            max_disconnection_duration=max_disconnection_duration,
        )

    return factory
