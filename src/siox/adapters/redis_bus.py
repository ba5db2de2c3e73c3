"""What the Redis adapters share: the client check, the subscriber connection, the publisher.

`RedisSubscriber` is the one subscriber connection of an adapter factory, shared by its
namespaces: classic Pub/Sub (``PSUBSCRIBE``/``SUBSCRIBE``, the classic and streams adapters) or
sharded Pub/Sub (``SSUBSCRIBE``, Redis 7, the sharded adapter); it routes each message to the
handler of its channel or pattern, survives a lost connection (retrying with backoff and
subscribing again) and closes when nothing is subscribed. `redis_publisher` makes the
`siox.adapters.pubsub.OrderedPublisher` that pipelines a node's ``PUBLISH``/``SPUBLISH``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .pubsub import MessageHandler, OrderedPublisher

__all__ = ["RedisSubscriber", "check_client", "redis_publisher"]

logger = logging.getLogger("siox.cluster")

_POLL = 1.0  # seconds a read waits before checking again
_MAX_BACKOFF = 5.0


def check_client(client: aioredis.Redis) -> None:
    """Raise unless ``client`` is a ``redis.asyncio.Redis`` returning bytes."""
    if not isinstance(client, aioredis.Redis):
        raise TypeError("expected a redis.asyncio.Redis client")
    if client.connection_pool.connection_kwargs.get("decode_responses"):
        raise ValueError("the Redis client must return bytes (decode_responses=False)")


def redis_publisher(client: aioredis.Redis, command: str = "PUBLISH") -> OrderedPublisher[bytes]:
    """An `OrderedPublisher` sending with ``command`` (``PUBLISH`` or ``SPUBLISH``) on ``client``.

    A batch of one is one command; a larger batch is one pipeline (one round trip, in order).
    """

    async def send(batch: list[tuple[str, bytes]]) -> None:
        if len(batch) == 1:
            await client.execute_command(command, *batch[0])  # type: ignore[no-untyped-call]
            return
        pipe = client.pipeline(transaction=False)
        for channel, message in batch:
            pipe.execute_command(command, channel, message)
        await pipe.execute()

    return OrderedPublisher(send)


class RedisSubscriber:
    """One subscriber connection routing messages to handlers by channel or pattern.

    Args:
        client: a ``redis.asyncio.Redis`` returning bytes.
        sharded: ``SSUBSCRIBE``/``SUNSUBSCRIBE`` (channels only, subscribed again by this
            class after a lost connection) instead of ``[P]SUBSCRIBE``/``[P]UNSUBSCRIBE``
            (which redis-py subscribes again itself when it reconnects).
    """

    def __init__(self, client: aioredis.Redis, *, sharded: bool = False) -> None:
        check_client(client)
        self.client = client
        self.sharded = sharded
        self._message_type = "smessage" if sharded else "message"
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._patterns: dict[str, MessageHandler] = {}
        self._channels: dict[str, MessageHandler] = {}
        self._lost = False
        # One (un)subscription at a time: redis-py's PubSub opens its connection on its first
        # command, and two namespaces subscribing at once would each open one (the first
        # one's subscriptions then live on a connection nobody reads).
        self._lock = asyncio.Lock()

    async def _command(self, subscribe: bool, pattern: str, channels: Sequence[str]) -> None:
        pubsub = self._pubsub
        if self.sharded:
            if channels:
                command = "SSUBSCRIBE" if subscribe else "SUNSUBSCRIBE"
                await pubsub.execute_command(command, *channels)
            return
        if pattern:
            await (pubsub.psubscribe if subscribe else pubsub.punsubscribe)(pattern)
        if channels:
            await (pubsub.subscribe if subscribe else pubsub.unsubscribe)(*channels)

    async def subscribe(
        self, pattern: str, channels: Sequence[str], handler: MessageHandler
    ) -> None:
        """Route ``pattern`` (none when empty) and ``channels`` to ``handler``."""
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self.client.pubsub()
            if pattern:
                self._patterns[pattern] = handler
            for channel in channels:
                self._channels[channel] = handler
            await self._command(True, pattern, channels)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.ensure_future(self._read())

    async def unsubscribe(self, pattern: str, channels: Sequence[str]) -> None:
        """Stop routing ``pattern`` and ``channels``; close the connection when none is left."""
        self._patterns.pop(pattern, None)
        for channel in channels:
            self._channels.pop(channel, None)
        if self._pubsub is None or not (pattern or channels):
            return
        try:
            await self._command(False, pattern, channels)
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
                if self._lost and self.sharded and self._channels:
                    await self._command(True, "", list(self._channels))
                    logger.warning("siox cluster: sharded subscriptions restored")
                self._lost = False
                # (redis-py counts a sharded message as a subscription message: none ignored)
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=not self.sharded, timeout=_POLL
                )
            except (RedisError, OSError) as exc:
                logger.warning("siox cluster: Redis subscriber failed (%r), retrying", exc)
                self._lost = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
                continue
            backoff = 0.1
            if message is not None:
                await self._dispatch(message)

    async def _dispatch(self, message: dict[str, Any]) -> None:
        channel, data, kind = message.get("channel"), message.get("data"), message.get("type")
        if not isinstance(channel, bytes) or not isinstance(data, bytes):
            return
        name = channel.decode("utf-8", "replace")
        if kind == "pmessage":
            pattern = message.get("pattern")
            key = pattern.decode("utf-8", "replace") if isinstance(pattern, bytes) else ""
            handler = self._patterns.get(key)
        elif kind == self._message_type:
            handler = self._channels.get(name)
        else:
            return
        if handler is not None:
            await handler(name, data)
